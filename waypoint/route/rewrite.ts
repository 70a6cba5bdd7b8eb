// What a matched route does to the request on its way: header set/add/remove, path rewrites, and the Location of a
// redirect. Pure. Semantics follow Envoy as Istio configures it, and the Gateway API spec where the two differ
// (ReplacePrefixMatch and redirect ports, whose conformance tests pin them down).
import type { HeaderOps, HttpMatch, PathRewrite, Redirect } from '../../shared/waypoint/config.ts';
import type { RequestInfo } from '../types.ts';
import { re2 } from './match.ts';

export type HeaderObject = Record<string, string | string[] | undefined>;

/**
 * Apply set/add/remove to a header object (returns a new object; add appends to existing values). Envoy's order:
 * removals first, then `set` (overwrite), then `add` (a further value: an array, sent as repeated header lines).
 * Pseudo-headers (`:path`, `:authority`…) are never touched here: authority and path changes are rewrites.
 */
export function applyHeaderOps(headers: HeaderObject, ops: HeaderOps | undefined): HeaderObject {
  const out: HeaderObject = { ...headers };
  if (!ops) return out;
  for (const name of ops.remove ?? []) {
    const n = name.toLowerCase();
    if (!n.startsWith(':')) delete out[n];
  }
  for (const [name, value] of Object.entries(ops.set ?? {})) {
    const n = name.toLowerCase();
    if (!n.startsWith(':')) out[n] = value;
  }
  for (const [name, value] of Object.entries(ops.add ?? {})) {
    const n = name.toLowerCase();
    if (n.startsWith(':')) continue;
    const cur = out[n];
    out[n] = cur === undefined ? value : Array.isArray(cur) ? [...cur, value] : [cur, value];
  }
  return out;
}

function splitQuery(path: string): [string, string] {
  const q = path.indexOf('?');
  return q < 0 ? [path, ''] : [path.slice(0, q), path.slice(q)];
}

/**
 * RE2::GlobalReplace as Envoy's regex_rewrite uses it: every match replaced; `\0`–`\9` in the substitution are
 * capture groups, `\\` a backslash, everything else literal (no JS `$` expansion).
 */
function regexSubstitute(path: string, pattern: string, substitution: string): string {
  const re = re2(pattern, 'g', false);
  if (!re) return path;
  re.lastIndex = 0;
  return path.replace(re, (...args: unknown[]) => {
    const end = args.findIndex((a) => typeof a === 'number');
    const groups = args.slice(0, end) as Array<string | undefined>;
    return substitution.replace(/\\(\d|\\)/g, (_m, d: string) => (d === '\\' ? '\\' : (groups[Number(d)] ?? '')));
  });
}

/**
 * Gateway API ReplacePrefixMatch: the matched prefix (trailing '/' ignored) is replaced and exactly one '/' joins
 * the replacement and the rest; an empty result is '/'. `/foo/bar` with prefix `/foo`: `/xyz` or `/xyz/` → `/xyz/bar`,
 * '' or '/' → `/bar`; `/foo/` → `/xyz/`; `/foo` → `/xyz`.
 */
function replaceSegmentPrefix(path: string, prefix: string, replacement: string): string {
  const p = prefix.replace(/\/+$/, '');
  const rest = path.startsWith(p) ? path.slice(p.length) : path;
  const out = replacement.replace(/\/+$/, '') + rest;
  return out === '' ? '/' : out.startsWith('/') ? out : `/${out}`;
}

/**
 * New path (+query kept) after a Rewrite/Redirect PathRewrite, given the match that hit. `prefix` replaces what the
 * match's path matched: a plain string prefix for VirtualService `uri.prefix` (Envoy prefix_rewrite), segment-aware
 * for Gateway API PathPrefix, the whole path for exact and regex matches. A match without a path (or no match: a
 * route that matches everything) is treated as the PathPrefix `/` Gateway API defaults to, so `/a` with prefix
 * rewrite `/v2` becomes `/v2/a` (Envoy's plain prefix `/` would give `/v2a`).
 */
export function rewritePath(path: string, rewrite: PathRewrite, match: HttpMatch | undefined): string {
  const [p, query] = splitQuery(path);
  let out: string;
  if ('full' in rewrite) out = rewrite.full;
  else if ('regex' in rewrite) out = regexSubstitute(p, rewrite.regex, rewrite.substitution);
  else {
    const m = match?.path;
    if (m === undefined) out = replaceSegmentPrefix(p, '/', rewrite.prefix);
    else if ('pathPrefix' in m) out = replaceSegmentPrefix(p, m.pathPrefix, rewrite.prefix);
    else if ('prefix' in m) out = p.startsWith(m.prefix) ? rewrite.prefix + p.slice(m.prefix.length) : p;
    else out = rewrite.prefix;
  }
  return out + query;
}

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443 };

/** Host and port of a Host/:authority value (IPv6 in brackets). */
function splitAuthority(authority: string): { host: string; port?: number } {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(authority);
  if (!m) return { host: authority };
  return m[2] === undefined ? { host: m[1]! } : { host: m[1]!, port: Number(m[2]) };
}

/**
 * Location header value for a Redirect. Unset parts come from the request: the scheme from `x-forwarded-proto`
 * (else http), the host from the authority (its port dropped). The port follows Gateway API: an explicit port; else
 * the new scheme's well-known port when the redirect sets a scheme; else the port the request arrived on. 80 for
 * http and 443 for https are never written. (A VirtualService redirect that should drop the port, as Envoy does for
 * `authority` without `port`, is compiled with the scheme's default port.) The query string is kept unless the new
 * path carries its own.
 */
export function redirectLocation(req: RequestInfo, r: Redirect, match: HttpMatch | undefined): string {
  const fwd = req.headers['x-forwarded-proto'];
  const reqScheme = (Array.isArray(fwd) ? fwd[0] : fwd)?.split(',')[0]?.trim().toLowerCase() === 'https' ? 'https' : 'http';
  const scheme = (r.scheme ?? reqScheme).toLowerCase();
  let host = r.host ?? splitAuthority(req.authority).host;
  if (host.includes(':') && !host.startsWith('[')) host = `[${host}]`;
  const port = r.port ?? (r.scheme !== undefined ? DEFAULT_PORTS[scheme] : req.destination.port);
  const portPart = port === undefined || port === DEFAULT_PORTS[scheme] ? '' : `:${port}`;
  let path = r.path ? rewritePath(req.path, r.path, match) : req.path;
  if (!path.includes('?') && req.query !== '') path += `?${req.query}`;
  return `${scheme}://${host}${portPart}${path}`;
}
