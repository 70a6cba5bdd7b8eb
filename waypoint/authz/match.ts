// Owns the leaf matchers of L7 authorization, each a pure function of one policy value and one request attribute:
// Istio's string forms (exact, `prefix*`, `*suffix`, `*` = non-empty), hosts (case-insensitive, port ignored), path
// normalisation and Istio path templates (`{*}` one segment, `{**}` the rest, compiled as Envoy's uri_template does),
// IP/CIDR blocks, and JWT claim lookup (`[a][b]` nesting, list claims).
//
// A value that is absent never matches positively; callers negate for the `not*` fields, so an absent attribute
// satisfies every `not*` list (Envoy's RBAC behaves the same: `not_id` of a failed match is a match).

import { BlockList, isIP } from 'node:net';

/** Istio's string forms. `*` alone needs a non-empty value (Envoy's `.+`); `*x` is a suffix, `x*` a prefix. */
export function matchString(pattern: string, value: string | undefined, ignoreCase = false): boolean {
  if (value === undefined) return false;
  if (pattern === '*') return value !== '';
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const v = ignoreCase ? value.toLowerCase() : value;
  // A leading `*` wins over a trailing one (`*a*` is the suffix `a*`), as in Istio's StringMatcher.
  if (p.startsWith('*')) return v.endsWith(p.slice(1));
  if (p.endsWith('*')) return v.startsWith(p.slice(0, -1));
  return v === p;
}

/** Header values: `*` means present (even empty), as Istio's header matcher uses present_match. */
export function matchHeader(pattern: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  return pattern === '*' ? true : matchString(pattern, value);
}

/** `host[:port]` → host; `[v6]:port` → `[v6]`. */
export function stripPort(authority: string): string {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    return end === -1 ? authority : authority.slice(0, end + 1);
  }
  const colon = authority.lastIndexOf(':');
  if (colon !== -1 && authority.indexOf(':') === colon && /^[0-9]+$/.test(authority.slice(colon + 1))) {
    return authority.slice(0, colon);
  }
  return authority;
}

/** `hosts`: case-insensitive; a port in the request's Host is ignored (a pattern may still name one). */
export function matchHost(pattern: string, authority: string | undefined): boolean {
  if (authority === undefined || authority === '') return false;
  const bare = stripPort(authority);
  return matchString(pattern, bare, true) || (bare !== authority && matchString(pattern, authority, true));
}

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/**
 * The path policies see, as Envoy's `normalize_path` (Istio's default BASE normalisation) makes it: fragment
 * dropped, `\` read as `/`, percent-encoded unreserved characters decoded (so `%2E%2E` is `..`), and `.`/`..`
 * segments resolved (RFC 3986 §5.2.4). Encoded slashes (`%2F`) stay encoded. Other forms (`*`) pass unchanged.
 */
export function normalizePath(raw: string): string {
  let p = raw;
  const hash = p.indexOf('#');
  if (hash !== -1) p = p.slice(0, hash);
  p = p.replace(/\\/g, '/');
  if (!p.startsWith('/')) return p;
  p = p.replace(/%([0-9A-Fa-f]{2})/g, (m, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(c) ? c : m;
  });
  const segments = p.split('/');
  const out: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i] ?? '';
    const last = i === segments.length - 1;
    if (s === '.' || s === '..') {
      if (s === '..') out.pop();
      if (last) out.push('');
      continue;
    }
    out.push(s);
  }
  return `/${out.join('/')}`;
}

export const MATCH_ONE_TEMPLATE = '{*}';
export const MATCH_ANY_TEMPLATE = '{**}';

export function isPathTemplate(pattern: string): boolean {
  return pattern.includes(MATCH_ONE_TEMPLATE) || pattern.includes(MATCH_ANY_TEMPLATE);
}

// Envoy's uri_template character classes (RFC 3986 pchar without `*`): `{*}` is one or more of them within a
// segment, `{**}` zero or more across segments.
const PCHAR = "A-Za-z0-9\\-._~%!$&'()+,;:@=";
const ONE_SEGMENT = `[${PCHAR}]+`;
const ANY_SEGMENTS = `[${PCHAR}/]*`;

const templateCache = new Map<string, RegExp>();

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A template (validated by the controller) → the anchored regex Envoy builds for it. */
export function compilePathTemplate(template: string): RegExp {
  let re = templateCache.get(template);
  if (re === undefined) {
    const body = template.replace(/^\/+/, '').split('/')
      .map((s) => (s === MATCH_ONE_TEMPLATE ? ONE_SEGMENT : s === MATCH_ANY_TEMPLATE ? ANY_SEGMENTS : escapeRegExp(s)))
      .join('/');
    re = new RegExp(`^/${body}$`);
    if (templateCache.size > 10_000) templateCache.clear(); // bounded: configs come and go
    templateCache.set(template, re);
  }
  return re;
}

/** `paths`: a template or an Istio string form, against the normalised path (no query). */
export function matchPath(pattern: string, normalizedPath: string): boolean {
  return isPathTemplate(pattern) ? compilePathTemplate(pattern).test(normalizedPath) : matchString(pattern, normalizedPath);
}

const blockCache = new Map<string, BlockList | null>();

function blockListOf(cidr: string): BlockList | null {
  let b = blockCache.get(cidr);
  if (b === undefined) {
    b = null;
    const slash = cidr.indexOf('/');
    const ip = slash === -1 ? cidr : cidr.slice(0, slash);
    const family = isIP(ip);
    if (family !== 0) {
      const bits = family === 4 ? 32 : 128;
      const prefix = slash === -1 ? bits : Number(cidr.slice(slash + 1));
      if (Number.isInteger(prefix) && prefix >= 0 && prefix <= bits && (slash === -1 || /^[0-9]+$/.test(cidr.slice(slash + 1)))) {
        b = new BlockList();
        b.addSubnet(ip, prefix, family === 4 ? 'ipv4' : 'ipv6');
      }
    }
    if (blockCache.size > 10_000) blockCache.clear();
    blockCache.set(cidr, b);
  }
  return b;
}

/** An IP or CIDR against an address; IPv4-mapped IPv6 addresses match IPv4 blocks. Invalid input never matches. */
export function matchIp(cidr: string, ip: string | undefined): boolean {
  if (ip === undefined || ip === '') return false;
  const family = isIP(ip);
  if (family === 0) return false;
  return blockListOf(cidr)?.check(ip, family === 4 ? 'ipv4' : 'ipv6') ?? false;
}

/** `request.auth.claims[a][b]` → ['a', 'b']; undefined when the key is not of that form. */
export function claimPath(key: string): string[] | undefined {
  const m = /^request\.auth\.claims((?:\[[^[\]]+\])+)$/.exec(key);
  if (!m) return undefined;
  return [...(m[1] ?? '').matchAll(/\[([^[\]]+)\]/g)].map((x) => x[1] ?? '');
}

/** `request.headers[name]` → lower-case name; undefined when the key is not of that form. */
export function headerName(key: string): string | undefined {
  const m = /^request\.headers\[([^[\]]+)\]$/.exec(key);
  return m ? (m[1] ?? '').toLowerCase() : undefined;
}

/**
 * The string values of a claim: a string claim is one value, a list claim each of its string elements. Numbers,
 * booleans and objects match nothing (Envoy's metadata string matcher only sees string values).
 */
export function claimStrings(claims: Record<string, unknown> | undefined, path: readonly string[]): string[] {
  let v: unknown = claims;
  for (const k of path) {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.hasOwn(v, k)) return [];
    v = (v as Record<string, unknown>)[k];
  }
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((e): e is string => typeof e === 'string');
  return [];
}
