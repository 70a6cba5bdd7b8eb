// Textual IP addresses → raw network-order bytes (4 or 16), the form istio.workload carries them in.
import { isIPv4, isIPv6 } from 'node:net';

/** Raw bytes of an IPv4/IPv6 literal, or undefined when `s` is not one (hostnames, garbage). */
export function ipToBytes(s: string): Uint8Array | undefined {
  if (isIPv4(s)) return Uint8Array.from(s.split('.').map(Number));
  if (!isIPv6(s)) return undefined;
  let text = s.split('%')[0] ?? '';
  // An embedded dotted quad (::ffff:1.2.3.4) is the last 32 bits: rewrite it as two hex groups.
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (isIPv4(last)) {
    const b = last.split('.').map(Number);
    const hex = (x: number, y: number): string => (((x << 8) | y) >>> 0).toString(16);
    text = `${text.slice(0, lastColon + 1)}${hex(b[0] ?? 0, b[1] ?? 0)}:${hex(b[2] ?? 0, b[3] ?? 0)}`;
  }
  const parse = (p: string): number[] => (p === '' ? [] : p.split(':').map((h) => parseInt(h, 16)));
  const gap = text.indexOf('::');
  const head = parse(gap < 0 ? text : text.slice(0, gap));
  const tail = gap < 0 ? [] : parse(text.slice(gap + 2));
  const groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[i * 2] = (g >> 8) & 0xff;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}

/** A single address from `ip` or a full-length prefix (`ip/32`, `ip/128`); other CIDRs are not single addresses. */
export function hostAddressToBytes(s: string): Uint8Array | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return ipToBytes(s);
  const bytes = ipToBytes(s.slice(0, slash));
  if (!bytes) return undefined;
  return Number(s.slice(slash + 1)) === bytes.length * 8 ? bytes : undefined;
}
