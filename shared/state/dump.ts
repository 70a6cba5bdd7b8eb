// Pure projection of the xDS state into the JSON of the admin `/config_dump`, shaped like Istio ztunnel's:
// `workloads[]`, `services[]` (with their endpoints), `policies[]`; IPs as text, enums in ztunnel's spelling.
import { ipString } from '../proto/index.ts';
import type { Authorization, CidrAddress, GatewayAddress, Match, Service, StringMatch, Workload } from '../proto/types.ts';
import { scopeOf, serviceKeyOf, targetPort } from './lookups.ts';

export interface WorkloadDump {
  uid: string;
  workloadIps: string[];
  protocol: 'HBONE' | 'TCP';
  name: string;
  namespace: string;
  serviceAccount: string;
  trustDomain: string;
  workloadName: string;
  workloadType: string;
  canonicalName: string;
  canonicalRevision: string;
  node: string;
  network: string;
  clusterId: string;
  status: 'Healthy' | 'Unhealthy';
  networkMode: 'Standard' | 'HostNetwork';
  hostname?: string;
  waypoint?: GatewayDump;
  networkGateway?: GatewayDump;
  nativeTunnel?: boolean;
  locality?: { region: string; zone: string; subzone: string };
  /** `namespace/hostname` of the services this workload backs. */
  services: string[];
  authorizationPolicies: string[];
  capacity: number;
}

export interface GatewayDump {
  /** `namespace/hostname` or `network/ip`. */
  destination: string;
  hboneMtlsPort: number;
}

export interface EndpointDump {
  workloadUid: string;
  service: string;
  /** service port → target port, as text keys. */
  port: Record<string, number>;
}

export interface ServiceDump {
  name: string;
  namespace: string;
  hostname: string;
  /** `network/ip`. */
  vips: string[];
  /** service port → target port (0: the workload's own mapping decides). */
  ports: Record<string, number>;
  endpoints: Record<string, EndpointDump>;
  subjectAltNames: string[];
  waypoint?: GatewayDump;
  loadBalancer?: { routingPreferences: string[]; mode: string; healthPolicy: string };
  ipFamilies?: string;
}

export interface PolicyDump {
  name: string;
  namespace: string;
  scope: 'Global' | 'Namespace' | 'WorkloadSelector';
  action: 'Allow' | 'Deny';
  /** rules (OR) → clauses (AND) → matches (OR), with IPs as CIDR text. */
  rules: Array<Array<Array<Record<string, unknown>>>>;
  dryRun: false;
}

export interface StateDump {
  workloads: WorkloadDump[];
  services: ServiceDump[];
  policies: PolicyDump[];
}

function gateway(g: GatewayAddress | undefined): GatewayDump | undefined {
  if (!g) return undefined;
  let destination = '';
  if (g.hostname) destination = `${g.hostname.namespace}/${g.hostname.hostname}`;
  else if (g.address) destination = `${g.address.network ?? ''}/${ipString(g.address.address)}`;
  return { destination, hboneMtlsPort: g.hboneMtlsPort ?? 0 };
}

const pascal = (s: string): string => s.toLowerCase().replace(/(^|_)([a-z])/g, (_m, _u, c: string) => c.toUpperCase());

