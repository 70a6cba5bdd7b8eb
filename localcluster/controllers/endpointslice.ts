// Pure EndpointSlice derivation. For each Service with a selector: one slice per distinct port
// set (named targetPorts can resolve differently per pod), endpoints for selected pods that have
// an IP (ready = pod Ready and not terminating; serving = pod Ready; terminating), sorted, with a
// deterministic name so reconciling is an idempotent upsert. `kubernetes` (default) and `kube-dns`
// (kube-system) point at the control-plane addresses. Managed slices nobody wants are deleted.
import type { V1EndpointSlice, V1Pod, V1Service, V1ServicePort } from '@kubernetes/client-node';
import { canonicalJson, isTerminal, isTerminating, stableHash } from './util.ts';
import { podReady } from '../../shared/ambient/enrolment.ts';
import { labelsMatch } from '../../shared/labels.ts';

export const serviceNameLabel = 'kubernetes.io/service-name';
export const managedByLabel = 'endpointslice.kubernetes.io/managed-by';
export const managedBy = 'endpointslice-controller.k8s.io';

export interface ControlPlane { apiAddress: string; apiPort: number; dnsAddress: string }
export const defaultControlPlane: ControlPlane = { apiAddress: '10.100.0.1', apiPort: 6443, dnsAddress: '10.100.0.1' };

export interface SlicePort { name: string; port: number; protocol: string; appProtocol?: string }

export interface SlicePlan {
  /** Desired slices not matching what exists (create when absent, else replace). */
  upsert: V1EndpointSlice[];
  /** namespace/name of managed slices to delete. */
  delete: Array<{ namespace: string; name: string }>;
}

/** A Service port's target on one pod, or undefined when a named targetPort is not on the pod. */
export function resolveTargetPort(sp: V1ServicePort, pod: V1Pod): number | undefined {
  const t = sp.targetPort as number | string | undefined;
  if (t === undefined || t === null || t === '') return sp.port;
  if (typeof t === 'number') return t;
  if (/^\d+$/.test(t)) return Number(t);
  for (const c of pod.spec?.containers ?? []) {
    const found = c.ports?.find((p) => p.name === t && (p.protocol ?? 'TCP') === (sp.protocol ?? 'TCP'));
    if (found) return found.containerPort;
  }
  return undefined;
}

function slicePortsFor(svc: V1Service, pod: V1Pod): SlicePort[] {
  const out: SlicePort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const port = resolveTargetPort(sp, pod);
    if (port === undefined) continue;
    const p: SlicePort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
    if (sp.appProtocol) p.appProtocol = sp.appProtocol;
    out.push(p);
  }
  return out;
}

function endpointFor(pod: V1Pod): Record<string, unknown> {
  const ready = podReady(pod);
  const terminating = isTerminating(pod);
  const ep: Record<string, unknown> = {
    addresses: [pod.status?.podIP],
    conditions: { ready: ready && !terminating, serving: ready, terminating },
    targetRef: { kind: 'Pod', name: pod.metadata?.name, namespace: pod.metadata?.namespace, uid: pod.metadata?.uid },
  };
  if (pod.spec?.nodeName) ep.nodeName = pod.spec.nodeName;
  return ep;
}

function slice(svc: V1Service, name: string, ports: SlicePort[], endpoints: Array<Record<string, unknown>>): V1EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name,
      namespace: svc.metadata?.namespace,
      labels: { [serviceNameLabel]: svc.metadata?.name ?? '', [managedByLabel]: managedBy },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: svc.metadata?.name ?? '', uid: svc.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true }],
    },
    addressType: 'IPv4',
    ports,
    endpoints: endpoints as unknown as V1EndpointSlice['endpoints'],
  };
}

const staticEndpoint = (ip: string): Record<string, unknown> => ({ addresses: [ip], conditions: { ready: true, serving: true, terminating: false } });

