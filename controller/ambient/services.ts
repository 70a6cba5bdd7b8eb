// Service derivations: a Kubernetes Service → one istio.workload Service; a ServiceEntry → one Service per host.
import type { V1Service } from '@kubernetes/client-node';
import type { GatewayAddress, IPFamilies, LoadBalancing, NetworkAddress, Port, Service } from './address-types.ts';
import type { ServiceEntry } from './inputs.ts';
import { hostAddressToBytes, ipToBytes } from './ip.ts';
import { TRAFFIC_DISTRIBUTION } from './labels.ts';
import type { Lookups, ResolvedOptions } from './lookups.ts';
import { bindWaypoint } from './waypoints.ts';

/** `<name>.<namespace>.svc.<domainSuffix>`. */
export function serviceHostname(name: string, namespace: string, domainSuffix: string): string {
  return `${name}.${namespace}.svc.${domainSuffix}`;
}

/** The xDS resource name of a Service: `<namespace>/<hostname>`. */
export function serviceResourceName(s: Pick<Service, 'namespace' | 'hostname'>): string {
  return `${s.namespace}/${s.hostname}`;
}

// Locality-aware failover across network → region → zone → subzone, as Istio maps PreferClose.
const preferClose = (): LoadBalancing => ({ routingPreference: ['NETWORK', 'REGION', 'ZONE', 'SUBZONE'], mode: 'FAILOVER' });
// internalTrafficPolicy: Local — only endpoints on the caller's node.
const nodeLocal = (): LoadBalancing => ({ routingPreference: ['NODE'], mode: 'STRICT' });

/** Load-balancing from internalTrafficPolicy (wins), the traffic-distribution annotation, or spec.trafficDistribution. */
export function loadBalancingFor(svc: V1Service): LoadBalancing | undefined {
  if (svc.spec?.internalTrafficPolicy === 'Local') return nodeLocal();
  const dist = svc.metadata?.annotations?.[TRAFFIC_DISTRIBUTION] ?? svc.spec?.trafficDistribution;
  if (dist === 'PreferClose') return preferClose();
  return undefined;
}

export function ipFamiliesFor(svc: V1Service): IPFamilies | undefined {
  const fams = svc.spec?.ipFamilies ?? [];
  if (fams.length === 0) return undefined;
  if (fams.length > 1) return 'DUAL';
  return fams[0] === 'IPv6' ? 'IPV6_ONLY' : 'IPV4_ONLY';
}

/** ClusterIPs as network addresses; headless (`None`) and unallocated services have none. */
function clusterAddresses(svc: V1Service, network: string): NetworkAddress[] {
  const ips = svc.spec?.clusterIPs?.length ? svc.spec.clusterIPs : svc.spec?.clusterIP ? [svc.spec.clusterIP] : [];
  const out: NetworkAddress[] = [];
  for (const ip of ips) {
    if (ip === 'None') continue;
    const bytes = ipToBytes(ip);
    if (bytes) out.push({ network, address: bytes });
  }
  return out;
}

function serviceWaypoint(
  meta: V1Service['metadata'],
  lookups: Lookups,
  opts: ResolvedOptions,
): GatewayAddress | undefined {
  const ns = meta?.namespace ?? '';
  const binding = bindWaypoint(meta, lookups.namespace(ns), 'service', lookups.gateway, opts.network);
  if (binding?.reason) lookups.warn(`service ${ns}/${meta?.name ?? ''}`, binding.reason);
  return binding?.address;
}

/** A Kubernetes Service → istio.workload Service. Named targetPorts become 0 (resolved per workload instead). */
export function serviceFromKube(svc: V1Service, opts: ResolvedOptions, lookups: Lookups): Service {
  const name = svc.metadata?.name ?? '';
  const namespace = svc.metadata?.namespace ?? '';
  const ports: Port[] = (svc.spec?.ports ?? []).map((p) => ({
    servicePort: p.port,
    targetPort: typeof p.targetPort === 'number' ? p.targetPort : p.targetPort === undefined ? p.port : 0,
  }));
  const out: Service = {
    name,
    namespace,
    hostname: serviceHostname(name, namespace, opts.domainSuffix),
    addresses: clusterAddresses(svc, opts.network),
    ports,
    subjectAltNames: [],
  };
  const waypoint = serviceWaypoint(svc.metadata, lookups, opts);
  if (waypoint) out.waypoint = waypoint;
  const lb = loadBalancingFor(svc);
  if (lb) out.loadBalancing = lb;
  const fam = ipFamiliesFor(svc);
  if (fam) out.ipFamilies = fam;
  return out;
}

/** ServiceEntry ports: targetPort defaults to the port number. */
export function serviceEntryPorts(se: ServiceEntry): Port[] {
  return (se.spec?.ports ?? []).map((p) => ({ servicePort: p.number, targetPort: p.targetPort || p.number }));
}

/** A ServiceEntry → one Service per host; spec.addresses that are single IPs become its VIPs. */
export function servicesFromServiceEntry(se: ServiceEntry, opts: ResolvedOptions, lookups: Lookups): Service[] {
  const name = se.metadata?.name ?? '';
  const namespace = se.metadata?.namespace ?? '';
  const addresses: NetworkAddress[] = [];
  for (const a of se.spec?.addresses ?? []) {
    const bytes = hostAddressToBytes(a);
    if (bytes) addresses.push({ network: opts.network, address: bytes });
    else lookups.warn(`serviceentry ${namespace}/${name}`, `address ${a} is not a single ip; ignored`);
  }
  const waypoint = serviceWaypoint(se.metadata, lookups, opts);
  return (se.spec?.hosts ?? []).map((host) => {
    const s: Service = {
      name,
      namespace,
      hostname: host,
      addresses: addresses.map((a) => ({ network: a.network, address: a.address })),
      ports: serviceEntryPorts(se),
      subjectAltNames: [...(se.spec?.subjectAltNames ?? [])],
    };
    if (waypoint) s.waypoint = waypoint;
    return s;
  });
}
