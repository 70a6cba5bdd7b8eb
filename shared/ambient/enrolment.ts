// Enrolment: whether a pod is in the ambient mesh (captured by its node's ztunnel) and whether it yields a Workload.
import type { V1Namespace, V1Pod } from '@kubernetes/client-node';
import { DATAPLANE_MODE, SIDECAR_STATUS } from './keys.ts';

export type CaptureReason =
  | 'enrolled-namespace'
  | 'enrolled-pod'
  | 'opted-out'
  | 'not-enrolled'
  | 'host-network'
  | 'sidecar-injected';

export interface CaptureDecision {
  captured: boolean;
  reason: CaptureReason;
}

/** Whether ztunnel captures this pod's traffic (HBONE), with the reason for logs and tests. */
export function captureDecision(pod: V1Pod, namespace: V1Namespace | undefined): CaptureDecision {
  const podMode = pod.metadata?.labels?.[DATAPLANE_MODE];
  if (podMode === 'none') return { captured: false, reason: 'opted-out' };
  if (pod.spec?.hostNetwork) return { captured: false, reason: 'host-network' };
  const sidecar = pod.metadata?.annotations?.[SIDECAR_STATUS] !== undefined
    || (pod.spec?.containers ?? []).some((c) => c.name === 'istio-proxy')
    || (pod.spec?.initContainers ?? []).some((c) => c.name === 'istio-proxy');
  if (sidecar) return { captured: false, reason: 'sidecar-injected' };
  if (podMode === 'ambient') return { captured: true, reason: 'enrolled-pod' };
  if (namespace?.metadata?.labels?.[DATAPLANE_MODE] === 'ambient') return { captured: true, reason: 'enrolled-namespace' };
  return { captured: false, reason: 'not-enrolled' };
}

/** Pod IPs (status.podIPs, else status.podIP), in order. */
export function podIPs(pod: V1Pod): string[] {
  const ips = (pod.status?.podIPs ?? []).map((p) => p.ip).filter((ip): ip is string => !!ip);
  if (ips.length === 0 && pod.status?.podIP) return [pod.status.podIP];
  return ips;
}

/** A pod yields a Workload only while it has an IP, is not terminal and is not being deleted. */
export function podHasWorkload(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  if (pod.metadata?.deletionTimestamp) return false;
  return podIPs(pod).length > 0;
}

/** Ready condition True. */
export function podReady(pod: V1Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}
