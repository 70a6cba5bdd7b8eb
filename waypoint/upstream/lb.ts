// Load balancing over a destination's endpoints (DestinationRule `loadBalancer`), pure apart from the rotation and
// ring caches a balancer keeps: the caller passes the endpoints to choose from (already filtered by subset and
// outlier ejection), a random number, and the active request counts.
//
// - Default when no policy is set: LEAST_REQUEST, as Istio configures Envoy (`defaultLBAlgorithm()` in Istio's
//   cluster builder), not ROUND_ROBIN. Change DEFAULT_SIMPLE_LB to switch.
// - ROUND_ROBIN rotates (weighted: smooth weighted round robin); the rotation starts at a random endpoint, as
//   Envoy's does, so a fleet of waypoints does not hit the same first pod.
// - LEAST_REQUEST is Envoy's: power of two random choices on active requests for equal weights; with unequal
//   weights, a weighted random pick on weight / (active + 1) (Envoy's active_request_bias 1.0).
// - consistentHash is a ring hash over endpoint ids: the same key maps to the same endpoint while the set is
//   unchanged, and when one endpoint leaves only its keys move. Unlike Envoy's ring (scaled to a minimum size of
//   1024, so every host's share of points changes with the set), each endpoint gets a fixed number of points per
//   unit of weight: that is what keeps the other endpoints' keys in place. Without a key (e.g. the header is
//   missing) the pick is random, as in Envoy.
import { randomBytes } from 'node:crypto';
import type { LoadBalancer } from '../../shared/waypoint/config.ts';
import type { EndpointRef } from './types.ts';

export const DEFAULT_SIMPLE_LB = 'LEAST_REQUEST' as const;
/** Ring points per unit of weight: ±6% load spread between equal endpoints. */
const POINTS_PER_WEIGHT = 256;
/** Bounds one endpoint's points (and so the ring's build time): weights beyond 16× lose proportion. */
const MAX_POINTS = 4096;
/** Rings kept per balancer: the healthy subset changes with ejections, then changes back. */
const RING_CACHE = 8;

export interface PickContext {
  /** From hashKeyFor; only consistentHash reads it. */
  hashKey?: string;
  /** Uniform in [0, 1). */
  rand: number;
  /** Active requests to an endpoint id (LEAST_REQUEST). */
  active: (id: string) => number;
}

export interface Balancer {
  pick(endpoints: readonly EndpointRef[], ctx: PickContext): EndpointRef | undefined;
}

export function createBalancer(lb: LoadBalancer | undefined): Balancer {
  if (lb && 'consistentHash' in lb) return ringHash();
  const simple = lb?.simple ?? DEFAULT_SIMPLE_LB;
  switch (simple) {
    case 'ROUND_ROBIN': return roundRobin();
    case 'RANDOM': return { pick: (eps, ctx) => weightedPick(eps, ctx.rand, weightOf) };
    case 'LEAST_REQUEST': return { pick: leastRequest };
  }
}

function weightOf(e: EndpointRef): number {
  return e.weight === undefined ? 1 : Math.max(0, e.weight);
}

function allEqualWeights(eps: readonly EndpointRef[]): boolean {
  const w0 = weightOf(eps[0]!);
  return eps.every((e) => weightOf(e) === w0);
}

/** Picks with probability proportional to `w`; all-zero weights fall back to uniform. */
function weightedPick(eps: readonly EndpointRef[], rand: number, w: (e: EndpointRef) => number): EndpointRef | undefined {
  if (eps.length === 0) return undefined;
  let total = 0;
  for (const e of eps) total += w(e);
  if (!(total > 0)) return eps[Math.min(eps.length - 1, Math.floor(rand * eps.length))];
  let target = rand * total;
  for (const e of eps) {
    target -= w(e);
    if (target < 0) return e;
  }
  return eps[eps.length - 1];
}

function leastRequest(eps: readonly EndpointRef[], ctx: PickContext): EndpointRef | undefined {
  if (eps.length <= 1) return eps[0];
  if (!allEqualWeights(eps)) return weightedPick(eps, ctx.rand, (e) => weightOf(e) / (ctx.active(e.id) + 1));
  // Two distinct uniform choices from one random number: the integer part picks the first, the fraction the second.
  const n = eps.length;
  const x = ctx.rand * n;
  const i = Math.min(n - 1, Math.floor(x));
  let j = Math.min(n - 2, Math.floor((x - i) * (n - 1)));
  if (j >= i) j++;
  const a = eps[i]!;
  const b = eps[j]!;
  // Ties keep the first choice, as Envoy's P2C does.
  return ctx.active(b.id) < ctx.active(a.id) ? b : a;
}

function roundRobin(): Balancer {
  let next = -1;
  // Smooth weighted round robin (nginx): each pick adds every weight to its endpoint's credit, takes the largest,
  // and charges it the total. Its state belongs to one endpoint set and restarts when the set changes.
  let credits = new Map<string, number>();
  let creditsFor = '';
  return {
    pick(eps, ctx) {
      if (eps.length === 0) return undefined;
      if (allEqualWeights(eps)) {
        if (next < 0) next = Math.floor(ctx.rand * eps.length);
        const e = eps[next % eps.length]!;
        next = (next + 1) % 0x7fff_ffff;
        return e;
      }
      const sig = setSignature(eps);
      if (sig !== creditsFor) {
        creditsFor = sig;
        credits = new Map();
      }
      let total = 0;
      let best: EndpointRef | undefined;
      let bestCredit = -Infinity;
      for (const e of eps) {
        const w = weightOf(e);
        total += w;
        const c = (credits.get(e.id) ?? 0) + w;
        credits.set(e.id, c);
        if (c > bestCredit) {
          bestCredit = c;
          best = e;
        }
      }
      credits.set(best!.id, bestCredit - total);
      return best;
    },
  };
}

