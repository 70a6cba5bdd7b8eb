// Workload derivations: a Pod, a WorkloadEntry, or a ServiceEntry's inline endpoints → istio.workload Workloads,
// including which Services (and ServiceEntries) select them and on which ports.
import type { V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import type { Locality, PortList, Workload } from './address-types.ts';
import { captureDecision, podHasWorkload, podIPs, podReady } from '../../shared/ambient/enrolment.ts';
import type { ServiceEntry, WorkloadEntry, WorkloadEntrySpec } from './inputs.ts';
import { ipToBytes } from './ip.ts';
import { DATAPLANE_MODE, canonicalService, selectsNonEmpty, workloadName } from './labels.ts';
import type { Lookups, ResolvedOptions } from './lookups.ts';
import { serviceEntryPorts, serviceHostname } from './services.ts';
import { bindWaypoint } from './waypoints.ts';

export function podUid(clusterId: string, namespace: string, name: string): string {
  return `${clusterId}//Pod/${namespace}/${name}`;
}

export function workloadEntryUid(clusterId: string, namespace: string, name: string): string {
  return `${clusterId}/networking.istio.io/WorkloadEntry/${namespace}/${name}`;
}

export function serviceEntryEndpointUid(clusterId: string, namespace: string, name: string, address: string): string {
  return `${clusterId}/networking.istio.io/ServiceEntry/${namespace}/${name}/${address}`;
}

/** Locality from the node's well-known topology labels; undefined when the node carries none. */
export function nodeLocality(node: V1Node | undefined): Locality | undefined {
  const l = node?.metadata?.labels ?? {};
  const region = l['topology.kubernetes.io/region'] ?? '';
  const zone = l['topology.kubernetes.io/zone'] ?? '';
  const subzone = l['topology.istio.io/subzone'] ?? '';
  return region || zone || subzone ? { region, zone, subzone } : undefined;
}

/** Resolve a named target port against the pod's container ports; undefined when no container declares it. */
function namedContainerPort(pod: V1Pod, name: string): number | undefined {
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) if (p.name === name) return p.containerPort;
  }
  return undefined;
}

/** Services map of a pod: every selecting Service (and selecting ServiceEntry host) → its ports on this pod. */
export function podServices(pod: V1Pod, services: Iterable<V1Service>, entries: Iterable<ServiceEntry>, domainSuffix: string): Record<string, PortList> {
  const labels = pod.metadata?.labels;
  const out: Record<string, PortList> = {};
  for (const svc of services) {
    if (svc.metadata?.namespace !== pod.metadata?.namespace || !selectsNonEmpty(svc.spec?.selector, labels)) continue;
    const ports = [];
    for (const p of svc.spec?.ports ?? []) {
      let target: number | undefined;
      if (typeof p.targetPort === 'string') target = namedContainerPort(pod, p.targetPort);
      else target = p.targetPort ?? p.port;
      if (target === undefined) continue; // named port this pod does not expose: not reachable through it
      ports.push({ servicePort: p.port, targetPort: target });
    }
    const ns = svc.metadata?.namespace ?? '';
    out[`${ns}/${serviceHostname(svc.metadata?.name ?? '', ns, domainSuffix)}`] = { ports };
  }
  addServiceEntryServices(out, pod.metadata?.namespace, labels, entries, undefined);
  return out;
}

function addServiceEntryServices(
  out: Record<string, PortList>,
  namespace: string | undefined,
  labels: Record<string, string> | undefined,
  entries: Iterable<ServiceEntry>,
  portOverrides: Record<string, number> | undefined,
): void {
  for (const se of entries) {
    if (se.metadata?.namespace !== namespace || !selectsNonEmpty(se.spec?.workloadSelector?.labels, labels)) continue;
    const specPorts = se.spec?.ports ?? [];
    const ports = serviceEntryPorts(se).map((p, i) => {
      const name = specPorts[i]?.name;
      const override = name ? portOverrides?.[name] : undefined;
      return override ? { servicePort: p.servicePort, targetPort: override } : p;
    });
    for (const host of se.spec?.hosts ?? []) out[`${namespace ?? ''}/${host}`] = { ports: ports.map((p) => ({ ...p })) };
  }
}

/** A Pod → Workload, or undefined when it has no IP, is terminal or is being deleted. */
export function workloadFromPod(pod: V1Pod, opts: ResolvedOptions, lookups: Lookups): Workload | undefined {
  if (!podHasWorkload(pod)) return undefined;
  const name = pod.metadata?.name ?? '';
  const namespace = pod.metadata?.namespace ?? '';
  const addresses: Uint8Array[] = [];
  for (const ip of podIPs(pod)) {
    const bytes = ipToBytes(ip);
    if (!bytes) {
      lookups.warn(`pod ${namespace}/${name}`, `pod ip ${ip} is not an ip address; no workload`);
      return undefined;
    }
    addresses.push(bytes);
  }
  const ns = lookups.namespace(namespace);
  const wlName = workloadName(pod);
  const canonical = canonicalService(pod.metadata?.labels, wlName);
  const w: Workload = {
    uid: podUid(opts.clusterId, namespace, name),
    name,
    namespace,
    addresses,
    hostname: '',
    network: opts.network,
    tunnelProtocol: captureDecision(pod, ns).captured ? 'HBONE' : 'NONE',
    trustDomain: opts.trustDomain,
    serviceAccount: pod.spec?.serviceAccountName || 'default',
    node: pod.spec?.nodeName ?? '',
    canonicalName: canonical.name,
    canonicalRevision: canonical.revision,
    workloadType: 'POD',
    workloadName: wlName,
    services: podServices(pod, lookups.services(namespace), lookups.serviceEntries(namespace), opts.domainSuffix),
    authorizationPolicies: [...lookups.policies(namespace, pod.metadata?.labels ?? {})].sort(),
    status: podReady(pod) ? 'HEALTHY' : 'UNHEALTHY',
    clusterId: opts.clusterId,
  };
  if (pod.spec?.hostNetwork) w.networkMode = 'HOST_NETWORK';
  const binding = bindWaypoint(pod.metadata, ns, 'workload', lookups.gateway, opts.network);
  if (binding?.reason) lookups.warn(`pod ${namespace}/${name}`, binding.reason);
  if (binding?.address) w.waypoint = binding.address;
  const locality = pod.spec?.nodeName ? nodeLocality(lookups.node(pod.spec.nodeName)) : undefined;
  if (locality) w.locality = locality;
  return w;
}

