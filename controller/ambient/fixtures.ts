// Test fixtures: small builders for the Kubernetes / Istio objects the derivation tests feed in. Test-only.
import type { V1Container, V1Namespace, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import type { Gateway, ServiceEntry, WorkloadEntry } from './inputs.ts';
import type { ResolvedOptions } from './lookups.ts';

export const OPTS: ResolvedOptions = { clusterId: 'Kubernetes', trustDomain: 'cluster.local', network: 'net1', domainSuffix: 'cluster.local' };

export interface PodInit {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ip?: string | undefined;
  ips?: string[];
  phase?: string;
  ready?: boolean;
  node?: string;
  sa?: string;
  hostNetwork?: boolean;
  containers?: V1Container[];
  owner?: { kind: string; name: string };
  deleting?: boolean;
}

export function pod(i: PodInit = {}): V1Pod {
  const ip = 'ip' in i ? i.ip : '10.0.0.5';
  return {
    metadata: {
      name: i.name ?? 'web-7d4f8-abcde',
      namespace: i.namespace ?? 'default',
      labels: i.labels ?? {},
      annotations: i.annotations ?? {},
      ...(i.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: i.owner.kind, name: i.owner.name, uid: 'u1', controller: true }] } : {}),
      ...(i.deleting ? { deletionTimestamp: new Date(0) } : {}),
    },
    spec: {
      containers: i.containers ?? [{ name: 'app', ports: [{ name: 'http', containerPort: 8080 }] }],
      nodeName: i.node ?? 'node-a',
      serviceAccountName: i.sa ?? 'web',
      ...(i.hostNetwork ? { hostNetwork: true } : {}),
    },
    status: {
      phase: i.phase ?? 'Running',
      ...(ip ? { podIP: ip } : {}),
      ...(i.ips ? { podIPs: i.ips.map((x) => ({ ip: x })) } : {}),
      conditions: [{ type: 'Ready', status: i.ready === false ? 'False' : 'True' }],
    },
  };
}

export function namespace(name: string, labels: Record<string, string> = {}): V1Namespace {
  return { metadata: { name, labels } };
}

export function node(name: string, labels: Record<string, string> = {}): V1Node {
  return { metadata: { name, labels } };
}

export function service(
  name: string,
  i: { namespace?: string; selector?: Record<string, string>; clusterIP?: string; ports?: { port: number; targetPort?: number | string; name?: string }[]; labels?: Record<string, string>; annotations?: Record<string, string>; ipFamilies?: string[] } = {},
): V1Service {
  return {
    metadata: { name, namespace: i.namespace ?? 'default', labels: i.labels ?? {}, annotations: i.annotations ?? {} },
    spec: {
      selector: i.selector ?? { app: 'web' },
      clusterIP: i.clusterIP ?? '10.96.0.10',
      ports: i.ports ?? [{ name: 'http', port: 80, targetPort: 8080 }],
      ...(i.ipFamilies ? { ipFamilies: i.ipFamilies } : {}),
    },
  };
}

export function gateway(
  name: string,
  i: { namespace?: string; className?: string; address?: string; waypointFor?: string } = {},
): Gateway {
  return {
    metadata: { name, namespace: i.namespace ?? 'default', labels: i.waypointFor ? { 'istio.io/waypoint-for': i.waypointFor } : {} },
    spec: { gatewayClassName: i.className ?? 'istio-waypoint' },
    status: { addresses: i.address === '' ? [] : [{ type: 'IPAddress', value: i.address ?? '10.96.0.99' }] },
  };
}

export function serviceEntry(name: string, spec: NonNullable<ServiceEntry['spec']>, namespace = 'default', labels: Record<string, string> = {}): ServiceEntry {
  return { metadata: { name, namespace, labels }, spec };
}

export function workloadEntry(name: string, spec: NonNullable<WorkloadEntry['spec']>, namespace = 'default', labels: Record<string, string> = {}): WorkloadEntry {
  return { metadata: { name, namespace, labels }, spec };
}

export function bytes(...b: number[]): Uint8Array {
  return Uint8Array.from(b);
}
