// Table tests of load balancing and hash keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadBalancer } from '../../shared/waypoint/config.ts';
import { createBalancer, hashKeyFor, murmur3, type HashRequest } from './lb.ts';
import type { EndpointRef } from './types.ts';

const E = (n: number, weight?: number): EndpointRef =>
  ({ id: `uid-${n}:10.244.1.${n}:8080`, ip: `10.244.1.${n}`, port: 8080, ...(weight !== undefined ? { weight } : {}) });
const three = [E(1), E(2), E(3)];
const idle = (): number => 0;
const activeOf = (m: Record<number, number>) => (id: string): number => m[Number(/^uid-(\d+):/.exec(id)![1])] ?? 0;

function count(picks: Array<EndpointRef | undefined>): Record<string, number> {
  const c: Record<string, number> = {};
  for (const p of picks) c[p?.id ?? 'none'] = (c[p?.id ?? 'none'] ?? 0) + 1;
  return c;
}

test('no endpoints: every policy picks nothing', () => {
  const policies: Array<LoadBalancer | undefined> = [
    undefined, { simple: 'ROUND_ROBIN' }, { simple: 'RANDOM' }, { simple: 'LEAST_REQUEST' }, { consistentHash: { header: 'x' } },
  ];
  for (const lb of policies) assert.equal(createBalancer(lb).pick([], { rand: 0.5, active: idle, hashKey: 'k' }), undefined, JSON.stringify(lb));
});

test('one endpoint: every policy picks it', () => {
  for (const lb of [undefined, { simple: 'ROUND_ROBIN' as const }, { simple: 'RANDOM' as const }, { consistentHash: { sourceIp: true } }]) {
    assert.equal(createBalancer(lb).pick([E(7)], { rand: 0.9, active: idle, hashKey: 'k' })?.id, E(7).id);
  }
});

test('ROUND_ROBIN rotates from a random start', () => {
  const cases: Array<{ rand: number; want: number[] }> = [
    { rand: 0, want: [1, 2, 3, 1, 2, 3] },
    { rand: 0.5, want: [2, 3, 1, 2, 3, 1] },
    { rand: 0.99, want: [3, 1, 2, 3, 1, 2] },
  ];
  for (const c of cases) {
    const b = createBalancer({ simple: 'ROUND_ROBIN' });
    const got = c.want.map(() => b.pick(three, { rand: c.rand, active: idle })!.ip.split('.')[3]).map(Number);
    assert.deepEqual(got, c.want, `rand ${c.rand}`);
  }
});

test('ROUND_ROBIN keeps rotating when the set shrinks', () => {
  const b = createBalancer({ simple: 'ROUND_ROBIN' });
  b.pick(three, { rand: 0, active: idle });
  const two = [E(1), E(3)];
  const got = [0, 1, 2, 3].map(() => b.pick(two, { rand: 0, active: idle })!.id);
  assert.equal(new Set(got).size, 2);
  assert.notEqual(got[0], got[1]);
});

test('ROUND_ROBIN weighted 3:1 is smooth', () => {
  const b = createBalancer({ simple: 'ROUND_ROBIN' });
  const eps = [E(1, 3), E(2, 1)];
  const picks = Array.from({ length: 8 }, () => b.pick(eps, { rand: 0, active: idle })!);
  assert.deepEqual(count(picks), { [E(1).id]: 6, [E(2).id]: 2 });
  // Never two picks of the light endpoint in a row.
  for (let i = 1; i < picks.length; i++) assert.ok(!(picks[i]!.id === E(2).id && picks[i - 1]!.id === E(2).id));
});

test('RANDOM maps rand onto the endpoints, by weight', () => {
  const cases: Array<{ eps: EndpointRef[]; rand: number; want: number }> = [
    { eps: three, rand: 0, want: 1 },
    { eps: three, rand: 0.34, want: 2 },
    { eps: three, rand: 0.999, want: 3 },
    { eps: [E(1, 1), E(2, 3)], rand: 0.2, want: 1 },
    { eps: [E(1, 1), E(2, 3)], rand: 0.3, want: 2 },
    { eps: [E(1, 0), E(2, 5)], rand: 0.01, want: 2 },
    { eps: [E(1, 0), E(2, 0)], rand: 0.9, want: 2 },
  ];
  for (const c of cases) {
    const got = createBalancer({ simple: 'RANDOM' }).pick(c.eps, { rand: c.rand, active: idle });
    assert.equal(got?.id, E(c.want).id, `rand ${c.rand} weights ${c.eps.map((e) => e.weight).join(',')}`);
  }
});

