// Table tests for the rate limiter with a fake clock: total and per-client buckets, overrides, plaintext clients by
// IP, targeting by service and route, all-or-nothing token taking, Retry-After, and bounded memory.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RateLimitPolicy } from '../../shared/waypoint/config.ts';
import type { RequestInfo } from '../types.ts';
import { createBucket, isFull, take, waitMs } from './bucket.ts';
import { createRateLimiter, type RateLimiterOptions } from './limiter.ts';

const WEB = 'shop/web.shop.svc.cluster.local';
const API = 'shop/api.shop.svc.cluster.local';
const id = (sa: string) => `spiffe://cluster.local/ns/shop/sa/${sa}`;

function req(from: string, service = WEB): RequestInfo {
  const plaintext = from.includes('.');
  return {
    method: 'GET', path: '/', query: '', authority: 'web', headers: {}, grpc: false,
    source: plaintext ? { ip: from, remoteIp: from } : { principal: id(from), namespace: 'shop', ip: '10.244.0.9', remoteIp: '10.244.0.9' },
    destination: { service, ip: '10.96.0.1', port: 80 },
  };
}

const pol = (over: Partial<RateLimitPolicy>, name = 'p'): RateLimitPolicy => ({ namespace: 'shop', name, target: { all: true }, ...over });

/** One request: at time `t` (ms) from a service account name, or an IP for plaintext; `want` ok or [retryAfter, policy]. */
type Step = { t: number; from: string; service?: string; route?: string; want: 'ok' | [number, string] };
type Case = { name: string; policies: RateLimitPolicy[]; steps: Step[]; opts?: RateLimiterOptions; size?: { total: number; clients: number } };

const ok = (t: number, from: string, more: Partial<Step> = {}): Step => ({ t, from, want: 'ok', ...more });
const no = (t: number, from: string, retry: number, policy = 'shop/p', more: Partial<Step> = {}): Step => ({ t, from, want: [retry, policy], ...more });

