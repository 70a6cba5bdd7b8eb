// Validation of ServiceEntry and WorkloadEntry before they reach the index (pure). Bad input is rejected
// with an actionable message instead of being half-applied: the caller keeps serving the last good version
// and writes the verdict as a status condition.
import { isIP } from 'node:net';

export interface Verdict { accepted: boolean; reason: 'Accepted' | 'Invalid'; message: string }

const ok: Verdict = { accepted: true, reason: 'Accepted', message: 'accepted by the controller' };
const bad = (message: string): Verdict => ({ accepted: false, reason: 'Invalid', message });

const DNS_NAME = /^(\*\.)?([a-z0-9]([-a-z0-9]*[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const PROTOCOLS = ['HTTP', 'HTTPS', 'GRPC', 'GRPC-WEB', 'HTTP2', 'MONGO', 'MYSQL', 'REDIS', 'TCP', 'TLS', 'UDP'];
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPort = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535;

function ipOrCidr(s: unknown): boolean {
  if (typeof s !== 'string') return false;
  const [ip, bits, extra] = s.split('/');
  if (extra !== undefined || !ip || !isIP(ip)) return false;
  if (bits === undefined) return true;
  const max = isIP(ip) === 4 ? 32 : 128;
  return /^\d+$/.test(bits) && Number(bits) <= max;
}

function labels(path: string, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (!isObj(v)) return `${path} must be a map of label keys to strings`;
  for (const [k, val] of Object.entries(v)) {
    if (!LABEL_KEY.test(k)) return `${path} has an invalid label key ${JSON.stringify(k)}`;
    if (typeof val !== 'string') return `${path}.${k} must be a string`;
  }
  return undefined;
}

function oneOf(path: string, v: unknown, allowed: string[]): string | undefined {
  if (v === undefined) return undefined;
  return typeof v === 'string' && allowed.includes(v) ? undefined : `${path} must be one of ${allowed.join(', ')} (got ${JSON.stringify(v)})`;
}

export function validateServiceEntry(spec: unknown): Verdict {
  if (!isObj(spec)) return bad('spec must be an object');
  const hosts = spec.hosts;
  if (!Array.isArray(hosts) || hosts.length === 0) return bad('spec.hosts must list at least one host');
  for (const h of hosts) if (typeof h !== 'string' || !DNS_NAME.test(h)) return bad(`spec.hosts has an invalid host ${JSON.stringify(h)}; use a DNS name such as api.example.com`);
  if (spec.addresses !== undefined) {
    if (!Array.isArray(spec.addresses)) return bad('spec.addresses must be a list of IPs or CIDRs');
    for (const a of spec.addresses) if (!ipOrCidr(a)) return bad(`spec.addresses has ${JSON.stringify(a)}, which is not an IP or CIDR`);
  }
  if (spec.ports !== undefined) {
    if (!Array.isArray(spec.ports)) return bad('spec.ports must be a list');
    for (const [i, p] of spec.ports.entries()) {
      if (!isObj(p)) return bad(`spec.ports[${i}] must be an object`);
      if (!isPort(p.number)) return bad(`spec.ports[${i}].number must be a port number from 1 to 65535 (got ${JSON.stringify(p.number)})`);
      if (p.targetPort !== undefined && !isPort(p.targetPort)) return bad(`spec.ports[${i}].targetPort must be a port number from 1 to 65535`);
      if (p.name !== undefined && typeof p.name !== 'string') return bad(`spec.ports[${i}].name must be a string`);
      const proto = p.protocol === undefined ? undefined : String(p.protocol).toUpperCase();
      if (proto !== undefined && !PROTOCOLS.includes(proto)) return bad(`spec.ports[${i}].protocol must be one of ${PROTOCOLS.join(', ')} (got ${JSON.stringify(p.protocol)})`);
    }
  }
  const e = oneOf('spec.location', spec.location, ['MESH_EXTERNAL', 'MESH_INTERNAL'])
    ?? oneOf('spec.resolution', spec.resolution, ['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN'])
    ?? (spec.workloadSelector === undefined ? undefined : isObj(spec.workloadSelector) ? labels('spec.workloadSelector.labels', spec.workloadSelector.labels) : 'spec.workloadSelector must be an object');
  if (e) return bad(e);
  if (spec.endpoints !== undefined) {
    if (!Array.isArray(spec.endpoints)) return bad('spec.endpoints must be a list');
    for (const [i, ep] of spec.endpoints.entries()) {
      const m = workloadEntryProblem(ep, `spec.endpoints[${i}]`, false);
      if (m) return bad(m);
    }
  }
  return ok;
}

function workloadEntryProblem(spec: unknown, path: string, addressRequired: boolean): string | undefined {
  if (!isObj(spec)) return `${path} must be an object`;
  if (spec.address === undefined) return addressRequired ? `${path}.address is required (an IP or a DNS name)` : undefined;
  if (typeof spec.address !== 'string' || !(isIP(spec.address) || DNS_NAME.test(spec.address))) return `${path}.address ${JSON.stringify(spec.address)} is not an IP or DNS name`;
  if (spec.ports !== undefined) {
    if (!isObj(spec.ports)) return `${path}.ports must map port names to numbers`;
    for (const [k, v] of Object.entries(spec.ports)) if (!isPort(v)) return `${path}.ports.${k} must be a port number from 1 to 65535`;
  }
  if (spec.serviceAccount !== undefined && typeof spec.serviceAccount !== 'string') return `${path}.serviceAccount must be a string`;
  return labels(`${path}.labels`, spec.labels);
}

export function validateWorkloadEntry(spec: unknown): Verdict {
  const m = workloadEntryProblem(spec, 'spec', true);
  return m ? bad(m) : ok;
}
