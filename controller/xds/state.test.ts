// Table tests of the pure delta xDS stream state: subscriptions, ACK/NACK, reconnects, removals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyRequest, initialTypeState, markSent, noteChanged, planResponse, settled, type TypeRequest, type TypeState, type ResponsePlan } from './state.ts';

type Store = Map<string, { version: string }>;
const store = (entries: Record<string, string>): Store => new Map(Object.entries(entries).map(([k, v]) => [k, { version: v }]));
const req = (r: Partial<TypeRequest>): TypeRequest => ({
  resourceNamesSubscribe: [], resourceNamesUnsubscribe: [], initialResourceVersions: {}, responseNonce: '', ...r,
});

type Step =
  | { req: Partial<TypeRequest>; outcome?: string }
  | { send: string; expect: ResponsePlan | undefined; visible?: (n: string) => boolean }
  | { store: Record<string, string> }
  | { resync: true };

interface Case {
  name: string;
  steps: Step[];
}

/** Run steps against a store; `send` plans a response, checks it, and marks it sent under that nonce. */
function run(c: Case): TypeState {
  let s = initialTypeState();
  let current: Store = new Map();
  for (const step of c.steps) {
    if ('store' in step) {
      // As the server does: the names whose version changed (or that appeared/vanished) become pending.
      const next = store(step.store);
      const changed = [...new Set([...current.keys(), ...next.keys()])].filter((n) => current.get(n)?.version !== next.get(n)?.version);
      current = next;
      s = noteChanged(s, changed);
    } else if ('resync' in step) s = noteChanged(s, 'all');
    else if ('req' in step) {
      const r = applyRequest(s, req(step.req));
      s = r.state;
      if (step.outcome) assert.equal(r.outcome.kind, step.outcome, `${c.name}: outcome of ${JSON.stringify(step.req)}`);
    } else {
      const plan = planResponse(s, current, step.visible);
      assert.deepStrictEqual(plan, step.expect, `${c.name}: plan before ${step.send}`);
      s = plan ? markSent(s, step.send, plan, current) : settled(s);
    }
  }
  return s;
}