const cases: Case[] = [
  { name: 'no policies: everything allowed', policies: [], steps: [ok(0, 'a'), ok(0, 'a'), ok(0, 'a')] },
  {
    name: 'total: burst defaults to rps, then refills continuously', policies: [pol({ total: { requestsPerSecond: 2 } })],
    steps: [ok(0, 'a'), ok(0, 'b'), no(0, 'c', 1), ok(500, 'c'), no(500, 'a', 1), ok(1000, 'a')],
  },
  {
    name: 'total with a larger burst', policies: [pol({ total: { requestsPerSecond: 1, burst: 3 } })],
    steps: [ok(0, 'a'), ok(0, 'a'), ok(0, 'a'), no(0, 'a', 1), no(999, 'a', 1), ok(1000, 'a')],
  },
  {
    name: 'a long idle period refills only up to the burst', policies: [pol({ total: { requestsPerSecond: 1, burst: 2 } })],
    steps: [ok(0, 'a'), ok(0, 'a'), ok(3_600_000, 'a'), ok(3_600_000, 'a'), no(3_600_000, 'a', 1)],
  },
  {
    name: 'per identity: each client its own bucket', policies: [pol({ perIdentity: { requestsPerSecond: 1 } })],
    steps: [ok(0, 'a'), no(0, 'a', 1), ok(0, 'b'), no(10, 'b', 1), ok(1000, 'a')],
  },
  {
    name: 'a client refused by its own limit does not use up the shared total', policies: [pol({ total: { requestsPerSecond: 2 }, perIdentity: { requestsPerSecond: 1 } })],
    steps: [ok(0, 'a'), no(0, 'a', 1), no(0, 'a', 1), ok(0, 'b'), no(0, 'c', 1)],
  },
  {
    name: 'an override replaces the per-identity limit for listed clients', policies: [pol({ perIdentity: { requestsPerSecond: 1 }, overrides: [{ principals: [id('vip')], requestsPerSecond: 3 }] })],
    steps: [ok(0, 'vip'), ok(0, 'vip'), ok(0, 'vip'), no(0, 'vip', 1), ok(0, 'a'), no(0, 'a', 1)],
  },
  {
    name: 'each listed client has its own override bucket', policies: [pol({ overrides: [{ principals: [id('x'), id('y')], requestsPerSecond: 1 }] })],
    steps: [ok(0, 'x'), no(0, 'x', 1), ok(0, 'y'), no(0, 'y', 1)],
  },
  {
    name: 'overrides only: unlisted clients are not limited', policies: [pol({ overrides: [{ principals: [id('x')], requestsPerSecond: 1 }] })],
    steps: [ok(0, 'x'), no(0, 'x', 1), ok(0, 'a'), ok(0, 'a'), ok(0, 'a')],
  },
  {
    name: 'an override burst is honoured when present', policies: [pol({ overrides: [{ principals: [id('x')], requestsPerSecond: 1, burst: 2 } as never] })],
    steps: [ok(0, 'x'), ok(0, 'x'), no(0, 'x', 1)],
  },
  {
    name: 'the first override listing a client wins', policies: [pol({ overrides: [{ principals: [id('x')], requestsPerSecond: 1 }, { principals: [id('x')], requestsPerSecond: 5 }] })],
    steps: [ok(0, 'x'), no(0, 'x', 1)],
  },
  {
    name: 'plaintext clients are keyed by source IP', policies: [pol({ perIdentity: { requestsPerSecond: 1 } })],
    steps: [ok(0, '10.0.0.1'), no(0, '10.0.0.1', 1), ok(0, '10.0.0.2'), ok(0, 'a')],
  },
  {
    name: 'per-identity burst', policies: [pol({ perIdentity: { requestsPerSecond: 2, burst: 4 } })],
    steps: [ok(0, 'a'), ok(0, 'a'), ok(0, 'a'), ok(0, 'a'), no(0, 'a', 1), ok(500, 'a'), no(500, 'a', 1)],
  },
  {
    name: 'Retry-After rounds the wait up to whole seconds', policies: [pol({ total: { requestsPerSecond: 1, burst: 1 } })],
    steps: [ok(0, 'a'), no(1, 'a', 1), no(999, 'a', 1), ok(1000, 'a')],
  },
  {
    name: 'a service-targeted policy leaves other services alone', policies: [pol({ target: { services: [WEB] }, total: { requestsPerSecond: 1 } })],
    steps: [ok(0, 'a'), no(0, 'a', 1), ok(0, 'a', { service: API }), ok(0, 'a', { service: API })],
  },
  {
    name: 'a route-targeted policy applies to that route’s rules only', policies: [pol({ target: { services: [] }, routes: ['HTTPRoute/shop/r'], total: { requestsPerSecond: 1 } })],
    steps: [
      ok(0, 'a', { route: 'HTTPRoute/shop/r#0' }), no(0, 'a', 1, 'shop/p', { route: 'HTTPRoute/shop/r#1' }),
      ok(0, 'a', { route: 'HTTPRoute/shop/r2#0' }), ok(0, 'a'), ok(0, 'a'),
    ],
  },
  {
    name: 'two policies: both must allow; the refusal names the first that refused', policies: [
      pol({ total: { requestsPerSecond: 10 } }, 'wide'), pol({ target: { services: [WEB] }, perIdentity: { requestsPerSecond: 1 } }, 'narrow'),
    ],
    steps: [ok(0, 'a'), no(0, 'a', 1, 'shop/narrow'), ok(0, 'a', { service: API })],
  },
  {
    name: 'a refusal by one policy takes no token from the others', policies: [
      pol({ total: { requestsPerSecond: 2 } }, 'shared'), pol({ perIdentity: { requestsPerSecond: 1 } }, 'each'),
    ],
    steps: [ok(0, 'a'), no(0, 'a', 1, 'shop/each'), no(0, 'a', 1, 'shop/each'), ok(0, 'b'), no(0, 'c', 1, 'shop/shared')],
  },
  {
    name: 'an override applies only within the policy that lists it', policies: [
      pol({ perIdentity: { requestsPerSecond: 1 }, overrides: [{ principals: [id('x')], requestsPerSecond: 3 }] }, 'p1'),
      pol({ perIdentity: { requestsPerSecond: 2 } }, 'p2'),
    ],
    steps: [ok(0, 'x'), ok(0, 'x'), no(0, 'x', 1, 'shop/p2'), ok(0, 'y'), no(0, 'y', 1, 'shop/p1')],
  },
  {
    name: 'plaintext clients never match an override', policies: [pol({ perIdentity: { requestsPerSecond: 2 }, overrides: [{ principals: [id('x')], requestsPerSecond: 1 }] })],
    steps: [ok(0, '10.0.0.1'), ok(0, '10.0.0.1'), no(0, '10.0.0.1', 1), ok(0, 'x'), no(0, 'x', 1)],
  },
  {
    name: 'a clock going backwards adds no tokens', policies: [pol({ total: { requestsPerSecond: 1 } })],
    steps: [ok(5000, 'a'), no(4000, 'a', 1), no(5000, 'a', 1), ok(6000, 'a')],
  },
  {
    name: 'the client bucket cap evicts the least recently used', policies: [pol({ perIdentity: { requestsPerSecond: 1 } })], opts: { maxClientBuckets: 2 },
    steps: [ok(0, 'a'), ok(0, 'b'), no(0, 'a', 1), ok(0, 'c'), no(0, 'a', 1), ok(0, 'b')],
    size: { total: 0, clients: 2 },
  },
  {
    name: 'idle (full) buckets are dropped as requests go by', policies: [pol({ total: { requestsPerSecond: 10 }, perIdentity: { requestsPerSecond: 1 } })],
    steps: [ok(0, 'a'), ok(1, 'b'), ok(60_000, 'c'), ok(60_000, 'c2'), ok(120_000, 'c3'), ok(121_000, 'c3')],
    size: { total: 1, clients: 1 },
  },
];

