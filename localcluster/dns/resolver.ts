// The cluster DNS decision, pure: an index built from Services + EndpointSlices, and `resolve(index, question)`
// answering names in cluster.local the way CoreDNS's kubernetes plugin does:
//   <svc>.<ns>.svc.cluster.local              A → ClusterIP; headless → ready endpoint IPs; ExternalName → CNAME
//   _<port>._<proto>.<svc>.<ns>.svc.cluster.local   SRV (plain <svc>… SRV lists every named port)
//   <hostname|a-b-c-d>.<svc>.<ns>.svc.cluster.local A of a headless endpoint
//   <a-b-c-d>.<ns>.pod.cluster.local          A of that IP
// A name that exists without records of the asked type is NODATA (NOERROR, SOA in authority); an unknown name in
// the zone is NXDOMAIN; names outside the zone are forwarded when an upstream exists, else REFUSED.
// Clients expand search paths themselves (ndots:5), so only FQDNs arrive here.
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { RCODE, TYPE, type Question, type ResourceRecord } from '../../shared/dns/index.ts';

export const DEFAULT_DOMAIN = 'cluster.local';
export const DEFAULT_TTL = 5;
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

export interface NamedPort { name: string; port: number; protocol: string }
export interface EndpointEntry { ip: string; hostname?: string }
export interface ServiceEntry {
  name: string;
  namespace: string;
  /** ClusterIP, or undefined for a headless Service. */
  clusterIP?: string;
  externalName?: string;
  /** Service ports (ClusterIP) or the endpoint ports (headless), for SRV. */
  ports: NamedPort[];
  /** Ready endpoints (headless Services only). */
  endpoints: EndpointEntry[];
}

export interface DnsIndex {
  domain: string;
  ttl: number;
  serial: number;
  // "<svc>.<ns>" → the Service, for every lookup under svc.<domain>
  services: Map<string, ServiceEntry>;
  // namespaces that have at least one Service: "<ns>.svc.<domain>" exists (NODATA, not NXDOMAIN)
  namespaces: Set<string>;
}

export function buildIndex(
  services: readonly V1Service[], slices: readonly V1EndpointSlice[],
  opts: { domain?: string; ttl?: number; serial?: number } = {},
): DnsIndex {
  const index: DnsIndex = {
    domain: opts.domain ?? DEFAULT_DOMAIN, ttl: opts.ttl ?? DEFAULT_TTL, serial: opts.serial ?? 1,
    services: new Map(), namespaces: new Set(),
  };
  for (const svc of services) {
    const name = svc.metadata?.name?.toLowerCase();
    const namespace = (svc.metadata?.namespace ?? 'default').toLowerCase();
    const spec = svc.spec;
    if (!name || !spec) continue;
    const entry: ServiceEntry = { name, namespace, ports: [], endpoints: [] };
    if (spec.type === 'ExternalName') {
      if (!spec.externalName) continue;
      entry.externalName = spec.externalName.toLowerCase().replace(/\.$/, '');
    } else if (spec.clusterIP && spec.clusterIP !== 'None') {
      if (!IPV4.test(spec.clusterIP)) continue; // not allocated yet (or IPv6-only): nothing to answer
      entry.clusterIP = spec.clusterIP;
      entry.ports = (spec.ports ?? []).map((p) => ({ name: (p.name ?? '').toLowerCase(), port: p.port, protocol: (p.protocol ?? 'TCP').toLowerCase() }));
    } else {
      const own = slices.filter((s) => (s.metadata?.namespace ?? 'default').toLowerCase() === namespace &&
        s.metadata?.labels?.[SERVICE_NAME_LABEL] === svc.metadata?.name && (s.addressType ?? 'IPv4') === 'IPv4');
      const seen = new Set<string>();
      const ports = new Map<string, NamedPort>();
      for (const s of own) {
        for (const ep of s.endpoints ?? []) {
          const ip = ep.addresses?.[0];
          if (!ip || !IPV4.test(ip) || ep.conditions?.ready === false || seen.has(ip)) continue;
          seen.add(ip);
          entry.endpoints.push({ ip, ...(ep.hostname ? { hostname: ep.hostname.toLowerCase() } : {}) });
        }
        for (const p of s.ports ?? []) {
          if (p.port) {
            const np = { name: (p.name ?? '').toLowerCase(), port: p.port, protocol: (p.protocol ?? 'TCP').toLowerCase() };
            ports.set(`${np.name}/${np.protocol}`, np);
          }
        }
      }
      entry.ports = [...ports.values()];
      entry.endpoints.sort((a, b) => ipNum(a.ip) - ipNum(b.ip));
    }
    index.services.set(`${name}.${namespace}`, entry);
    index.namespaces.add(namespace);
  }
  return index;
}

