// What the node proxy's DNS proxy answers itself, pure: A/AAAA for the hostnames of mesh Services (Kubernetes
// Services `name.ns.svc.cluster.local` and ServiceEntry hosts), like istio/ztunnel's DNS proxy. Everything it
// does not know is for the pod's upstream resolver (the caller forwards).
//
// - A VIP Service answers with its VIPs of the asked family; a known name with VIPs only of the other family
//   answers NOERROR with no records: an AAAA query for a v4-only Service must not go upstream, which may not
//   know the name (a ServiceEntry host) and would answer NXDOMAIN, making resolvers that ask A and AAAA
//   together give up on the name.
// - A headless Service (no VIPs) answers with its endpoints' workload IPs (healthy ones unless the Service
//   allows all); with none of either family, the query is forwarded, so the upstream's authoritative answer
//   (the cluster DNS's NXDOMAIN, or a real record for an external DNS ServiceEntry) stands.
// - Other types (SRV, TXT, PTR ...) and classes are forwarded.
import { CLASS_IN, TYPE, type Question, type ResourceRecord } from '../../shared/dns/index.ts';
import { ipString } from '../../shared/proto/ip.ts';
import type { Service, StateView } from '../types.ts';

export type DnsView = Pick<StateView, 'serviceByHostname' | 'allWorkloads'>;

/** Seconds; short, because VIPs and endpoints change with the xDS state. */
export const DEFAULT_TTL = 30;

function serviceIps(svc: Service, view: DnsView): string[] {
  const vips = (svc.addresses ?? []).map((a) => a.address).filter((b) => b.length === 4 || b.length === 16).map(ipString);
  if (vips.length > 0) return vips;
  const key = `${svc.namespace}/${svc.hostname}`;
  const allowUnhealthy = svc.loadBalancing?.healthPolicy === 'ALLOW_ALL';
  const ips: string[] = [];
  for (const w of view.allWorkloads()) {
    if (!w.services?.[key] || (w.status === 'UNHEALTHY' && !allowUnhealthy)) continue;
    for (const b of w.addresses ?? []) if (b.length === 4 || b.length === 16) ips.push(ipString(b));
  }
  return ips;
}

/** Records for `q`, [] for a known name without records of its type (NOERROR), undefined to forward. */
export function resolveLocally(q: Question, view: DnsView, opts: { ttl?: number } = {}): ResourceRecord[] | undefined {
  if (q.class !== CLASS_IN || (q.type !== TYPE.A && q.type !== TYPE.AAAA)) return undefined;
  const svc = view.serviceByHostname(q.name);
  if (!svc) return undefined;
  const ips = [...new Set(serviceIps(svc, view))];
  if (ips.length === 0) return undefined;
  const ttl = opts.ttl ?? DEFAULT_TTL;
  const v6 = q.type === TYPE.AAAA;
  return ips
    .filter((ip) => ip.includes(':') === v6)
    .map((address) => ({ name: q.name, ttl, data: v6 ? { type: 'AAAA' as const, address } : { type: 'A' as const, address } }));
}
