// Builders for the controllers' table tests.
import type { V1Node, V1Pod } from '@kubernetes/client-node';

export function node(name: string, labels: Record<string, string> = {}, ready = true, unschedulable = false): V1Node {
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
    spec: { unschedulable },
    status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

export interface PodOpts {
  ns?: string; node?: string; labels?: Record<string, string>; ready?: boolean; ip?: string; owner?: { uid: string; kind?: string };
  phase?: string; nodeSelector?: Record<string, string>; created?: string; terminating?: boolean; ports?: Array<{ name: string; containerPort: number }>;
}

export function pod(name: string, o: PodOpts = {}): V1Pod {
  return {
    metadata: {
      name, namespace: o.ns ?? 'default', uid: `uid-${name}`, labels: o.labels,
      creationTimestamp: (o.created ?? '2026-01-01T00:00:00Z') as unknown as Date,
      deletionTimestamp: o.terminating ? ('2026-01-01T00:05:00Z' as unknown as Date) : undefined,
      ownerReferences: o.owner ? [{ apiVersion: 'apps/v1', kind: o.owner.kind ?? 'Deployment', name: 'owner', uid: o.owner.uid, controller: true }] : undefined,
    },
    spec: { nodeName: o.node, nodeSelector: o.nodeSelector, containers: [{ name: 'c', image: 'img', ports: o.ports }] },
    status: { phase: o.phase ?? 'Running', podIP: o.ip, conditions: o.ready === undefined ? [] : [{ type: 'Ready', status: o.ready ? 'True' : 'False' }] },
  };
}