test('LEAST_REQUEST: of two random choices, the one with fewer active requests', () => {
  const cases: Array<{ name: string; eps: EndpointRef[]; rand: number; active: Record<number, number>; want: number }> = [
    { name: 'second choice less loaded', eps: [E(1), E(2)], rand: 0.1, active: { 1: 5, 2: 1 }, want: 2 },
    { name: 'first choice less loaded', eps: [E(1), E(2)], rand: 0.1, active: { 1: 0, 2: 3 }, want: 1 },
    { name: 'tie keeps the first choice', eps: [E(1), E(2)], rand: 0.9, active: {}, want: 2 },
    { name: 'the busiest of three is never picked when not both choices', eps: three, rand: 0.05, active: { 1: 9, 2: 0, 3: 0 }, want: 2 },
    { name: 'weighted: weight over (active + 1)', eps: [E(1, 1), E(2, 4)], rand: 0.5, active: { 1: 0, 2: 7 }, want: 1 },
  ];
  for (const c of cases) {
    assert.equal(createBalancer({ simple: 'LEAST_REQUEST' }).pick(c.eps, { rand: c.rand, active: activeOf(c.active) })?.id, E(c.want).id, c.name);
  }
});

test('LEAST_REQUEST: the two choices always differ, whatever rand', () => {
  // With one endpoint loaded and three idle, the loaded one can only win if both choices were it.
  const eps = [E(1), E(2), E(3), E(4)];
  const b = createBalancer({ simple: 'LEAST_REQUEST' });
  for (let i = 0; i < 1000; i++) {
    const rand = i / 1000;
    assert.notEqual(b.pick(eps, { rand, active: activeOf({ 3: 1 }) })!.id, E(3).id, `rand ${rand}`);
  }
});

test('default policy is LEAST_REQUEST (Istio), not round robin', () => {
  const b = createBalancer(undefined);
  for (const rand of [0, 0.3, 0.6, 0.99]) assert.equal(b.pick([E(1), E(2)], { rand, active: activeOf({ 1: 4 }) })!.id, E(2).id);
});

test('consistent hash: a key maps to one endpoint, whatever the listing order', () => {
  const b = createBalancer({ consistentHash: { header: 'x-user' } });
  const fresh = createBalancer({ consistentHash: { sourceIp: true } });
  const eps = [E(1), E(2), E(3), E(4), E(5)];
  for (let k = 0; k < 200; k++) {
    const key = `user-${k}`;
    const a = b.pick(eps, { hashKey: key, rand: Math.random(), active: idle })!.id;
    assert.equal(b.pick([...eps].reverse(), { hashKey: key, rand: Math.random(), active: idle })!.id, a);
    assert.equal(fresh.pick([E(3), E(1), E(5), E(2), E(4)], { hashKey: key, rand: 0, active: idle })!.id, a, 'another balancer builds the same ring');
  }
});

test('consistent hash: when an endpoint leaves only its keys move, and load is spread', () => {
  const b = createBalancer({ consistentHash: { header: 'x-user' } });
  const eps = [E(1), E(2), E(3), E(4), E(5)];
  const keys = Array.from({ length: 3000 }, (_, i) => `session-${i}`);
  const before = keys.map((k) => b.pick(eps, { hashKey: k, rand: 0, active: idle })!.id);
  const share = count(before.map((id) => ({ id }) as EndpointRef));
  for (const e of eps) assert.ok(share[e.id]! > 300 && share[e.id]! < 1000, `share of ${e.id}: ${share[e.id]}`);
  const without3 = eps.filter((e) => e.id !== E(3).id);
  let moved = 0;
  keys.forEach((k, i) => {
    const now = b.pick(without3, { hashKey: k, rand: 0, active: idle })!.id;
    if (before[i] === E(3).id) moved++;
    else assert.equal(now, before[i], `key ${k} moved although its endpoint stayed`);
  });
  assert.equal(moved, share[E(3).id]);
  // And back: the original mapping returns exactly.
  keys.forEach((k, i) => assert.equal(b.pick(eps, { hashKey: k, rand: 0, active: idle })!.id, before[i]));
});