function ipNum(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

export type Decision =
  | { kind: 'answer'; rcode: number; answers: ResourceRecord[]; authority: ResourceRecord[]; additional: ResourceRecord[] }
  | { kind: 'forward' }
  | { kind: 'refuse' };

/** Decide the answer to one question. `canForward`: an upstream exists for names outside the zone. */
export function resolve(index: DnsIndex, q: Question, canForward = false): Decision {
  const name = q.name.toLowerCase().replace(/\.$/, '');
  const zone = index.domain;
  if (name !== zone && !name.endsWith(`.${zone}`)) return canForward ? { kind: 'forward' } : { kind: 'refuse' };
  const rel = name === zone ? [] : name.slice(0, -(zone.length + 1)).split('.');
  const r = new Answer(index, q, name);

  if (rel.length === 0) {
    if (q.type === TYPE.SOA || q.type === TYPE.ANY) r.answers.push(soa(index));
    return r.done();
  }
  const kind = rel[rel.length - 1];
  if (kind === 'svc') {
    const ns = rel[rel.length - 2];
    if (rel.length === 1) return r.done(); // svc.<zone>
    if (!index.namespaces.has(ns!)) return r.nx();
    if (rel.length === 2) return r.done(); // <ns>.svc.<zone>
    const svc = index.services.get(`${rel[rel.length - 3]}.${ns}`);
    if (!svc) return r.nx();
    const fqdn = `${svc.name}.${svc.namespace}.svc.${zone}`;
    if (rel.length === 3) return serviceAnswer(r, svc, fqdn);
    if (rel.length === 4) return endpointAnswer(r, svc, rel[0]!, fqdn);
    if (rel.length === 5 && rel[0]!.startsWith('_') && rel[1]!.startsWith('_')) {
      return srvAnswer(r, svc, fqdn, rel[0]!.slice(1), rel[1]!.slice(1));
    }
    return r.nx();
  }
  if (kind === 'pod') {
    if (rel.length === 1) return r.done();
    if (rel.length === 2) return r.done(); // <ns>.pod.<zone>: any namespace may hold pods
    if (rel.length !== 3) return r.nx();
    const ip = rel[0]!.replace(/-/g, '.');
    if (!IPV4.test(ip)) return r.nx();
    if (wantsA(q)) r.answers.push(r.rec(name, { type: 'A', address: ip }));
    return r.done();
  }
  return r.nx();
}

class Answer {
  readonly index: DnsIndex;
  readonly q: Question;
  readonly name: string;
  answers: ResourceRecord[] = [];
  additional: ResourceRecord[] = [];
  constructor(index: DnsIndex, q: Question, name: string) {
    this.index = index;
    this.q = q;
    this.name = name;
  }
  rec(name: string, data: ResourceRecord['data']): ResourceRecord {
    return { name, ttl: this.index.ttl, data };
  }
  /** NOERROR; with no answers it is NODATA and carries the SOA for negative caching. */
  done(): Decision {
    return {
      kind: 'answer', rcode: RCODE.NOERROR, answers: this.answers,
      authority: this.answers.length === 0 ? [soa(this.index)] : [], additional: this.additional,
    };
  }
  nx(): Decision {
    return { kind: 'answer', rcode: RCODE.NXDOMAIN, answers: [], authority: [soa(this.index)], additional: [] };
  }
}

function wantsA(q: Question): boolean {
  return q.type === TYPE.A || q.type === TYPE.ANY;
}

function soa(index: DnsIndex): ResourceRecord {
  return {
    name: index.domain, ttl: index.ttl,
    data: { type: 'SOA', mname: `ns.dns.${index.domain}`, rname: `hostmaster.${index.domain}`, serial: index.serial, refresh: 7200, retry: 1800, expire: 86400, minimum: index.ttl },
  };
}

function endpointName(ep: EndpointEntry, fqdn: string): string {
  return `${ep.hostname ?? ep.ip.replace(/\./g, '-')}.${fqdn}`;
}

function serviceAnswer(r: Answer, svc: ServiceEntry, fqdn: string): Decision {
  if (svc.externalName) {
    r.answers.push(r.rec(r.name, { type: 'CNAME', target: svc.externalName }));
    return r.done();
  }
  if (wantsA(r.q)) {
    if (svc.clusterIP) r.answers.push(r.rec(r.name, { type: 'A', address: svc.clusterIP }));
    else for (const ep of svc.endpoints) r.answers.push(r.rec(r.name, { type: 'A', address: ep.ip }));
  } else if (r.q.type === TYPE.SRV) {
    addSrv(r, svc, fqdn, svc.ports.filter((p) => p.name !== ''));
  }
  return r.done();
}

function endpointAnswer(r: Answer, svc: ServiceEntry, label: string, _fqdn: string): Decision {
  if (svc.clusterIP || svc.externalName) return r.nx();
  const ep = svc.endpoints.find((e) => e.hostname === label || e.ip.replace(/\./g, '-') === label);
  if (!ep) return r.nx();
  if (wantsA(r.q)) r.answers.push(r.rec(r.name, { type: 'A', address: ep.ip }));
  return r.done();
}

function srvAnswer(r: Answer, svc: ServiceEntry, fqdn: string, portName: string, proto: string): Decision {
  const ports = svc.ports.filter((p) => p.name === portName && p.protocol === proto);
  if (ports.length === 0 || svc.externalName) return r.nx();
  if (r.q.type === TYPE.SRV || r.q.type === TYPE.ANY) addSrv(r, svc, fqdn, ports);
  return r.done();
}

/** SRV records (answer) plus the A records of their targets (additional). */
function addSrv(r: Answer, svc: ServiceEntry, fqdn: string, ports: NamedPort[]): void {
  for (const p of ports) {
    if (svc.clusterIP) {
      r.answers.push(r.rec(r.name, { type: 'SRV', priority: 0, weight: 100, port: p.port, target: fqdn }));
    } else {
      const weight = Math.max(1, Math.floor(100 / Math.max(1, svc.endpoints.length)));
      for (const ep of svc.endpoints) {
        r.answers.push(r.rec(r.name, { type: 'SRV', priority: 0, weight, port: p.port, target: endpointName(ep, fqdn) }));
      }
    }
  }
  if (svc.clusterIP) {
    if (ports.length > 0) r.additional.push(r.rec(fqdn, { type: 'A', address: svc.clusterIP }));
  } else if (ports.length > 0) {
    for (const ep of svc.endpoints) r.additional.push(r.rec(endpointName(ep, fqdn), { type: 'A', address: ep.ip }));
  }
}
