// Pure parsing for HBONE: SPIFFE ids out of a peer certificate's subjectAltName text, and the CONNECT :authority.
// Table-tested in identity.test.ts.
import { isIP } from 'node:net';
import type { SpiffeId } from '../spiffe.ts';

const SPIFFE = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/;

export function isSpiffeId(s: string): s is SpiffeId {
  return SPIFFE.test(s);
}

/**
 * Every well-formed SPIFFE URI SAN in Node's `cert.subjectaltname` (e.g. `URI:spiffe://td/ns/a/sa/b, DNS:x`).
 * Node quotes entries holding a comma or quote as JSON strings (`URI:"..."`); those are never valid SPIFFE ids
 * (the path segments we accept cannot hold either), so they are skipped rather than unquoted.
 */
export function spiffeIdsOf(subjectAltName: string | undefined): SpiffeId[] {
  if (!subjectAltName) return [];
  const out: SpiffeId[] = [];
  for (const entry of subjectAltName.split(', ')) {
    if (!entry.startsWith('URI:')) continue;
    const uri = entry.slice(4);
    if (isSpiffeId(uri)) out.push(uri);
  }
  return out;
}

/** `ip:port` or `[v6]:port` with a numeric port in 1..65535; names are refused (ztunnel tunnels to addresses). */
export function parseAuthority(authority: string | undefined): { host: string; port: number } | undefined {
  if (!authority) return undefined;
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(authority) ?? /^([^:[\]]+):(\d{1,5})$/.exec(authority);
  if (!m) return undefined;
  const host = m[1]!;
  const port = Number(m[2]);
  const v = isIP(host);
  if (port < 1 || port > 65535) return undefined;
  // Brackets are for IPv6 only, and IPv6 needs them.
  if (authority.startsWith('[') ? v !== 6 : v !== 4) return undefined;
  return { host, port };
}
