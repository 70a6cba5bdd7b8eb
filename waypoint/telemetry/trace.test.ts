import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { parseTraceparent, pooledRandom, traceHeaders } from './trace.ts';

/** Deterministic random bytes: 0x11, 0x12, ... one fresh 16-byte block per call. */
function counter(): () => Buffer {
  let n = 0x10;
  return () => Buffer.alloc(16, ++n);
}

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

test('no trace headers: a new trace, new span, not sampled, new uuid v4 request id, no B3 invented', () => {
  const t = traceHeaders({}, counter());
  assert.equal(t.spanId, '1111111111111111');
  assert.equal(t.traceId, '12121212121212121212121212121212');
  assert.equal(t.sampled, false);
  assert.equal(t.parentSpanId, undefined);
  assert.equal(t.requestId, '13131313-1313-4313-9313-131313131313');
  assert.deepEqual(t.set, {
    traceparent: `00-${t.traceId}-${t.spanId}-00`,
    'x-request-id': t.requestId,
  });
  assert.deepEqual(t.remove, []);
});

test('new traces can be sampled by option; the default source is crypto', () => {
  const t = traceHeaders({}, undefined, { sampleNewTraces: true });
  assert.match(t.set.traceparent!, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  assert.match(t.requestId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

test('pooled random bytes: each call gets its own slice, the block is refilled when spent, big asks are served', () => {
  const rand = pooledRandom(32);
  const a = rand(16);
  const b = rand(16);
  assert.equal(a.buffer, b.buffer, 'the first two come from one block');
  assert.equal(b.byteOffset, a.byteOffset + 16, 'and do not overlap');
  const c = rand(16);
  assert.notEqual(c.buffer, a.buffer, 'a spent block is replaced');
  assert.equal(rand(100).length, 100);
  const ids = new Set(Array.from({ length: 1000 }, () => rand(16).toString('hex')));
  assert.equal(ids.size, 1000, 'no two ids repeat');
});

test('ids from the default source differ from request to request', () => {
  const a = traceHeaders({});
  const b = traceHeaders({});
  assert.notEqual(a.traceId, b.traceId);
  assert.notEqual(a.spanId, b.spanId);
  assert.notEqual(a.requestId, b.requestId);
});

test('valid traceparent: same trace and flag, our span as parent; tracestate and baggage travel; request id kept', () => {
  const t = traceHeaders({
    traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE', baggage: 'userId=alice',
    'x-request-id': 'abc-123',
  }, counter());
  assert.equal(t.traceId, TRACE);
  assert.equal(t.parentSpanId, PARENT);
  assert.equal(t.sampled, true);
  assert.deepEqual(t.set, {
    traceparent: `00-${TRACE}-1111111111111111-01`,
    tracestate: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
    baggage: 'userId=alice',
    'x-request-id': 'abc-123',
  });
});

test('unsampled traceparent stays unsampled; multi-value tracestate is joined', () => {
  const t = traceHeaders({ traceparent: `00-${TRACE}-${PARENT}-00`, tracestate: ['a=1', 'b=2'] as unknown as string }, counter());
  assert.equal(t.set.traceparent, `00-${TRACE}-1111111111111111-00`);
  assert.equal(t.set.tracestate, 'a=1,b=2');
});

const invalid: Array<[string, string]> = [
  ['version ff', `ff-${TRACE}-${PARENT}-01`],
  ['all-zero trace id', `00-${'0'.repeat(32)}-${PARENT}-01`],
  ['all-zero parent id', `00-${TRACE}-${'0'.repeat(16)}-01`],
  ['upper case', `00-${TRACE.toUpperCase()}-${PARENT}-01`],
  ['short trace id', `00-${TRACE.slice(2)}-${PARENT}-01`],
  ['extra field on version 00', `00-${TRACE}-${PARENT}-01-extra`],
  ['garbage', 'hello'],
];
for (const [name, v] of invalid) {
  test(`invalid traceparent (${name}) starts a new trace and drops tracestate`, () => {
    assert.equal(parseTraceparent(v), undefined);
    const t = traceHeaders({ traceparent: v, tracestate: 'a=1' }, counter());
    assert.notEqual(t.traceId, TRACE);
    assert.equal(t.set.tracestate, undefined);
    assert.deepEqual(t.remove, ['tracestate']);
  });
}

test('a future traceparent version with more fields is read', () => {
  assert.deepEqual(parseTraceparent(`01-${TRACE}-${PARENT}-01-whatever`), { traceId: TRACE, parentId: PARENT, sampled: true });
});

test('multi-header B3: same trace, child span, incoming span as parent, sampling kept; traceparent joins the trace', () => {
  const h: IncomingHttpHeaders = { 'x-b3-traceid': '463ac35c9f6413ad', 'x-b3-spanid': 'a2fb4a1d1a96d312', 'x-b3-sampled': '1', 'x-b3-parentspanid': '0020000000000001' };
  const t = traceHeaders(h, counter());
  assert.equal(t.traceId, '0000000000000000463ac35c9f6413ad');
  assert.equal(t.sampled, true);
  assert.deepEqual(t.set, {
    traceparent: '00-0000000000000000463ac35c9f6413ad-1111111111111111-01',
    'x-b3-traceid': '463ac35c9f6413ad',
    'x-b3-spanid': '1111111111111111',
    'x-b3-parentspanid': 'a2fb4a1d1a96d312',
    'x-request-id': '12121212-1212-4212-9212-121212121212',
  });
});

test('single-header B3 is continued in single form; both formats share our span id with W3C', () => {
  const t = traceHeaders({ b3: `${TRACE}-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90`, traceparent: `00-${TRACE}-${PARENT}-01` }, counter());
  assert.equal(t.set.b3, `${TRACE}-1111111111111111-1-e457b5a2e4d86bd1`);
  assert.equal(t.set.traceparent, `00-${TRACE}-1111111111111111-01`);
  assert.equal(t.parentSpanId, PARENT);
});

test('single-header B3 without sampling state carries no parent field', () => {
  const t = traceHeaders({ b3: `${TRACE}-e457b5a2e4d86bd1` }, counter());
  assert.equal(t.set.b3, `${TRACE}-1111111111111111`);
  assert.equal(t.sampled, false);
});

test('sampling-only B3 passes through and decides a new trace\'s sampling; x-b3-flags 1 is debug', () => {
  const deny = traceHeaders({ b3: '0' }, counter(), { sampleNewTraces: true });
  assert.equal(deny.set.b3, undefined);
  assert.equal(deny.sampled, false);
  const yes = traceHeaders({ 'x-b3-sampled': '1' }, counter());
  assert.equal(yes.sampled, true);
  assert.equal(yes.set['x-b3-spanid'], undefined);
  const debug = traceHeaders({ 'x-b3-traceid': '463ac35c9f6413ad', 'x-b3-spanid': 'a2fb4a1d1a96d312', 'x-b3-flags': '1' }, counter());
  assert.equal(debug.sampled, true);
});

test('invalid B3 ids are not continued', () => {
  const t = traceHeaders({ 'x-b3-traceid': 'xyz', 'x-b3-spanid': 'a2fb4a1d1a96d312' }, counter());
  assert.equal(t.set['x-b3-spanid'], undefined);
  assert.equal(t.traceId, '12121212121212121212121212121212');
});

test('an empty x-request-id is replaced; a short random source is read until it has enough bytes', () => {
  let i = 0;
  const t = traceHeaders({ 'x-request-id': '' }, () => Buffer.from([++i]));
  assert.equal(t.spanId, '0102030405060708');
  assert.match(t.requestId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

test('an all-zero random id is made valid', () => {
  const t = traceHeaders({}, () => Buffer.alloc(16));
  assert.equal(t.spanId, '0000000000000001');
  assert.equal(t.traceId, `${'0'.repeat(31)}1`);
});
