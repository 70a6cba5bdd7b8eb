// Table tests for the numeric decisions: weighted choice, faults, retries and back-off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RetryPolicy } from '../../shared/waypoint/config.ts';
import { pickWeighted } from './weighted.ts';
import { faultAbort, faultDelayMs } from './fault.ts';
import { DEFAULT_RETRY, retryBackoffMs, shouldRetry, type TryOutcome } from './retry.ts';

const items = [{ id: 'a', weight: 80 }, { id: 'zero', weight: 0 }, { id: 'b', weight: 20 }];
const pickCases: Array<{ rand: number; want: string | undefined; list?: Array<{ id: string; weight: number }> }> = [
  { rand: 0, want: 'a' },
  { rand: 0.7999, want: 'a' },
  { rand: 0.8, want: 'b' },
  { rand: 0.9999999, want: 'b' },
  { rand: 1, want: 'b' },
  { rand: 0.5, want: undefined, list: [{ id: 'z', weight: 0 }] },
  { rand: 0.5, want: undefined, list: [] },
  { rand: 0.5, want: 'only', list: [{ id: 'only', weight: 3 }] },
  { rand: 0.34, want: 'y', list: [{ id: 'x', weight: 1 }, { id: 'y', weight: 1 }, { id: 'z', weight: 1 }] },
];
for (const c of pickCases) {
  test(`pickWeighted rand=${c.rand} over ${JSON.stringify((c.list ?? items).map((i) => i.weight))} → ${c.want}`, () => {
    assert.equal(pickWeighted(c.list ?? items, c.rand)?.id, c.want);
  });
}

test('pickWeighted: the split over many draws follows the weights and never picks weight 0', () => {
  const counts: Record<string, number> = {};
  for (let i = 0; i < 1000; i++) {
    const id = pickWeighted(items, i / 1000)!.id;
    counts[id] = (counts[id] ?? 0) + 1;
  }
  assert.deepEqual(counts, { a: 800, b: 200 });
});

const faultCases: Array<{ name: string; rand: number; delay: number; abort: ReturnType<typeof faultAbort> }> = [
  { name: 'both picked', rand: 5, delay: 1500, abort: { httpStatus: 503 } },
  { name: 'delay only (10% < rand < 50%)', rand: 30, delay: 1500, abort: undefined },
  { name: 'neither', rand: 60, delay: 0, abort: undefined },
];
for (const c of faultCases) {
  test(`fault: ${c.name}`, () => {
    const f = { delay: { ms: 1500, percent: 50 }, abort: { httpStatus: 503, percent: 10 } };
    assert.equal(faultDelayMs(f, c.rand), c.delay);
    assert.deepEqual(faultAbort(f, c.rand), c.abort);
  });
}

test('fault: absent, 0%, 100%, fractional percentages and gRPC aborts', () => {
  assert.equal(faultDelayMs(undefined, 0), 0);
  assert.equal(faultAbort(undefined, 0), undefined);
  assert.equal(faultDelayMs({ delay: { ms: 10, percent: 0 } }, 0), 0);
  assert.equal(faultDelayMs({ delay: { ms: 10, percent: 100 } }, 99.999), 10);
  assert.equal(faultDelayMs({ delay: { ms: 10, percent: 0.1 } }, 0.05), 10);
  assert.equal(faultDelayMs({ delay: { ms: 10, percent: 0.1 } }, 0.1), 0);
  assert.deepEqual(faultAbort({ abort: { grpcStatus: 14, percent: 100 } }, 50), { grpcStatus: 14 });
});

