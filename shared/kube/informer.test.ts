// Informer against the in-process local API server: first list, events, resume, 410 re-list, errors, stop.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test, type TestContext } from 'node:test';
import type { ApiServer } from '../../localcluster/apiserver/index.ts';
import { startTestApi } from '../../test/support/control-plane.ts';
import { eventually } from '../../test/support/eventually.ts';
import { KubeClient, type ListResult, type Query, type RequestOptions, type WatchEventType } from './client.ts';
import { diffList, Informer } from './informer.ts';

interface Obj { metadata: { name: string; namespace?: string; resourceVersion?: string }; data?: Record<string, string>; spec?: any }

/** A client that counts lists and can hold a watch back until the test releases it. */
class GatedClient extends KubeClient {
  lists = 0;
  watches = 0;
  gate: Promise<void> | undefined;
  /** Held lists wait for this (or their signal) before asking the server. */
  listGate: Promise<void> | undefined;
  override async list<T>(path: string, query?: Query, o: RequestOptions = {}): Promise<ListResult<T>> {
    this.lists++;
    if (this.listGate) await Promise.race([this.listGate, new Promise((r) => o.signal?.addEventListener('abort', r, { once: true }))]);
    return super.list<T>(path, query, o);
  }
  override async watch(path: string, query: Query, onEvent: (type: WatchEventType, obj: any) => void, signal?: AbortSignal): Promise<void> {
    this.watches++;
    // Held until released, or until the informer stops (so a failed test cannot leave stop() waiting).
    if (this.gate) await Promise.race([this.gate, new Promise((r) => signal?.addEventListener('abort', r, { once: true }))]);
    return super.watch(path, query, onEvent, signal);
  }
}

async function setup(t: TestContext, o: { historyLimit?: number } = {}): Promise<{ api: ApiServer; client: GatedClient }> {
  const { api, kube } = await startTestApi(t, o);
  const client = new GatedClient(kube.target);
  t.after(() => client.close());
  return { api, client };
}

const CMS = '/api/v1/namespaces/default/configmaps';
const cm = (name: string, data: Record<string, string> = {}): Obj => ({ metadata: { name }, data });

/** Wait until the informer's watch is open at the server (its event for a fresh marker object has arrived). */
async function watching(client: KubeClient, events: string[], marker: string): Promise<void> {
  await client.create(CMS, cm(marker));
  await eventually(() => events.includes(`add ${marker}`));
}

/** Record every event as `type name`. */
function record(inf: Informer<Obj>): { events: string[]; errors: unknown[] } {
  const events: string[] = [];
  const errors: unknown[] = [];
  for (const type of ['add', 'update', 'delete'] as const) inf.on(type, (o) => events.push(`${type} ${o.metadata.name}`));
  inf.on('error', (err) => errors.push(err));
  return { events, errors };
}

test('diffList: only differences', () => {
  const o = (name: string, rv: string): Obj => ({ metadata: { name, namespace: 'ns', resourceVersion: rv } });
  const cache = new Map([['ns/a', o('a', '1')], ['ns/b', o('b', '2')], ['ns/c', o('c', '3')]]);
  const d = diffList(cache, [o('b', '5'), o('c', '3'), o('d', '6')]);
  assert.deepEqual(d.deleted.map((x) => x.metadata.name), ['a']);
  assert.deepEqual(d.updated.map((x) => x.metadata.name), ['b']);
  assert.deepEqual(d.added.map((x) => x.metadata.name), ['d']);
  assert.deepEqual([...d.next.keys()], ['ns/b', 'ns/c', 'ns/d']);
});

test('informer: first list before start() resolves, then add/update/delete; stop()', async (t) => {
  const { client } = await setup(t);
  await client.create(CMS, cm('pre1'));
  await client.create(CMS, cm('pre2'));
  const inf = new Informer<Obj>(client, CMS);
  const { events, errors } = record(inf);
  await inf.start();
  assert.deepEqual(events.sort(), ['add pre1', 'add pre2']);
  assert.deepEqual(inf.list().map((o) => o.metadata.name).sort(), ['pre1', 'pre2']);
  events.length = 0;

  await client.create(CMS, cm('new'));
  await client.patch(`${CMS}/pre1`, { data: { k: 'v' } }, 'merge');
  await client.delete(`${CMS}/pre2`);
  await eventually(() => events.length === 3);
  assert.deepEqual(events, ['add new', 'update pre1', 'delete pre2']);
  assert.deepEqual(inf.get('pre1', 'default')?.data, { k: 'v' });
  assert.deepEqual(inf.list().map((o) => o.metadata.name).sort(), ['new', 'pre1']);
  assert.ok(/^\d+$/.test(inf.latestResourceVersion()));

  await inf.stop();
  await client.create(CMS, cm('after-stop'));
  await sleep(200);
  assert.deepEqual(events, ['add new', 'update pre1', 'delete pre2'], 'nothing after stop()');
  assert.deepEqual(errors, []);
});

test('informer: field selector', async (t) => {
  const { client } = await setup(t);
  const pods = '/api/v1/namespaces/default/pods';
  const pod = (name: string, nodeName: string): Obj => ({ metadata: { name }, spec: { nodeName, containers: [{ name: 'c', image: 'busybox' }] } });
  await client.create(pods, pod('a', 'node-1'));
  await client.create(pods, pod('b', 'node-2'));
  const inf = new Informer<Obj>(client, '/api/v1/pods', { fieldSelector: 'spec.nodeName=node-1' });
  const { events } = record(inf);
  await inf.start();
  t.after(() => inf.stop());
  await client.create(pods, pod('c', 'node-2'));
  await client.create(pods, pod('d', 'node-1'));
  await eventually(() => events.length === 2);
  assert.deepEqual(events, ['add a', 'add d']);
});

