// IP address <-> raw network-order bytes, as carried in Workload.addresses, NetworkAddress.address and
// istio.security.Address.address.
import { isIPv4, isIPv6 } from 'node:net';
import { MeshError } from '../../shared/errors.ts';

export class InvalidIpError extends MeshError {
  constructor(ip: string) {
    super('CTRL_PROTO_INVALID_IP', `"${ip}" is not an ipv4 or ipv6 address; pass a literal ip without port or zone`);
  }
}

function v4Bytes(ip: string): number[] {
  return ip.split('.').map((p) => Number(p));
}

/** '10.244.1.5' → 4 bytes; 'fd00::1' → 16 bytes. Throws InvalidIpError otherwise. */
export function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(v4Bytes(ip));
  if (!isIPv6(ip)) throw new InvalidIpError(ip);
  let text = ip;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    // embedded IPv4 (e.g. ::ffff:10.0.0.1): becomes the last two groups
    tail = v4Bytes(last);
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const groups = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const left = groups(head);
  const right = rest === undefined ? [] : groups(rest);
  const fill = rest === undefined ? 0 : 8 - left.length - right.length;
  const all = [...left, ...Array<string>(fill).fill('0'), ...right];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  if (tail.length === 4) Buffer.from(tail).copy(out, 12);
  return out;
}

/** 4 or 16 raw bytes → canonical text ('10.244.1.5', 'fd00::1'). Throws on any other length. */
export function ipString(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length !== 16) throw new InvalidIpError(`<${bytes.length} bytes>`);
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  // WHATWG URL serialises IPv6 hosts in RFC 5952 compressed form.
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}
