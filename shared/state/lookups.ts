// Pure decisions the store's queries rest on: which port a workload serves a service port on, which
// scope a policy has (proto default GLOBAL is absent on the wire), and the IP text keys of the indexes.
import { ipString } from '../proto/index.ts';
import type { Authorization, AuthorizationScope, PortList, Service, Workload } from '../proto/types.ts';
import type { IpText, ServiceKey } from './types.ts';

/**
 * The port `w` serves `servicePort` of a service on, given its PortList for that service: the matching entry's
 * targetPort (0/absent → the service port); no list or an empty one → the service port; a non-empty list
 * without the port → undefined (the workload does not serve that port).
 */
export function targetPort(list: PortList | undefined, servicePort: number): number | undefined {
  const ports = list?.ports ?? [];
  if (ports.length === 0) return servicePort;
  const hit = ports.find((p) => (p.servicePort ?? 0) === servicePort);
  if (!hit) return undefined;
  return hit.targetPort ? hit.targetPort : servicePort;
}

/** Sparse decoding omits enum zero values: an absent scope is GLOBAL. */
export function scopeOf(p: Authorization): AuthorizationScope {
  return p.scope ?? 'GLOBAL';
}

export function serviceKeyOf(s: Service): ServiceKey {
  return `${s.namespace}/${s.hostname}` as ServiceKey;
}

export function workloadIps(w: Workload): IpText[] {
  return (w.addresses ?? []).map((b) => ipString(b) as IpText);
}

export function serviceVips(s: Service): IpText[] {
  return (s.addresses ?? []).map((a) => ipString(a.address) as IpText);
}