test('informer: resumes from the last resourceVersion when the server ends the watch', async (t) => {
  const { api, client } = await setup(t);
  const inf = new Informer<Obj>(client, CMS);
  const { events, errors } = record(inf);
  await inf.start();
  t.after(() => inf.stop());
  await client.create(CMS, cm('x'));
  await eventually(() => events.length === 1);
  // Hold the next watch back, end the stream, change things meanwhile: the resumed watch replays them.
  let release!: () => void;
  client.gate = new Promise((r) => { release = r; });
  api.dropWatches();
  await eventually(() => client.watches === 2);
  await client.patch(`${CMS}/x`, { data: { k: '1' } }, 'merge');
  await client.create(CMS, cm('y'));
  release();
  await eventually(() => events.length === 3);
  assert.deepEqual(events, ['add x', 'update x', 'add y']);
  assert.equal(client.lists, 1, 'resumed without re-listing');
  assert.deepEqual(errors, [], 'a clean end is not an error');
});

test('informer: a 410 re-lists and emits only the differences', async (t) => {
  const { api, client } = await setup(t, { historyLimit: 4 });
  for (const n of ['a', 'b', 'c']) await client.create(CMS, cm(n));
  const inf = new Informer<Obj>(client, CMS);
  const { events, errors } = record(inf);
  await inf.start();
  t.after(() => inf.stop());
  await watching(client, events, 'marker');
  events.length = 0;
  let release!: () => void;
  client.gate = new Promise((r) => { release = r; });
  api.dropWatches();
  await eventually(() => client.watches === 2);
  // While the informer is away: a vanishes, b changes, d appears, c stays; churn pushes history past its rv.
  await client.delete(`${CMS}/a`);
  await client.patch(`${CMS}/b`, { data: { k: '1' } }, 'merge');
  await client.create(CMS, cm('d'));
  for (let i = 0; i < 10; i++) await client.create('/api/v1/namespaces/default/secrets', { metadata: { name: `churn-${i}` } });
  release();
  await eventually(() => client.lists === 2 && events.length === 3);
  assert.deepEqual(events, ['delete a', 'add d', 'update b']);
  assert.deepEqual(inf.list().map((o) => o.metadata.name).sort(), ['b', 'c', 'd', 'marker']);
  assert.deepEqual(errors, [], 'a 410 is handled, not reported');
  // And it watches again from the fresh list.
  await client.create(CMS, cm('e'));
  await eventually(() => events.includes('add e'));
});

test('informer: other failures emit error and retry with backoff; stop() ends the retries', async (t) => {
  const { api, client } = await setup(t);
  const inf = new Informer<Obj>(client, CMS);
  const { events, errors } = record(inf);
  await inf.start();
  await watching(client, events, 'marker');
  api.dropWatches({ abrupt: true });
  await eventually(() => errors.length === 1);
  assert.equal((errors[0] as any).code, 'KUBE_UNREACHABLE');
  // After the 500 ms backoff it watches again and sees new objects.
  await eventually(() => client.watches === 2);
  await client.create(CMS, cm('later'));
  await eventually(() => events.includes('add later'));

  // A persistent failure: stop() returns promptly from inside the backoff sleep.
  client.gate = Promise.reject(new Error('watch refused'));
  client.gate.catch(() => {});
  await watching(client, events, 'marker2');
  api.dropWatches();
  await eventually(() => errors.length >= 2);
  const t0 = Date.now();
  await inf.stop();
  assert.ok(Date.now() - t0 < 200, 'stop() does not wait out the backoff');
  const n = errors.length;
  await sleep(1200);
  assert.equal(errors.length, n, 'no retries after stop()');
});

test('informer: stop() during a re-list returns at once and delivers nothing from it', async (t) => {
  const { api, client } = await setup(t, { historyLimit: 4 });
  const inf = new Informer<Obj>(client, CMS);
  const { events, errors } = record(inf);
  await inf.start();
  await watching(client, events, 'marker');
  // Hold the next watch while churn pushes history past its resourceVersion: released, it gets a 410 and re-lists,
  // and that list is held.
  let release!: () => void;
  client.gate = new Promise((r) => { release = r; });
  api.dropWatches();
  await eventually(() => client.watches === 2);
  await client.create(CMS, cm('while-away'));
  for (let i = 0; i < 10; i++) await client.create('/api/v1/namespaces/default/secrets', { metadata: { name: `churn-${i}` } });
  client.listGate = new Promise(() => {});
  release();
  await eventually(() => client.lists === 2);
  const t0 = Date.now();
  await inf.stop();
  assert.ok(Date.now() - t0 < 500, `stop() took ${Date.now() - t0} ms`);
  assert.ok(!events.includes('add while-away'), 'the abandoned list delivers nothing');
  assert.deepEqual(errors, []);
});

test('informer: start() rejects when the first list fails', async (t) => {
  const { client } = await setup(t);
  const inf = new Informer<Obj>(client, '/api/v1/namespaces/default/nosuchthings');
  await assert.rejects(inf.start(), { code: 'KUBE_NOT_FOUND' });
  await inf.stop();
});