test('rate limiter: table with a fake clock', () => {
  assert.ok(cases.length >= 20);
  for (const c of cases) {
    let now = 0;
    const limiter = createRateLimiter(() => now, c.opts);
    c.steps.forEach((s, i) => {
      now = s.t;
      const d = limiter.check(c.policies, req(s.from, s.service), s.route);
      const want = s.want === 'ok' ? { allowed: true } : { allowed: false, retryAfterSeconds: s.want[0], policy: s.want[1] };
      assert.deepEqual(d, want, `${c.name}: step ${i}`);
    });
    if (c.size) assert.deepEqual(limiter.size(), c.size, `${c.name}: size`);
  }
});

test('rate limiter: editing a policy’s rate gives it new buckets', () => {
  let now = 0;
  const limiter = createRateLimiter(() => now);
  assert.equal(limiter.check([pol({ total: { requestsPerSecond: 1 } })], req('a'), undefined).allowed, true);
  assert.equal(limiter.check([pol({ total: { requestsPerSecond: 1 } })], req('a'), undefined).allowed, false);
  assert.equal(limiter.check([pol({ total: { requestsPerSecond: 5 } })], req('a'), undefined).allowed, true);
  now = 10;
  assert.equal(limiter.check([pol({ total: { requestsPerSecond: 5, burst: 1 } })], req('a'), undefined).allowed, true);
});

test('rate limiter: memory stays bounded under many clients', () => {
  let now = 0;
  const limiter = createRateLimiter(() => now, { maxClientBuckets: 100 });
  const p = [pol({ perIdentity: { requestsPerSecond: 1 } })];
  for (let i = 0; i < 5_000; i++) limiter.check(p, req(`10.1.${i >> 8}.${i & 255}`), undefined);
  assert.deepEqual(limiter.size(), { total: 0, clients: 100 });
  now = 10_000;
  for (let i = 0; i < 60; i++) limiter.check(p, req('a'), undefined);
  assert.ok(limiter.size().clients < 100);
});

test('token bucket: refill, wait, take, full', () => {
  const b = createBucket(4, 2, 0);
  assert.equal(waitMs(b, 0), 0);
  take(b);
  take(b);
  assert.equal(waitMs(b, 0), 250);
  assert.equal(waitMs(b, 125), 125);
  assert.equal(waitMs(b, 250), 0);
  assert.equal(isFull(b, 250), false);
  assert.equal(isFull(b, 500), true);
  assert.equal(b.tokens, 2);
});