const p = (retryOn: string[], extra: Partial<RetryPolicy> = {}): RetryPolicy => ({ attempts: 3, retryOn, ...extra });
const resp = (status: number, grpcStatus?: number): TryOutcome => ({ kind: 'response', status, grpcStatus });
const retryCases: Array<{ name: string; p: RetryPolicy; o: TryOutcome; want: boolean }> = [
  { name: 'default: 503', p: DEFAULT_RETRY, o: resp(503), want: true },
  { name: 'default: 500 not retried', p: DEFAULT_RETRY, o: resp(500), want: false },
  { name: 'default: 502 not retried', p: DEFAULT_RETRY, o: resp(502), want: false },
  { name: 'default: connect failure', p: DEFAULT_RETRY, o: { kind: 'connect-failure' }, want: true },
  { name: 'default: refused stream', p: DEFAULT_RETRY, o: { kind: 'refused-stream' }, want: true },
  { name: 'default: reset not retried', p: DEFAULT_RETRY, o: { kind: 'reset' }, want: false },
  { name: 'default: per-try timeout not retried', p: DEFAULT_RETRY, o: { kind: 'timeout' }, want: false },
  { name: 'default: grpc unavailable', p: DEFAULT_RETRY, o: resp(200, 14), want: true },
  { name: 'default: grpc cancelled', p: DEFAULT_RETRY, o: resp(200, 1), want: true },
  { name: 'default: grpc internal not retried', p: DEFAULT_RETRY, o: resp(200, 13), want: false },
  { name: 'default: 200 ok', p: DEFAULT_RETRY, o: resp(200), want: false },
  { name: '5xx: 500', p: p(['5xx']), o: resp(500), want: true },
  { name: '5xx: 599', p: p(['5xx']), o: resp(599), want: true },
  { name: '5xx: 404 not', p: p(['5xx']), o: resp(404), want: false },
  { name: '5xx: reset', p: p(['5xx']), o: { kind: 'reset' }, want: true },
  { name: '5xx: connect failure', p: p(['5xx']), o: { kind: 'connect-failure' }, want: true },
  { name: '5xx: per-try timeout', p: p(['5xx']), o: { kind: 'timeout' }, want: true },
  { name: 'gateway-error: 502', p: p(['gateway-error']), o: resp(502), want: true },
  { name: 'gateway-error: 504', p: p(['gateway-error']), o: resp(504), want: true },
  { name: 'gateway-error: 500 not', p: p(['gateway-error']), o: resp(500), want: false },
  { name: 'gateway-error: per-try timeout', p: p(['gateway-error']), o: { kind: 'timeout' }, want: true },
  { name: 'reset: reset', p: p(['reset']), o: { kind: 'reset' }, want: true },
  { name: 'reset: per-try timeout', p: p(['reset']), o: { kind: 'timeout' }, want: true },
  { name: 'reset: 503 response not', p: p(['reset']), o: resp(503), want: false },
  { name: 'connect-failure: reset not', p: p(['connect-failure']), o: { kind: 'reset' }, want: false },
  { name: 'refused-stream: connect failure not', p: p(['refused-stream']), o: { kind: 'connect-failure' }, want: false },
  { name: 'reset-before-request: connect failure', p: p(['reset-before-request']), o: { kind: 'connect-failure' }, want: true },
  { name: 'retriable-4xx: 409', p: p(['retriable-4xx']), o: resp(409), want: true },
  { name: 'retriable-4xx: 429 not', p: p(['retriable-4xx']), o: resp(429), want: false },
  { name: 'retriable-status-codes: listed', p: p(['retriable-status-codes'], { retriableStatusCodes: [429, 503] }), o: resp(429), want: true },
  { name: 'retriable-status-codes: not listed', p: p(['retriable-status-codes'], { retriableStatusCodes: [503] }), o: resp(500), want: false },
  { name: 'codes listed without the token do nothing', p: p(['5xx'], { retriableStatusCodes: [429] }), o: resp(429), want: false },
  { name: 'grpc deadline-exceeded', p: p(['deadline-exceeded']), o: resp(200, 4), want: true },
  { name: 'grpc resource-exhausted', p: p(['resource-exhausted']), o: resp(200, 8), want: true },
  { name: 'grpc internal', p: p(['internal']), o: resp(200, 13), want: true },
  { name: 'grpc token without grpc-status', p: p(['unavailable']), o: resp(503), want: false },
  { name: 'attempts 0 never retries', p: p(['5xx'], { attempts: 0 }), o: resp(503), want: false },
];
for (const c of retryCases) {
  test(`shouldRetry ${c.name}`, () => {
    assert.equal(shouldRetry(c.p, c.o), c.want);
  });
}

test('retryBackoffMs: full jitter over base·2^(n-1), capped at 10×base', () => {
  const pol = p(['5xx']);
  assert.equal(retryBackoffMs(pol, 1, 0), 0);
  assert.equal(retryBackoffMs(pol, 1, 0.99), 24); // [0, 25)
  assert.equal(retryBackoffMs(pol, 2, 0.99), 49); // [0, 50)
  assert.equal(retryBackoffMs(pol, 3, 0.5), 50); // [0, 100)
  assert.equal(retryBackoffMs(pol, 4, 0.99), 198); // [0, 200)
  assert.equal(retryBackoffMs(pol, 5, 0.99), 247); // capped at [0, 250)
  assert.equal(retryBackoffMs(pol, 40, 0.99), 247);
  assert.equal(retryBackoffMs({ ...pol, backoffMs: 100 }, 2, 0.5), 100);
  assert.ok(retryBackoffMs(pol, 1, 1) < 25);
});
