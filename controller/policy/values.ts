// Owns the leaf conversions of policy values, each returning `undefined` for a value it cannot
// represent (callers turn that into a rejection): Istio's `*` string forms → StringMatch, IPs and
// CIDRs → Address bytes, port strings → numbers, and Kubernetes label key/value syntax.

import type { Address, StringMatch } from './types.ts';

/**
 * Istio's string forms: `*` alone is presence, `*x` a suffix, `x*` a prefix, else exact.
 * A `*` anywhere else (or `**`) cannot be expressed at L4 and is rejected.
 */
export function toStringMatch(v: string): StringMatch | undefined {
  if (v === '') return undefined;
  if (v === '*') return { presence: {} };
  const inner = v.slice(1, -1);
  if (inner.includes('*')) return undefined;
  if (v.startsWith('*')) return v.endsWith('*') ? undefined : { suffix: v.slice(1) };
  if (v.endsWith('*')) return { prefix: v.slice(0, -1) };
  return { exact: v };
}

function ipv4Bytes(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    // Go's netip (what Istio uses) rejects leading zeros; so do we.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

function ipv6Bytes(s: string): number[] | undefined {
  if (s.includes('%')) return undefined; // zones have no meaning in a policy
  let head = s;
  let v4tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    const v4 = ipv4Bytes(s.slice(lastColon + 1));
    if (!v4) return undefined;
    v4tail = v4;
    head = s.slice(0, lastColon + 1);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = groups(halves[0] ?? '');
  const right = halves.length === 2 ? groups(halves[1] ?? '') : [];
  if (!left || !right) return undefined;
  const wanted = 8 - v4tail.length / 2;
  const have = left.length + right.length;
  if (halves.length === 2 ? have >= wanted : have !== wanted) return undefined;
  const all = [...left, ...new Array<number>(wanted - have).fill(0), ...right];
  return [...all.flatMap((g) => [g >> 8, g & 0xff]), ...v4tail];
}

/** An IP (`10.0.0.1`, `fd00::1`) or CIDR (`10.0.0.0/8`) → Address; a bare IP is a full-length prefix. */
export function toAddress(v: string): Address | undefined {
  const slash = v.indexOf('/');
  const ip = slash === -1 ? v : v.slice(0, slash);
  const bytes = ip.includes(':') ? ipv6Bytes(ip) : ipv4Bytes(ip);
  if (!bytes) return undefined;
  const bits = bytes.length * 8;
  let length = bits;
  if (slash !== -1) {
    const p = v.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > bits) return undefined;
    length = Number(p);
  }
  return { address: Uint8Array.from(bytes), length };
}

/** A port as the API writes it (a decimal string, 1–65535). */
export function toPort(v: string): number | undefined {
  if (!/^[1-9][0-9]{0,4}$/.test(v)) return undefined;
  const n = Number(v);
  return n <= 65535 ? n : undefined;
}

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A Kubernetes label key: `[prefix/]name`, prefix a DNS subdomain (≤253), name ≤63. */
export function isLabelKey(k: string): boolean {
  const slash = k.lastIndexOf('/');
  if (slash === -1) return LABEL_NAME.test(k);
  const prefix = k.slice(0, slash);
  return prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix) && LABEL_NAME.test(k.slice(slash + 1));
}

/** A Kubernetes label value: empty, or a label name (≤63). */
export function isLabelValue(v: string): boolean {
  return v === '' || LABEL_NAME.test(v);
}

/** Whether every selector label is on the workload (an empty selector selects everything). */
export function selects(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  return Object.entries(selector).every(([k, v]) => Object.hasOwn(labels, k) && labels[k] === v);
}
