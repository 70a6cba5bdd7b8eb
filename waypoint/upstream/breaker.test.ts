// Table tests of circuit breaking: limits from ConnectionPool, the admission state machine, its promise face.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { UpstreamProtocol } from './types.ts';
import {
  breakerLimits, clusterKey, createBreakerState, createCircuitBreaker, overflowReply, UNLIMITED,
  type BreakerLimits, type BreakerSlot, type BreakerState,
} from './breaker.ts';

const limits = (l: Partial<BreakerLimits>): BreakerLimits => ({ ...breakerLimits(undefined), ...l });

test('limits: Istio defaults and its "> 0 counts" rule', () => {
  const all = { maxConnections: UNLIMITED, maxPendingRequests: UNLIMITED, maxRequests: UNLIMITED, maxRetries: UNLIMITED, maxRequestsPerConnection: 0 };
  const cases: Array<{ name: string; pool: Parameters<typeof breakerLimits>[0]; want: BreakerLimits }> = [
    { name: 'no pool', pool: undefined, want: all },
    { name: 'empty pool', pool: {}, want: all },
    { name: 'zeros mean default', pool: { maxConnections: 0, http1MaxPendingRequests: 0, http2MaxRequests: 0, maxRetries: 0, maxRequestsPerConnection: 0 }, want: all },
    {
      name: 'set values', pool: { maxConnections: 1, http1MaxPendingRequests: 2, http2MaxRequests: 3, maxRetries: 4, maxRequestsPerConnection: 5 },
      want: { maxConnections: 1, maxPendingRequests: 2, maxRequests: 3, maxRetries: 4, maxRequestsPerConnection: 5 },
    },
    { name: 'above 2^32-1 clamps', pool: { maxConnections: 2 ** 40 }, want: all },
  ];
  for (const c of cases) assert.deepEqual(breakerLimits(c.pool), c.want, c.name);
  assert.equal(UNLIMITED, 2 ** 32 - 1);
});

test('clusterKey and the overflow reply', () => {
  assert.equal(clusterKey('demo/reviews.demo.svc.cluster.local', 9080), 'demo/reviews.demo.svc.cluster.local:9080');
  assert.equal(clusterKey('demo/reviews.demo.svc.cluster.local', 9080, 'v2'), 'demo/reviews.demo.svc.cluster.local:9080#v2');
  assert.equal(overflowReply.status, 503);
  assert.equal(overflowReply.responseFlag, 'UO');
  assert.deepEqual(overflowReply.headers, { 'x-envoy-overloaded': 'true' });
});

/** Runs steps against one state; `enter` steps record their slot under a name for later `leave` steps. */
type Step =
  | { enter: string; ep?: string; proto?: UpstreamProtocol; want: 'start' | 'queued' | 'max-requests' | 'max-pending-requests' }
  | { leave: string; started?: string[]; overflowed?: string[] }
  | { limits: Partial<BreakerLimits>; started?: string[]; overflowed?: string[] }
  | { stats: Partial<ReturnType<BreakerState['stats']>> };

function run(name: string, initial: Partial<BreakerLimits>, steps: Step[]): void {
  const s = createBreakerState(limits(initial));
  const slots = new Map<string, BreakerSlot>();
  const nameOf = (slot: BreakerSlot): string => [...slots].find(([, v]) => v === slot)![0];
  steps.forEach((st, i) => {
    const at = `${name}, step ${i + 1}`;
    if ('enter' in st) {
      const r = s.enter(st.ep ?? 'e1', st.proto ?? 'http1');
      assert.equal(r.kind === 'overflow' ? r.reason : r.kind, st.want, at);
      if (r.kind !== 'overflow') slots.set(st.enter, r.slot);
    } else if ('leave' in st || 'limits' in st) {
      const t = 'leave' in st ? s.leave(slots.get(st.leave)!) : s.setLimits(limits(st.limits));
      assert.deepEqual(t.started.map(nameOf), st.started ?? [], `${at} started`);
      assert.deepEqual(t.overflowed.map(nameOf), st.overflowed ?? [], `${at} overflowed`);
    } else {
      const got = s.stats();
      for (const [k, v] of Object.entries(st.stats)) assert.equal(got[k as keyof typeof got], v, `${at} ${k}`);
    }
  });
}

test('breaker: default limits never overflow', () => {
  run('defaults', {}, [
    ...Array.from({ length: 500 }, (_, i): Step => ({ enter: `r${i}`, ep: `e${i % 3}`, want: 'start' })),
    { stats: { activeRequests: 500, busyConnections: 500, pendingRequests: 0 } },
  ]);
});

test('breaker: maxConnections 1 + http1MaxPendingRequests 1 (Istio circuit-breaking task)', () => {
  run('task', { maxConnections: 1, maxPendingRequests: 1 }, [
    { enter: 'a', want: 'start' },
    { enter: 'b', want: 'queued' },
    { enter: 'c', want: 'max-pending-requests' },
    { stats: { activeRequests: 1, pendingRequests: 1, pendingOverflows: 1 } },
    { leave: 'a', started: ['b'] },
    { enter: 'd', want: 'queued' },
    { leave: 'b', started: ['d'] },
    { leave: 'd' },
    { stats: { activeRequests: 0, busyConnections: 0, pendingRequests: 0 } },
  ]);
});

test('breaker: the pending queue is FIFO', () => {
  run('fifo', { maxConnections: 1 }, [
    { enter: 'a', want: 'start' },
    { enter: 'b', want: 'queued' },
    { enter: 'c', want: 'queued' },
    { enter: 'd', want: 'queued' },
    { leave: 'a', started: ['b'] },
    { leave: 'b', started: ['c'] },
    { leave: 'c', started: ['d'] },
  ]);
});

