// Which route a request takes: HttpMatch / TcpRoute matching with the semantics Envoy gives the route config Istio
// generates from VirtualService and Gateway API routes. Pure; the only state is a bounded cache of compiled regexes.
//
// Envoy rules kept here, because they are easy to get subtly wrong:
// - regexes (RE2 `safe_regex`) must match the WHOLE value, so every pattern is anchored;
// - a header that appears several times is matched on its values joined with ',' (HeaderUtility::getAllOfHeader);
// - an inverted header match with a value (VirtualService `withoutHeaders`) treats a missing header as '' (Istio sets
//   `treat_missing_header_as_empty`), so `withoutHeaders: {x: {exact: v}}` matches requests without `x`;
// - a query parameter given several times is matched on its first value;
// - Gateway API PathPrefix is segment-aware and ignores a trailing '/' in the prefix (Envoy path_separated_prefix).
import type { HttpMatch, HttpRoute, PathMatch, StringMatch, TcpRoute, HeaderMatch, QueryMatch } from '../../shared/waypoint/config.ts';
import type { RequestInfo } from '../types.ts';

const REGEX_CACHE_MAX = 1024;
const regexCache = new Map<string, RegExp | null>();

/**
 * A JS RegExp for an RE2 pattern (as Envoy's safe_regex takes it), anchored when `anchored`. The RE2 spellings JS
 * lacks that users write in Istio configs are translated: a leading `(?i)` flag and `(?P<name>…)` groups. A pattern
 * that does not compile never matches (the controller rejects invalid regexes; this only guards a bad push).
 */
export function re2(pattern: string, flags = '', anchored = true): RegExp | null {
  const key = `${anchored ? 'a' : 'u'}${flags}:${pattern}`;
  let re = regexCache.get(key);
  if (re !== undefined) return re;
  let src = pattern.replaceAll('(?P<', '(?<');
  let f = flags;
  if (src.startsWith('(?i)')) {
    src = src.slice(4);
    f += 'i';
  }
  try {
    re = new RegExp(anchored ? `^(?:${src})$` : src, f);
  } catch {
    re = null;
  }
  if (regexCache.size >= REGEX_CACHE_MAX) regexCache.clear();
  regexCache.set(key, re);
  return re;
}

export function stringMatches(m: StringMatch, value: string): boolean {
  if ('exact' in m) return value === m.exact;
  if ('prefix' in m) return value.startsWith(m.prefix);
  const re = re2(m.regex);
  return re !== null && re.test(value);
}

/** `/foo`, `/foo/` both mean the segment prefix `/foo`; `/` (or '') matches every path. */
function segmentPrefix(prefix: string): string {
  return prefix.replace(/\/+$/, '');
}

export function pathMatches(m: PathMatch, path: string): boolean {
  if ('exact' in m) return path === m.exact;
  if ('prefix' in m) return path.startsWith(m.prefix);
  if ('pathPrefix' in m) {
    const p = segmentPrefix(m.pathPrefix);
    return p === '' || path === p || path.startsWith(`${p}/`);
  }
  const re = re2(m.regex);
  return re !== null && re.test(path);
}

/** The request's value for a header name, multi-value joined with ','; pseudo-headers map to the request line. */
export function headerValue(req: RequestInfo, name: string): string | undefined {
  const v = req.headers[name];
  if (v !== undefined) return Array.isArray(v) ? v.join(',') : String(v);
  switch (name) {
    // HTTP/2 requests carry :authority and no Host; HTTP/1 ones the reverse. Envoy treats them as one header.
    case 'host':
    case ':authority':
      return req.authority === '' ? undefined : req.authority;
    case ':method':
      return req.method;
    case ':path':
      return req.query === '' ? req.path : `${req.path}?${req.query}`;
    case ':scheme':
      return 'http'; // inside the tunnel the app's protocol is plain HTTP (HTTP/2 requests carry their own :scheme)
    default:
      return undefined;
  }
}

export function headerMatches(h: HeaderMatch, req: RequestInfo): boolean {
  const v = headerValue(req, h.name);
  let hit: boolean;
  if (h.value === undefined) hit = v !== undefined;
  else if (v === undefined) hit = h.invert === true ? stringMatches(h.value, '') : false;
  else hit = stringMatches(h.value, v);
  return h.invert === true ? !hit : hit;
}

/** Query parameters of a raw query string, first value per name, decoded (`+` is a space, as in forms). */
export function parseQuery(query: string): Map<string, string> {
  const out = new Map<string, string>();
  if (query === '') return out;
  for (const [k, v] of new URLSearchParams(query)) if (!out.has(k)) out.set(k, v);
  return out;
}

function queryMatches(q: QueryMatch, params: Map<string, string>): boolean {
  const v = params.get(q.name);
  if (v === undefined) return false;
  return q.value === undefined || stringMatches(q.value, v);
}

/** All set fields of `m` match (AND). */
export function matchesHttp(m: HttpMatch, req: RequestInfo): boolean {
  if (m.port !== undefined && m.port !== req.destination.port) return false;
  if (m.source !== undefined && !sourceMatches(m.source, req)) return false;
  if (m.method !== undefined && !stringMatches(m.method, req.method)) return false;
  if (m.path !== undefined && !pathMatches(m.path, req.path)) return false;
  if (m.headers) for (const h of m.headers) if (!headerMatches(h, req)) return false;
  if (m.query && m.query.length > 0) {
    const params = parseQuery(req.query);
    for (const q of m.query) if (!queryMatches(q, params)) return false;
  }
  return true;
}

function sourceMatches(s: NonNullable<HttpMatch['source']>, req: RequestInfo): boolean {
  if (s.namespaces && !(req.source.namespace !== undefined && s.namespaces.includes(req.source.namespace))) return false;
  if (s.workloads && !(req.source.workload !== undefined && s.workloads.includes(req.source.workload))) return false;
  return true;
}

/** First route (in order) with a matching HttpMatch (empty matches = match all); returns the route and the match that hit. */
export function matchRoute(routes: readonly HttpRoute[], req: RequestInfo): { route: HttpRoute; match: HttpMatch | undefined } | undefined {
  for (const route of routes) {
    if (route.matches.length === 0) return { route, match: undefined };
    for (const match of route.matches) if (matchesHttp(match, req)) return { route, match };
  }
  return undefined;
}

/** First TCP route for the destination port (a route without a port takes any). */
export function matchTcp(routes: readonly TcpRoute[], port: number): TcpRoute | undefined {
  return routes.find((r) => r.port === undefined || r.port === port);
}