test('consistent hash: weights shape the ring; no key: random pick', () => {
  const b = createBalancer({ consistentHash: { header: 'x' } });
  const eps = [E(1, 1), E(2, 3)];
  const picks = Array.from({ length: 2000 }, (_, i) => b.pick(eps, { hashKey: `k${i}`, rand: 0, active: idle })!);
  const heavy = count(picks)[E(2).id]!;
  assert.ok(heavy > 1300 && heavy < 1700, `heavy endpoint got ${heavy} of 2000`);
  assert.equal(b.pick(three, { rand: 0, active: idle })!.id, E(1).id);
  assert.equal(b.pick(three, { rand: 0.99, active: idle })!.id, E(3).id);
});

test('murmur3 matches the reference vectors', () => {
  const cases: Array<[string, number, number]> = [
    ['', 0, 0],
    ['', 1, 0x514e28b7],
    ['hello', 0, 0x248bfa47],
    ['The quick brown fox jumps over the lazy dog', 0, 0x2e4ff723],
  ];
  for (const [s, seed, want] of cases) assert.equal(murmur3(s, seed), want, JSON.stringify(s));
});

test('hashKeyFor: header, cookie, source IP, query parameter', () => {
  const req = (h: HashRequest['headers'], query = ''): HashRequest => ({ headers: h, sourceIp: '10.244.2.9', query });
  const gen = (): string => 'c0ffee';
  const cases: Array<{ name: string; lb: LoadBalancer | undefined; req: HashRequest; want: { key?: string; setCookie?: string } }> = [
    { name: 'no policy', lb: undefined, req: req({ 'x-user': 'a' }), want: {} },
    { name: 'simple policy', lb: { simple: 'RANDOM' }, req: req({ 'x-user': 'a' }), want: {} },
    { name: 'header', lb: { consistentHash: { header: 'X-User' } }, req: req({ 'x-user': 'alice' }), want: { key: 'alice' } },
    { name: 'header missing', lb: { consistentHash: { header: 'x-user' } }, req: req({}), want: {} },
    { name: 'header repeated', lb: { consistentHash: { header: 'x-user' } }, req: req({ 'x-user': ['a', 'b'] }), want: { key: 'a,b' } },
    { name: 'cookie', lb: { consistentHash: { cookie: { name: 'sid' } } }, req: req({ cookie: 'a=1; sid=xyz; b=2' }), want: { key: 'xyz' } },
    { name: 'cookie quoted', lb: { consistentHash: { cookie: { name: 'sid' } } }, req: req({ cookie: 'sid="q1"' }), want: { key: 'q1' } },
    { name: 'cookie prefix is not the cookie', lb: { consistentHash: { cookie: { name: 'sid' } } }, req: req({ cookie: 'sidx=1' }), want: {} },
    { name: 'cookie missing, no ttl', lb: { consistentHash: { cookie: { name: 'sid' } } }, req: req({}), want: {} },
    {
      name: 'cookie missing, ttl: generated', lb: { consistentHash: { cookie: { name: 'sid', path: '/', ttlMs: 3_600_000 } } }, req: req({}),
      want: { key: 'c0ffee', setCookie: 'sid="c0ffee"; Max-Age=3600; Path=/; HttpOnly' },
    },
    {
      name: 'cookie missing, ttl 0: session cookie', lb: { consistentHash: { cookie: { name: 'sid', ttlMs: 0 } } }, req: req({}),
      want: { key: 'c0ffee', setCookie: 'sid="c0ffee"; HttpOnly' },
    },
    { name: 'source ip', lb: { consistentHash: { sourceIp: true } }, req: req({}), want: { key: '10.244.2.9' } },
    { name: 'query parameter', lb: { consistentHash: { queryParameter: 'u' } }, req: req({}, 'a=1&u=bob%20x'), want: { key: 'bob x' } },
    { name: 'query parameter missing', lb: { consistentHash: { queryParameter: 'u' } }, req: req({}, 'a=1'), want: {} },
  ];
  for (const c of cases) assert.deepEqual(hashKeyFor(c.lb, c.req, gen), c.want, c.name);
});

test('hashKeyFor: generated cookie values differ by default', () => {
  const lb: LoadBalancer = { consistentHash: { cookie: { name: 'sid', ttlMs: 1000 } } };
  const a = hashKeyFor(lb, { headers: {}, sourceIp: '1.1.1.1', query: '' });
  const b = hashKeyFor(lb, { headers: {}, sourceIp: '1.1.1.1', query: '' });
  assert.match(a.key!, /^[0-9a-f]{16}$/);
  assert.notEqual(a.key, b.key);
  assert.equal(a.setCookie, `sid="${a.key}"; Max-Age=1; HttpOnly`);
});
