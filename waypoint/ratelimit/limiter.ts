// Owns the rate-limit decision for one request against the waypoint's RateLimitPolicies (HTTPLocalRateLimitPolicy).
//
// A policy applies when it targets the whole waypoint, the request's service, or the route that matched it. For
// each applicable policy the request needs a token from the policy's `total` bucket (all clients together) and
// from its client's bucket: the `overrides` entry naming the client's SPIFFE id if any, else `perIdentity`. Clients
// without a certificate are keyed by source IP. All needed buckets are checked first and taken only when every one
// allows, so a client refused by its own limit does not also eat into the total that others share.
//
// Memory is bounded: per-client buckets live in one LRU map capped at `maxClientBuckets` (default 10 000); each
// check also drops a few idle (full) buckets from its cold end, which never changes a decision because a full bucket
// is what a new one would be. Evicting a non-full bucket under pressure hands that client a fresh burst — the price
// of the bound. A bucket's key includes its rate and burst, so an edited policy starts fresh buckets.

import type { RateLimitPolicy } from '../../shared/waypoint/config.ts';
import type { RequestInfo } from '../types.ts';
import { createBucket, isFull, take, waitMs, type TokenBucket } from './bucket.ts';

export type RateLimitDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number; policy: string };

export interface RateLimiter {
  check(policies: readonly RateLimitPolicy[], req: RequestInfo, routeId: string | undefined): RateLimitDecision;
  /** Buckets held (total, per client); for metrics and tests. */
  size(): { total: number; clients: number };
}

export interface RateLimiterOptions {
  maxClientBuckets?: number;
}

export const DEFAULT_MAX_CLIENT_BUCKETS = 10_000;
/** Idle buckets examined per check: amortised eviction without a timer. */
const SWEEP_PER_CHECK = 2;

/** An override entry; `burst` is honoured when the config carries it. */
type Override = { principals: string[]; requestsPerSecond: number; burst?: number };

/** Whether a route id (`<Kind>/<ns>/<name>#<rule>`) belongs to one of the route prefixes (`<Kind>/<ns>/<name>`). */
function routeMatches(prefixes: readonly string[], routeId: string): boolean {
  return prefixes.some((p) => routeId === p || routeId.startsWith(`${p}#`));
}

export function policyApplies(p: RateLimitPolicy, service: string | undefined, routeId: string | undefined): boolean {
  if (p.target.all) return true;
  if (service !== undefined && p.target.services.includes(service)) return true;
  return routeId !== undefined && p.routes !== undefined && routeMatches(p.routes, routeId);
}

/** The client's limit under one policy: its override if listed, else the per-identity limit, else none. */
function clientLimit(p: RateLimitPolicy, principal: string | undefined): { key: string; rps: number; burst: number } | undefined {
  if (principal !== undefined) {
    const overrides = (p.overrides ?? []) as readonly Override[];
    const i = overrides.findIndex((o) => o.principals.includes(principal));
    const o = overrides[i];
    if (o) return { key: `o${i}`, rps: o.requestsPerSecond, burst: o.burst ?? o.requestsPerSecond };
  }
  if (p.perIdentity) return { key: 'i', rps: p.perIdentity.requestsPerSecond, burst: p.perIdentity.burst ?? p.perIdentity.requestsPerSecond };
  return undefined;
}

export function createRateLimiter(now: () => number = () => performance.now(), opts: RateLimiterOptions = {}): RateLimiter {
  const maxClients = Math.max(1, opts.maxClientBuckets ?? DEFAULT_MAX_CLIENT_BUCKETS);
  // Index: `<ns>/<name>|<rps>|<burst>` → the policy's total bucket. Few (one per policy version); swept when idle.
  const totals = new Map<string, TokenBucket>();
  // Index: `<ns>/<name>|<i|oN>|<rps>|<burst>|<client>` → that client's bucket, least recently used first.
  const clients = new Map<string, TokenBucket>();

  function bucket(map: Map<string, TokenBucket>, key: string, rps: number, burst: number, t: number, lru: boolean): TokenBucket {
    let b = map.get(key);
    if (b) {
      if (lru) {
        map.delete(key);
        map.set(key, b);
      }
      return b;
    }
    if (lru && map.size >= maxClients) map.delete(map.keys().next().value as string);
    b = createBucket(rps, burst, t);
    map.set(key, b);
    return b;
  }

  function sweep(map: Map<string, TokenBucket>, t: number): void {
    let n = 0;
    for (const [k, b] of map) {
      if (n++ >= SWEEP_PER_CHECK) break;
      if (isFull(b, t)) map.delete(k);
    }
  }

  return {
    check(policies, req, routeId) {
      const t = now();
      sweep(clients, t);
      sweep(totals, t);
      const principal = req.source.principal;
      const client = principal ?? `ip:${req.source.ip}`;
      const needed: Array<{ b: TokenBucket; policy: string }> = [];
      for (const p of policies) {
        if (!policyApplies(p, req.destination.service, routeId)) continue;
        const id = `${p.namespace}/${p.name}`;
        if (p.total) {
          const burst = p.total.burst ?? p.total.requestsPerSecond;
          needed.push({ b: bucket(totals, `${id}|${p.total.requestsPerSecond}|${burst}`, p.total.requestsPerSecond, burst, t, false), policy: id });
        }
        const lim = clientLimit(p, principal);
        if (lim) needed.push({ b: bucket(clients, `${id}|${lim.key}|${lim.rps}|${lim.burst}|${client}`, lim.rps, lim.burst, t, true), policy: id });
      }
      let worst = 0;
      let policy: string | undefined;
      for (const n of needed) {
        const w = waitMs(n.b, t);
        if (w > 0 && policy === undefined) policy = n.policy;
        worst = Math.max(worst, w);
      }
      if (policy !== undefined) return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(worst / 1000)), policy };
      for (const n of needed) take(n.b);
      return { allowed: true };
    },
    size: () => ({ total: totals.size, clients: clients.size }),
  };
}
