// Where a backend reference leads: the Service in the xDS state, the service port, and its healthy endpoints (pods
// with their target port), narrowed to a DestinationRule subset when one is named. Pure over the state and config.
import { ipString } from '../../shared/proto/ip.ts';
import type { Service, StateView, Workload } from '../../shared/state/types.ts';
import type { BackendRef, DestinationPolicy, TrafficPolicy } from '../../shared/waypoint/config.ts';

export interface ResolvedEndpoint {
  /** `uid|ip|port`: the key of load-balancing, circuit-breaking and outlier state. */
  id: string;
  workload: Workload;
  ip: string;
  port: number;
}

export interface Cluster {
  /** `service|port|subset`: one load-balancing / circuit-breaking domain, like an Envoy cluster. */
  name: string;
  service: Service;
  port: number;
  subset?: string;
  policy: TrafficPolicy;
  endpoints: ResolvedEndpoint[];
}

export type ClusterError = { code: 'NO_SERVICE' | 'NO_SUBSET' | 'NO_PORT'; message: string };

export function workloadIp(w: Workload): string | undefined {
  const raw = (w.addresses ?? []).find((a) => a.length === 4) ?? w.addresses?.[0];
  return raw ? ipString(raw) : undefined;
}

function endpointOf(w: Workload, port: number): ResolvedEndpoint | undefined {
  const ip = workloadIp(w);
  return ip ? { id: `${w.uid}|${ip}|${port}`, workload: w, ip, port } : undefined;
}

/** The destination's policy for a port and subset: port-level settings, then the subset's (already merged by the controller). */
export function policyFor(d: DestinationPolicy | undefined, port: number, subset: string | undefined): TrafficPolicy {
  if (!d) return {};
  if (subset) {
    const s = d.subsets.find((x) => x.name === subset);
    const atPort = s?.ports?.find((p) => p.port === port);
    if (atPort) return atPort.policy;
    if (s?.policy) return s.policy;
  }
  return d.ports?.find((p) => p.port === port)?.policy ?? d.policy;
}

export function resolveCluster(
  state: Pick<StateView, 'serviceByKey' | 'endpointsOf'>,
  destination: (serviceKey: string) => DestinationPolicy | undefined,
  ref: BackendRef,
  requestPort: number,
): Cluster | ClusterError {
  const service = state.serviceByKey(ref.service as never);
  if (!service) return { code: 'NO_SERVICE', message: `service ${ref.service} is not in the mesh state` };
  const port = ref.port ?? requestPort;
  if (!(service.ports ?? []).some((p) => p.servicePort === port)) {
    return { code: 'NO_PORT', message: `service ${ref.service} has no port ${port}` };
  }
  const d = destination(ref.service);
  let members: Set<string> | undefined;
  if (ref.subset) {
    const s = d?.subsets.find((x) => x.name === ref.subset);
    if (!s) return { code: 'NO_SUBSET', message: `subset ${ref.subset} of ${ref.service} is not defined by any DestinationRule` };
    members = new Set(s.workloads);
  }
  const endpoints: ResolvedEndpoint[] = [];
  for (const e of state.endpointsOf(ref.service as never, port)) {
    if (e.workload.status === 'UNHEALTHY') continue;
    if (members && !members.has(e.workload.uid)) continue;
    const r = endpointOf(e.workload, e.port);
    if (r) endpoints.push(r);
  }
  return { name: `${ref.service}|${port}|${ref.subset ?? ''}`, service, port, ...(ref.subset ? { subset: ref.subset } : {}), policy: policyFor(d, port, ref.subset), endpoints };
}

/** A pod addressed directly (a workload-bound waypoint): a one-endpoint cluster. */
export function workloadCluster(w: Workload, port: number): Cluster | ClusterError {
  const e = endpointOf(w, port);
  if (!e) return { code: 'NO_SERVICE', message: `workload ${w.uid} has no address` };
  return { name: `${w.uid}|${port}|`, service: { name: w.name ?? '', namespace: w.namespace ?? '', hostname: w.name ?? w.uid }, port, policy: {}, endpoints: [e] };
}