function setSignature(eps: readonly EndpointRef[]): string {
  return eps.map((e) => `${e.id}*${weightOf(e)}`).sort().join('|');
}

interface Ring {
  hashes: Uint32Array;
  owners: EndpointRef[];
}

function ringHash(): Balancer {
  const rings = new Map<string, Ring>();
  return {
    pick(eps, ctx) {
      if (eps.length <= 1) return eps[0];
      if (ctx.hashKey === undefined) return weightedPick(eps, ctx.rand, weightOf);
      const sig = setSignature(eps);
      let ring = rings.get(sig);
      if (ring) {
        rings.delete(sig); // re-insert: most recently used last
      } else {
        ring = buildRing(eps);
        if (rings.size >= RING_CACHE) rings.delete(rings.keys().next().value!);
      }
      rings.set(sig, ring);
      return lookupRing(ring, murmur3(ctx.hashKey));
    },
  };
}

function buildRing(eps: readonly EndpointRef[]): Ring {
  const allZero = eps.every((e) => weightOf(e) === 0);
  const points: Array<{ h: number; e: EndpointRef }> = [];
  for (const e of eps) {
    const w = allZero ? 1 : weightOf(e);
    if (w === 0) continue;
    const replicas = Math.min(MAX_POINTS, Math.max(1, Math.ceil(POINTS_PER_WEIGHT * w)));
    for (let i = 0; i < replicas; i++) points.push({ h: murmur3(`${e.id}_${i}`), e });
  }
  // Ties (32-bit collisions) break by id so the ring does not depend on the order endpoints were listed in.
  points.sort((a, b) => a.h - b.h || (a.e.id < b.e.id ? -1 : a.e.id > b.e.id ? 1 : 0));
  return { hashes: Uint32Array.from(points, (p) => p.h), owners: points.map((p) => p.e) };
}

function lookupRing(ring: Ring, h: number): EndpointRef | undefined {
  // First point at or after h, wrapping around.
  let lo = 0;
  let hi = ring.hashes.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ring.hashes[mid]! < h) lo = mid + 1;
    else hi = mid;
  }
  return ring.owners[lo === ring.owners.length ? 0 : lo];
}

const utf8 = new TextEncoder();

/** MurmurHash3 x86 32-bit over the UTF-8 bytes: fast, and spreads ring points evenly. */
export function murmur3(s: string, seed = 0): number {
  const b = utf8.encode(s);
  const n = b.length;
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = seed | 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    let k = b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = n & 3;
  if (rest > 0) {
    let k = 0;
    if (rest === 3) k ^= b[i + 2]! << 16;
    if (rest >= 2) k ^= b[i + 1]! << 8;
    k ^= b[i]!;
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

// ---- hash keys ----

export interface HashRequest {
  /** Lower-case names, as Node presents them. */
  headers: Record<string, string | string[] | undefined>;
  sourceIp: string;
  /** The raw query string without `?`. */
  query: string;
}

export interface HashKey {
  /** Absent: the request carries no key (the ring then picks at random). */
  key?: string;
  /** A `Set-Cookie` value to add to the response (cookie policy with a ttl, cookie missing). */
  setCookie?: string;
}

/**
 * The consistent-hash key of a request under `lb` ({} for non-hash policies). Cookie policies generate the cookie
 * when it is missing and a ttl is set, as Envoy does: the new value is the key, and the response must carry
 * `setCookie` (ttl 0: a session cookie without Max-Age).
 */
export function hashKeyFor(
  lb: LoadBalancer | undefined,
  req: HashRequest,
  newCookieValue: () => string = () => randomBytes(8).toString('hex'),
): HashKey {
  if (!lb || !('consistentHash' in lb)) return {};
  const ch = lb.consistentHash;
  if (ch.header !== undefined) {
    const v = req.headers[ch.header.toLowerCase()];
    if (v === undefined) return {};
    return { key: Array.isArray(v) ? v.join(',') : v };
  }
  if (ch.cookie !== undefined) {
    const v = cookieValue(req.headers.cookie, ch.cookie.name);
    if (v !== undefined) return { key: v };
    if (ch.cookie.ttlMs === undefined) return {};
    const value = newCookieValue();
    return { key: value, setCookie: setCookieValue(ch.cookie.name, value, ch.cookie.ttlMs, ch.cookie.path) };
  }
  if (ch.sourceIp) return { key: req.sourceIp };
  if (ch.queryParameter !== undefined) {
    const v = new URLSearchParams(req.query).get(ch.queryParameter);
    return v === null ? {} : { key: v };
  }
  return {};
}

function cookieValue(header: string | string[] | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? header.join('; ') : header;
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    let v = part.slice(eq + 1).trim();
    if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    return v;
  }
  return undefined;
}

/** Envoy's format (`makeSetCookieValue`): quoted value, Max-Age in seconds unless 0, Path, HttpOnly. */
function setCookieValue(name: string, value: string, ttlMs: number, path: string | undefined): string {
  let s = `${name}="${value}"`;
  const maxAge = Math.floor(ttlMs / 1000);
  if (maxAge > 0) s += `; Max-Age=${maxAge}`;
  if (path) s += `; Path=${path}`;
  return `${s}; HttpOnly`;
}