test('breaker: an endpoint without a connection may always open one (Envoy)', () => {
  run('per endpoint', { maxConnections: 1, maxPendingRequests: 10 }, [
    { enter: 'a', ep: 'e1', want: 'start' },
    { enter: 'b', ep: 'e2', want: 'start' },
    { enter: 'c', ep: 'e1', want: 'queued' },
    { enter: 'd', ep: 'e2', want: 'queued' },
    { enter: 'e', ep: 'e3', want: 'start' },
    // e1 frees its connection: only e1's queued request could use it; the cluster is still over its limit.
    { leave: 'a', started: ['c'] },
    { leave: 'b', started: ['d'] },
    { stats: { busyConnections: 3, pendingRequests: 0 } },
  ]);
});

test('breaker: http2MaxRequests caps concurrent requests of every protocol', () => {
  run('max requests', { maxRequests: 2 }, [
    { enter: 'a', proto: 'h2c', want: 'start' },
    { enter: 'b', proto: 'http1', want: 'start' },
    { enter: 'c', proto: 'h2c', want: 'max-requests' },
    { enter: 'd', proto: 'http1', want: 'max-requests' },
    { stats: { requestOverflows: 2 } },
    { leave: 'a' },
    { enter: 'e', proto: 'h2c', want: 'start' },
  ]);
});

test('breaker: HTTP/2 requests never queue for connections', () => {
  run('h2 multiplexing', { maxConnections: 1, maxPendingRequests: 1 }, [
    { enter: 'a', proto: 'h2c', want: 'start' },
    { enter: 'b', proto: 'h2c', want: 'start' },
    { enter: 'c', proto: 'h2c', want: 'start' },
    { enter: 'd', proto: 'http1', want: 'start' },
    { stats: { activeRequests: 4, busyConnections: 1 } },
  ]);
});

test('breaker: a queued request gives up; leaving twice is harmless', () => {
  run('cancel', { maxConnections: 1 }, [
    { enter: 'a', want: 'start' },
    { enter: 'b', want: 'queued' },
    { enter: 'c', want: 'queued' },
    { leave: 'b' },
    { stats: { pendingRequests: 1 } },
    { leave: 'a', started: ['c'] },
    { leave: 'a' },
    { stats: { activeRequests: 1, busyConnections: 1 } },
  ]);
});

test('breaker: a queued request that gets a connection while requests are at the limit overflows (Envoy)', () => {
  run('late overflow', { maxConnections: 1, maxRequests: 2 }, [
    { enter: 'a', want: 'start' },
    { enter: 'b', want: 'queued' },
    { enter: 'h', proto: 'h2c', want: 'start' },
    { limits: { maxConnections: 1, maxRequests: 1 } },
    { leave: 'a', overflowed: ['b'] },
    { stats: { requestOverflows: 1, pendingRequests: 0, activeRequests: 1 } },
  ]);
});

test('breaker: raising maxConnections lets queued requests through', () => {
  run('raise', { maxConnections: 1 }, [
    { enter: 'a', want: 'start' },
    { enter: 'b', want: 'queued' },
    { enter: 'c', want: 'queued' },
    { limits: { maxConnections: 3 }, started: ['b', 'c'] },
  ]);
});

test('breaker: maxRetries bounds concurrent retries; default unlimited', () => {
  const s = createBreakerState(limits({ maxRetries: 2 }));
  assert.deepEqual([s.tryRetry(), s.tryRetry(), s.tryRetry()], [true, true, false]);
  s.retryDone();
  assert.equal(s.tryRetry(), true);
  assert.equal(s.stats().retryOverflows, 1);
  const d = createBreakerState(breakerLimits(undefined));
  for (let i = 0; i < 1000; i++) assert.equal(d.tryRetry(), true);
});

test('circuit breaker: admit resolves in turn, overflows, and honours abort', async () => {
  const cb = createCircuitBreaker({ maxConnections: 1, http1MaxPendingRequests: 2 });
  const a = await cb.admit('e1', 'http1');
  assert.ok(a.ok);
  const order: string[] = [];
  const b = cb.admit('e1', 'http1').then((r) => { order.push('b'); return r; });
  const ac = new AbortController();
  const c = cb.admit('e1', 'http1', ac.signal);
  assert.deepEqual(await cb.admit('e1', 'http1'), { ok: false, reason: 'max-pending-requests' });
  ac.abort(new Error('client gone'));
  await assert.rejects(c, /client gone/);
  assert.equal(cb.stats().pendingRequests, 1);
  a.release();
  a.release(); // idempotent
  const rb = await b;
  assert.ok(rb.ok);
  assert.deepEqual(order, ['b']);
  assert.equal(cb.stats().activeRequests, 1);
  rb.release();
  assert.equal(cb.stats().activeRequests, 0);
  await assert.rejects(cb.admit('e1', 'http1', AbortSignal.abort(new Error('already'))), /already/);
});

test('circuit breaker: update() applies new limits to queued requests; retries release once', async () => {
  const cb = createCircuitBreaker({ maxConnections: 1 });
  const a = await cb.admit('e1', 'http1');
  const b = cb.admit('e1', 'http1');
  cb.update({ maxConnections: 2 });
  const rb = await b;
  assert.ok(rb.ok && a.ok);
  assert.equal(cb.limits.maxConnections, 2);
  const r = createCircuitBreaker({ maxRetries: 1 });
  const done = r.tryRetry()!;
  assert.equal(r.tryRetry(), undefined);
  done();
  done();
  assert.ok(r.tryRetry());
  assert.equal(r.tryRetry(), undefined);
});