export function dumpWorkload(w: Workload): WorkloadDump {
  const out: WorkloadDump = {
    uid: w.uid,
    workloadIps: (w.addresses ?? []).map((b) => ipString(b)),
    protocol: w.tunnelProtocol === 'HBONE' ? 'HBONE' : 'TCP',
    name: w.name ?? '',
    namespace: w.namespace ?? '',
    serviceAccount: w.serviceAccount ?? '',
    trustDomain: w.trustDomain ?? '',
    workloadName: w.workloadName ?? '',
    workloadType: (w.workloadType ?? 'DEPLOYMENT').toLowerCase(),
    canonicalName: w.canonicalName ?? '',
    canonicalRevision: w.canonicalRevision ?? '',
    node: w.node ?? '',
    network: w.network ?? '',
    clusterId: w.clusterId ?? '',
    status: w.status === 'UNHEALTHY' ? 'Unhealthy' : 'Healthy',
    networkMode: w.networkMode === 'HOST_NETWORK' ? 'HostNetwork' : 'Standard',
    services: Object.keys(w.services ?? {}).sort(),
    authorizationPolicies: [...(w.authorizationPolicies ?? [])],
    capacity: w.capacity?.value ?? 1,
  };
  if (w.hostname) out.hostname = w.hostname;
  if (w.waypoint) out.waypoint = gateway(w.waypoint);
  if (w.networkGateway) out.networkGateway = gateway(w.networkGateway);
  if (w.nativeTunnel) out.nativeTunnel = true;
  if (w.locality) out.locality = { region: w.locality.region ?? '', zone: w.locality.zone ?? '', subzone: w.locality.subzone ?? '' };
  return out;
}

/** `endpoints`: the workloads listing this service, each with its port map for the service's ports. */
export function dumpService(s: Service, backends: Iterable<Workload>): ServiceDump {
  const key = serviceKeyOf(s);
  const endpoints: Record<string, EndpointDump> = {};
  for (const w of backends) {
    const port: Record<string, number> = {};
    for (const p of s.ports ?? []) {
      const t = targetPort(w.services?.[key], p.servicePort ?? 0);
      if (t !== undefined) port[String(p.servicePort ?? 0)] = t;
    }
    endpoints[w.uid] = { workloadUid: w.uid, service: key, port };
  }
  const out: ServiceDump = {
    name: s.name,
    namespace: s.namespace,
    hostname: s.hostname,
    vips: (s.addresses ?? []).map((a) => `${a.network ?? ''}/${ipString(a.address)}`),
    ports: Object.fromEntries((s.ports ?? []).map((p) => [String(p.servicePort ?? 0), p.targetPort ?? 0])),
    endpoints,
    subjectAltNames: [...(s.subjectAltNames ?? [])],
  };
  if (s.waypoint) out.waypoint = gateway(s.waypoint);
  if (s.loadBalancing) {
    out.loadBalancer = {
      routingPreferences: (s.loadBalancing.routingPreference ?? []).map(pascal),
      mode: pascal(s.loadBalancing.mode ?? 'UNSPECIFIED_MODE'),
      healthPolicy: pascal(s.loadBalancing.healthPolicy ?? 'ONLY_HEALTHY'),
    };
  }
  if (s.ipFamilies) out.ipFamilies = s.ipFamilies;
  return out;
}

const cidr = (c: CidrAddress): string => `${ipString(c.address)}/${c.length ?? 0}`;

function stringMatch(m: StringMatch): Record<string, string | true> {
  if ('exact' in m) return { exact: m.exact };
  if ('prefix' in m) return { prefix: m.prefix };
  if ('suffix' in m) return { suffix: m.suffix };
  return { presence: true };
}

function dumpMatch(m: Match): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const strings = ['namespaces', 'notNamespaces', 'principals', 'notPrincipals'] as const;
  const cidrs = ['sourceIps', 'notSourceIps', 'destinationIps', 'notDestinationIps'] as const;
  for (const k of strings) if (m[k]?.length) out[k] = m[k]!.map(stringMatch);
  for (const k of cidrs) if (m[k]?.length) out[k] = m[k]!.map(cidr);
  if (m.destinationPorts?.length) out.destinationPorts = [...m.destinationPorts];
  if (m.notDestinationPorts?.length) out.notDestinationPorts = [...m.notDestinationPorts];
  return out;
}

export function dumpPolicy(p: Authorization): PolicyDump {
  return {
    name: p.name,
    namespace: p.namespace,
    scope: pascal(scopeOf(p)) as PolicyDump['scope'],
    action: p.action === 'DENY' ? 'Deny' : 'Allow',
    rules: (p.rules ?? []).map((r) => (r.clauses ?? []).map((c) => (c.matches ?? []).map(dumpMatch))),
    dryRun: false,
  };
}