/** Locality string `region/zone/subzone` of a WorkloadEntry. */
function parseLocality(s: string | undefined): Locality | undefined {
  if (!s) return undefined;
  const [region = '', zone = '', subzone = ''] = s.split('/');
  return { region, zone, subzone };
}

interface EntryWorkloadInput {
  uid: string;
  name: string;
  namespace: string;
  spec: WorkloadEntrySpec;
  labels: Record<string, string>;
  meta: WorkloadEntry['metadata'];
  services: Record<string, PortList>;
}

function entryWorkload(i: EntryWorkloadInput, opts: ResolvedOptions, lookups: Lookups): Workload {
  const wlName = i.name;
  const canonical = canonicalService(i.labels, wlName);
  const ip = i.spec.address ? ipToBytes(i.spec.address) : undefined;
  const w: Workload = {
    uid: i.uid,
    name: i.name,
    namespace: i.namespace,
    addresses: ip ? [ip] : [],
    hostname: ip ? '' : (i.spec.address ?? ''),
    network: i.spec.network || opts.network,
    // WorkloadEntries are captured only when they say so themselves.
    tunnelProtocol: i.labels[DATAPLANE_MODE] === 'ambient' ? 'HBONE' : 'NONE',
    trustDomain: opts.trustDomain,
    serviceAccount: i.spec.serviceAccount || 'default',
    node: '',
    canonicalName: canonical.name,
    canonicalRevision: canonical.revision,
    workloadType: 'POD',
    workloadName: wlName,
    services: i.services,
    authorizationPolicies: [...lookups.policies(i.namespace, i.labels)].sort(),
    status: 'HEALTHY',
    clusterId: opts.clusterId,
  };
  const binding = bindWaypoint({ ...i.meta, labels: { ...i.meta?.labels, ...i.labels } }, lookups.namespace(i.namespace), 'workload', lookups.gateway, opts.network);
  if (binding?.reason) lookups.warn(`workload ${i.uid}`, binding.reason);
  if (binding?.address) w.waypoint = binding.address;
  const locality = parseLocality(i.spec.locality);
  if (locality) w.locality = locality;
  return w;
}

/** A WorkloadEntry → Workload; Services and ServiceEntries in its namespace may select it (spec.ports remap targets). */
export function workloadFromWorkloadEntry(we: WorkloadEntry, opts: ResolvedOptions, lookups: Lookups): Workload {
  const name = we.metadata?.name ?? '';
  const namespace = we.metadata?.namespace ?? '';
  const spec = we.spec ?? {};
  const labels = { ...we.metadata?.labels, ...spec.labels };
  const services: Record<string, PortList> = {};
  for (const svc of lookups.services(namespace)) {
    if (!selectsNonEmpty(svc.spec?.selector, labels)) continue;
    const ports = (svc.spec?.ports ?? []).map((p) => {
      const override = p.name ? spec.ports?.[p.name] : undefined;
      const target = override ?? (typeof p.targetPort === 'number' ? p.targetPort : p.targetPort === undefined ? p.port : 0);
      return { servicePort: p.port, targetPort: target };
    });
    services[`${namespace}/${serviceHostname(svc.metadata?.name ?? '', namespace, opts.domainSuffix)}`] = { ports };
  }
  addServiceEntryServices(services, namespace, labels, lookups.serviceEntries(namespace), spec.ports);
  return entryWorkload(
    { uid: workloadEntryUid(opts.clusterId, namespace, name), name, namespace, spec, labels, meta: we.metadata, services },
    opts,
    lookups,
  );
}

/** A ServiceEntry's inline `spec.endpoints` → one Workload each (none when it selects workloads instead). */
export function workloadsFromServiceEntry(se: ServiceEntry, opts: ResolvedOptions, lookups: Lookups): Workload[] {
  if (se.spec?.workloadSelector) return [];
  const name = se.metadata?.name ?? '';
  const namespace = se.metadata?.namespace ?? '';
  const specPorts = se.spec?.ports ?? [];
  return (se.spec?.endpoints ?? []).map((ep) => {
    const ports = serviceEntryPorts(se).map((p, i) => {
      const portName = specPorts[i]?.name;
      const override = portName ? ep.ports?.[portName] : undefined;
      return override ? { servicePort: p.servicePort, targetPort: override } : p;
    });
    const services: Record<string, PortList> = {};
    for (const host of se.spec?.hosts ?? []) services[`${namespace}/${host}`] = { ports: ports.map((p) => ({ ...p })) };
    return entryWorkload(
      {
        uid: serviceEntryEndpointUid(opts.clusterId, namespace, name, ep.address ?? ''),
        name,
        namespace,
        spec: ep,
        labels: { ...ep.labels },
        meta: se.metadata,
        services,
      },
      opts,
      lookups,
    );
  });
}