/** Slices one Service should have. */
export function desiredSlices(svc: V1Service, pods: V1Pod[], cp: ControlPlane): V1EndpointSlice[] {
  const ns = svc.metadata?.namespace;
  const name = svc.metadata?.name ?? '';
  if (ns === 'default' && name === 'kubernetes') {
    return [slice(svc, 'kubernetes', [{ name: 'https', port: cp.apiPort, protocol: 'TCP' }], [staticEndpoint(cp.apiAddress)])];
  }
  if (ns === 'kube-system' && name === 'kube-dns') {
    const nameFor = (proto: string, dflt: string): string => svc.spec?.ports?.find((p) => (p.protocol ?? 'TCP') === proto && p.port === 53)?.name ?? dflt;
    return [slice(svc, 'kube-dns', [{ name: nameFor('UDP', 'dns'), port: 53, protocol: 'UDP' }, { name: nameFor('TCP', 'dns-tcp'), port: 53, protocol: 'TCP' }], [staticEndpoint(cp.dnsAddress)])];
  }
  const selector = svc.spec?.selector;
  if (!selector || Object.keys(selector).length === 0) return [];
  const groups = new Map<string, { ports: SlicePort[]; endpoints: Array<Record<string, unknown>> }>();
  const selected = pods
    .filter((p) => p.metadata?.namespace === ns && labelsMatch(selector, p.metadata?.labels) && p.status?.podIP && !isTerminal(p))
    .sort((a, b) => (a.status?.podIP ?? '').localeCompare(b.status?.podIP ?? '') || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  for (const pod of selected) {
    const ports = slicePortsFor(svc, pod);
    const key = canonicalJson(ports);
    const g = groups.get(key) ?? { ports, endpoints: [] };
    g.endpoints.push(endpointFor(pod));
    groups.set(key, g);
  }
  if (groups.size === 0) return [slice(svc, `${name}-${stableHash([]).slice(0, 5)}`, [], [])];
  return [...groups.values()].map((g) => slice(svc, `${name}-${stableHash(g.ports).slice(0, 5)}`, g.ports, g.endpoints));
}

/** The parts of a slice this controller owns; equal projections mean no write is needed. */
export function sliceProjection(s: V1EndpointSlice): string {
  return canonicalJson({
    labels: { svc: s.metadata?.labels?.[serviceNameLabel], by: s.metadata?.labels?.[managedByLabel] },
    owner: (s.metadata?.ownerReferences ?? []).map((o) => o.uid),
    addressType: s.addressType,
    ports: (s.ports ?? []).map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP', appProtocol: p.appProtocol })),
    endpoints: (s.endpoints ?? []).map((e) => ({
      addresses: e.addresses,
      conditions: { ready: e.conditions?.ready, serving: e.conditions?.serving, terminating: e.conditions?.terminating },
      nodeName: e.nodeName,
      targetRef: e.targetRef ? { kind: e.targetRef.kind, name: e.targetRef.name, namespace: e.targetRef.namespace, uid: e.targetRef.uid } : undefined,
    })),
  });
}

export function planEndpointSlices(services: V1Service[], pods: V1Pod[], slices: V1EndpointSlice[], cp: ControlPlane = defaultControlPlane): SlicePlan {
  const existing = new Map<string, V1EndpointSlice>();
  for (const s of slices) if (s.metadata?.labels?.[managedByLabel] === managedBy) existing.set(`${s.metadata?.namespace}/${s.metadata?.name}`, s);
  const wanted = new Set<string>();
  const upsert: V1EndpointSlice[] = [];
  for (const svc of services) {
    if (isTerminating(svc)) continue;
    for (const want of desiredSlices(svc, pods, cp)) {
      const key = `${want.metadata?.namespace}/${want.metadata?.name}`;
      wanted.add(key);
      const have = existing.get(key);
      if (!have || sliceProjection(have) !== sliceProjection(want)) upsert.push(want);
    }
  }
  const del = [...existing.entries()].filter(([k]) => !wanted.has(k)).map(([, s]) => ({ namespace: s.metadata?.namespace ?? '', name: s.metadata?.name ?? '' }));
  return { upsert, delete: del };
}
