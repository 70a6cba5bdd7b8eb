// Owns the order of Gateway API routes attached to one Service. The spec: across rules, "Exact" path match, then
// the longest "Prefix" match, then a method match, then the most header matches, then the most query param matches
// (RegularExpression paths are implementation-specific); ties go to the oldest route, then `<namespace>/<name>`,
// then the first rule and match in list order. Istio's sortHTTPRoutes is followed where the spec is silent: each
// match is its own route, Exact > Prefix > RegularExpression (longer value first within a kind), no path ranks
// last of all, and a rule without matches comes after every rule with one.

import type { HttpMatch } from '../../../shared/waypoint/config.ts';

export interface Ranked {
  match: HttpMatch;
  /** The rule had no matches (its match is the default). */
  matchAll: boolean;
}

function pathRank(m: HttpMatch): number {
  const p = m.path;
  if (p === undefined) return -1;
  if ('exact' in p) return 3;
  if ('regex' in p) return 1;
  return 2;
}

function pathLength(m: HttpMatch): number {
  const p = m.path;
  if (p === undefined) return 0;
  if ('exact' in p) return p.exact.length;
  if ('regex' in p) return p.regex.length;
  if ('prefix' in p) return p.prefix.length;
  return p.pathPrefix.length;
}

/** Negative when `a` must be tried before `b`. Use with a stable sort over entries already in age/list order. */
export function comparePrecedence(a: Ranked, b: Ranked): number {
  if (a.matchAll !== b.matchAll) return a.matchAll ? 1 : -1;
  if (a.matchAll) return 0;
  const ra = pathRank(a.match);
  const rb = pathRank(b.match);
  if (ra !== rb) return rb - ra;
  const la = pathLength(a.match);
  const lb = pathLength(b.match);
  if (la !== lb) return lb - la;
  const ma = a.match.method !== undefined;
  const mb = b.match.method !== undefined;
  if (ma !== mb) return ma ? -1 : 1;
  const ha = a.match.headers?.length ?? 0;
  const hb = b.match.headers?.length ?? 0;
  if (ha !== hb) return hb - ha;
  return (b.match.query?.length ?? 0) - (a.match.query?.length ?? 0);
}
