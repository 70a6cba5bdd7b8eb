// Textual IP addresses → raw network-order bytes (4 or 16), the form istio.workload carries them in.
// The conversion itself is proto/ip.ts's; the index wants "not an IP" as undefined rather than an error.
import { isIP } from 'node:net';
import { ipBytes } from '../../shared/proto/ip.ts';

/** Raw bytes of an IPv4/IPv6 literal (a `%zone` suffix is ignored), or undefined when `s` is not one. */
export function ipToBytes(s: string): Uint8Array | undefined {
  const literal = s.split('%')[0] ?? '';
  return isIP(literal) ? Uint8Array.from(ipBytes(literal)) : undefined;
}

/** A single address from `ip` or a full-length prefix (`ip/32`, `ip/128`); other CIDRs are not single addresses. */
export function hostAddressToBytes(s: string): Uint8Array | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return ipToBytes(s);
  const bytes = ipToBytes(s.slice(0, slash));
  if (!bytes) return undefined;
  return Number(s.slice(slash + 1)) === bytes.length * 8 ? bytes : undefined;
}