const cases: Case[] = [
  { name: 'wildcard by default gets everything, even an empty first response', steps: [
    { store: {} }, { req: {}, outcome: 'initial' }, { send: 'n0', expect: { upserts: [], removals: [] } },
    { req: { responseNonce: 'n0' }, outcome: 'ack' }, { send: 'x', expect: undefined },
    { store: { a: '1', b: '1' } }, { send: 'n1', expect: { upserts: ['a', 'b'], removals: [] } },
  ] },
  { name: 'one update after ACK sends only it', steps: [
    { store: { a: '1', b: '1' } }, { req: { resourceNamesSubscribe: ['*'] } }, { send: 'n1', expect: { upserts: ['a', 'b'], removals: [] } },
    { req: { responseNonce: 'n1' }, outcome: 'ack' },
    { store: { a: '2', b: '1' } }, { send: 'n2', expect: { upserts: ['a'], removals: [] } },
  ] },
  { name: 'removal of a known resource', steps: [
    { store: { a: '1', b: '1' } }, { req: {} }, { send: 'n1', expect: { upserts: ['a', 'b'], removals: [] } },
    { req: { responseNonce: 'n1' } }, { store: { b: '1' } }, { send: 'n2', expect: { upserts: [], removals: ['a'] } },
    { req: { responseNonce: 'n2' }, outcome: 'ack' }, { send: 'x', expect: undefined },
  ] },
  { name: 'in flight blocks the next response until ACK', steps: [
    { store: { a: '1' } }, { req: {} }, { send: 'n1', expect: { upserts: ['a'], removals: [] } },
    { store: { a: '2' } }, { send: 'x', expect: undefined },
    { req: { responseNonce: 'stale' }, outcome: 'stale' }, { send: 'x', expect: undefined },
    { req: { responseNonce: 'n1' }, outcome: 'ack' }, { send: 'n2', expect: { upserts: ['a'], removals: [] } },
  ] },
  { name: 'NACK keeps acked versions and does not resend the rejected version', steps: [
    { store: { a: '1' } }, { req: {} }, { send: 'n1', expect: { upserts: ['a'], removals: [] } }, { req: { responseNonce: 'n1' } },
    { store: { a: '2', b: '1' } }, { send: 'n2', expect: { upserts: ['a', 'b'], removals: [] } },
    { req: { responseNonce: 'n2', errorDetail: { code: 3, message: 'bad' } }, outcome: 'nack' },
    { send: 'x', expect: undefined },
    { store: { a: '3', b: '1' } }, { send: 'n3', expect: { upserts: ['a'], removals: [] } },
    { req: { responseNonce: 'n3' }, outcome: 'ack' }, { send: 'x', expect: undefined },
  ] },
  { name: 'reconnect with initial_resource_versions sends only changes and removals', steps: [
    { store: { a: '1', b: '2', c: '1' } },
    { req: { initialResourceVersions: { a: '1', b: '1', gone: '1' } }, outcome: 'initial' },
    { send: 'n1', expect: { upserts: ['b', 'c'], removals: ['gone'] } },
  ] },
  { name: 'explicit subscriptions, unsubscribe, and non-existent names', steps: [
    { store: { a: '1', b: '1' } }, { req: { resourceNamesSubscribe: ['a', 'zz'] } },
    { send: 'n1', expect: { upserts: ['a'], removals: ['zz'] } }, { req: { responseNonce: 'n1' } },
    { store: { a: '2', b: '2' } }, { send: 'n2', expect: { upserts: ['a'], removals: [] } }, { req: { responseNonce: 'n2' } },
    { req: { resourceNamesSubscribe: ['b'], resourceNamesUnsubscribe: ['a'] }, outcome: 'subscription' },
    { send: 'n3', expect: { upserts: ['b'], removals: [] } }, { req: { responseNonce: 'n3' } },
    { store: { a: '3', b: '2' } }, { send: 'x', expect: undefined },
  ] },
  { name: 're-subscribing to a held resource resends it', steps: [
    { store: { a: '1' } }, { req: { resourceNamesSubscribe: ['a'] } }, { send: 'n1', expect: { upserts: ['a'], removals: [] } },
    { req: { responseNonce: 'n1', resourceNamesSubscribe: ['a'] } }, { send: 'n2', expect: { upserts: ['a'], removals: [] } },
  ] },
  { name: 'per-client filter hides resources and removes ones that become hidden', steps: [
    { store: { a: '1', b: '1' } }, { req: {} }, { send: 'n1', expect: { upserts: ['a', 'b'], removals: [] } }, { req: { responseNonce: 'n1' } },
    // The filter's inputs changed: the server resyncs, so every name is looked at again.
    { resync: true }, { send: 'n2', expect: { upserts: [], removals: ['b'] }, visible: (n) => n !== 'b' },
  ] },
  { name: 'a plan looks only at names changed since the last one (a store change elsewhere does not re-evaluate hidden names)', steps: [
    { store: { a: '1', b: '1' } }, { req: {} }, { send: 'n1', expect: { upserts: ['a', 'b'], removals: [] } }, { req: { responseNonce: 'n1' } },
    { store: { a: '2', b: '1' } }, { send: 'n2', expect: { upserts: ['a'], removals: [] }, visible: (n) => n !== 'b' },
    { req: { responseNonce: 'n2' } }, { resync: true }, { send: 'n3', expect: { upserts: [], removals: ['b'] }, visible: (n) => n !== 'b' },
  ] },
  { name: 'wildcard unsubscribe removes nothing but stops updates', steps: [
    { store: { a: '1' } }, { req: {} }, { send: 'n1', expect: { upserts: ['a'], removals: [] } }, { req: { responseNonce: 'n1' } },
    { req: { resourceNamesUnsubscribe: ['*', 'a'] } }, { store: { a: '2', b: '1' } }, { send: 'x', expect: undefined },
  ] },
];

for (const c of cases) test(`state: ${c.name}`, () => {
  run(c);
});

test('state: NACK keeps the last acknowledged versions', () => {
  const s = run({ name: 'nack', steps: [
    { store: { a: '1' } }, { req: {} }, { send: 'n1', expect: { upserts: ['a'], removals: [] } }, { req: { responseNonce: 'n1' } },
    { store: { a: '2' } }, { send: 'n2', expect: { upserts: ['a'], removals: [] } }, { req: { responseNonce: 'n2', errorDetail: { message: 'no' } } },
  ] });
  assert.deepStrictEqual([...s.known], [['a', '1']]);
  assert.deepStrictEqual([...s.rejected], [['a', '2']]);
  assert.equal(s.inFlight, undefined);
});
