// KubeClient against the in-process local API server (TLS, client certificate from its kubeconfig).
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { ApiServer } from '../../localcluster/apiserver/index.ts';
import { startTestApi } from '../../test/support/control-plane.ts';
import { eventually } from '../../test/support/eventually.ts';
import { loadKubeTarget } from './kubeconfig.ts';
import { encodeQuery, isConflict, isNotFound, KubeApiError, KubeClient, type WatchEventType } from './client.ts';

interface ConfigMap { apiVersion?: string; kind?: string; metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> }; data?: Record<string, string> }

async function setup(t: TestContext, o: { historyLimit?: number } = {}): Promise<{ api: ApiServer; client: KubeClient }> {
  const { api, kube } = await startTestApi(t, o);
  return { api, client: kube };
}

const CMS = '/api/v1/namespaces/default/configmaps';
const cm = (name: string, data: Record<string, string> = {}, labels?: Record<string, string>): ConfigMap =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...(labels ? { labels } : {}) }, data });

test('encodeQuery', () => {
  assert.equal(encodeQuery(undefined), '');
  assert.equal(encodeQuery({ a: 'x y', b: 2, c: true, d: undefined, 'e=': 'a&b,c=d' }), '?a=x%20y&b=2&c=true&e%3D=a%26b%2Cc%3Dd');
});

test('CRUD, every patch type, and error codes', async (t) => {
  const { client } = await setup(t);
  const created = await client.create<ConfigMap>(CMS, cm('one', { a: '1' }, { app: 'x' }));
  assert.equal(created.metadata.name, 'one');
  assert.equal(created.metadata.namespace, 'default');
  assert.equal(typeof (created.metadata as any).creationTimestamp, 'string', 'plain JSON: no Date conversion');
  assert.deepEqual((await client.get<ConfigMap>(`${CMS}/one`)).data, { a: '1' });

  // Create twice → 409 AlreadyExists.
  await assert.rejects(client.create(CMS, cm('one')), (err: any) => {
    assert.ok(err instanceof KubeApiError);
    assert.equal(err.code, 'KUBE_CONFLICT');
    assert.equal(err.statusCode, 409);
    assert.equal(err.reason, 'AlreadyExists');
    assert.match(err.message, /POST \/api\/v1\/namespaces\/default\/configmaps: 409 AlreadyExists: .*one/);
    assert.ok(isConflict(err));
    return true;
  });

  // Replace with the current resourceVersion, then with a stale one → 409 Conflict.
  const replaced = await client.replace<ConfigMap>(`${CMS}/one`, { ...created, data: { a: '2' } });
  assert.deepEqual(replaced.data, { a: '2' });
  await assert.rejects(client.replace(`${CMS}/one`, { ...created, data: { a: '3' } }), (err: any) => isConflict(err) && err.reason === 'Conflict');

  assert.deepEqual((await client.patch<ConfigMap>(`${CMS}/one`, { data: { b: 'm' } }, 'merge')).data, { a: '2', b: 'm' });
  assert.deepEqual((await client.patch<ConfigMap>(`${CMS}/one`, [{ op: 'replace', path: '/data/a', value: 'j' }], 'json')).data, { a: 'j', b: 'm' });
  assert.deepEqual((await client.patch<ConfigMap>(`${CMS}/one`, { data: { c: 's' } }, 'strategic')).data, { a: 'j', b: 'm', c: 's' });
  const applied = await client.patch<ConfigMap>(`${CMS}/two`, cm('two', { x: 'y' }), 'apply', { fieldManager: 'test', force: true });
  assert.deepEqual(applied.data, { x: 'y' }, 'apply creates');

  const list = await client.list<ConfigMap>(CMS, { labelSelector: 'app=x' });
  assert.equal(list.kind, 'ConfigMapList');
  assert.ok(/^\d+$/.test(list.metadata.resourceVersion ?? ''));
  assert.deepEqual(list.items.map((i) => i.metadata.name), ['one']);

  await client.delete(`${CMS}/one`);
  await assert.rejects(client.get(`${CMS}/one`), (err: any) => {
    assert.equal(err.code, 'KUBE_NOT_FOUND');
    assert.equal(err.statusCode, 404);
    assert.equal(err.reason, 'NotFound');
    assert.match(err.message, /GET \/api\/v1\/namespaces\/default\/configmaps\/one: 404 NotFound/);
    return isNotFound(err);
  });
  await assert.rejects(client.delete(`${CMS}/one`), { code: 'KUBE_NOT_FOUND' });
  await assert.rejects(client.create(CMS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: {} }), { code: 'KUBE_INVALID', statusCode: 422 });

  // find: the object, or undefined for a 404 (other errors reject: the unreachable/credentials test below).
  assert.equal(await client.find(`${CMS}/one`), undefined);
  assert.deepEqual((await client.find<ConfigMap>(`${CMS}/two`))?.data, { x: 'y' });
});

test('list follows continue pages when given a limit', async (t) => {
  const { client } = await setup(t);
  for (let i = 0; i < 7; i++) await client.create(CMS, cm(`p${i}`));
  const all = await client.list<ConfigMap>(CMS, { limit: 2 });
  assert.deepEqual(all.items.map((i) => i.metadata.name).filter((n) => n.startsWith('p')).sort(), ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
  assert.equal(all.metadata.continue, undefined);
});

test('unreachable server and bad credentials', async (t) => {
  const { api } = await setup(t);
  const dead = new KubeClient({ server: 'https://127.0.0.1:1' });
  t.after(() => dead.close());
  await assert.rejects(dead.get('/api'), (err: any) => err.code === 'KUBE_UNREACHABLE' && err.statusCode === 0 && /cannot reach the api server/.test(err.message));
  const anon = new KubeClient({ server: api.url, ca: Buffer.from(api.caCertPem), token: 'not-a-token' });
  t.after(() => anon.close());
  await assert.rejects(anon.get('/api/v1/namespaces'), { code: 'KUBE_UNAUTHORIZED', statusCode: 401 });
  await assert.rejects(anon.find('/api/v1/namespaces/default'), { code: 'KUBE_UNAUTHORIZED', statusCode: 401 }, 'find answers undefined only for a 404');
  await assert.rejects(dead.find('/api/v1/namespaces/default'), { code: 'KUBE_UNREACHABLE' });
});

test('a request with no answer within timeoutMs fails as unreachable, and the connection is dropped', async (t) => {
  let accepted = 0;
  let closed = 0;
  const silent = net.createServer((s) => {
    accepted++;
    s.on('close', () => closed++);
    s.resume(); // read (and ignore) the request, so the client's close is seen
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => silent.close(() => r())));
  const client = new KubeClient({ server: `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}` });
  t.after(() => client.close());
  const t0 = performance.now();
  await assert.rejects(client.find('/api/v1/namespaces/default', undefined, { timeoutMs: 200 }),
    (err: any) => err.code === 'KUBE_UNREACHABLE' && /no response within 0\.2 s/.test(err.message));
  const took = performance.now() - t0;
  assert.ok(took >= 150 && took < 5000, `gave up after ${took.toFixed(0)} ms`);
  assert.equal(accepted, 1);
  await eventually(() => closed === 1, 2000);
});

test('a request whose signal aborts rejects at once with KUBE_ABORTED, and the connection is dropped', async (t) => {
  let closed = 0;
  const silent = net.createServer((s) => {
    s.on('close', () => closed++);
    s.resume();
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => silent.close(() => r())));
  const client = new KubeClient({ server: `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}` });
  t.after(() => client.close());
  const ac = new AbortController();
  const t0 = performance.now();
  setTimeout(() => ac.abort(), 100);
  await assert.rejects(client.list('/api/v1/namespaces', undefined, { signal: ac.signal }), (err: any) => err.code === 'KUBE_ABORTED');
  const took = performance.now() - t0;
  assert.ok(took < 2000, `abandoned after ${took.toFixed(0)} ms, not the 30 s timeout`);
  await eventually(() => closed === 1, 2000);
  await assert.rejects(client.get('/api/v1/namespaces', undefined, { signal: ac.signal }), (err: any) => err.code === 'KUBE_ABORTED', 'an aborted signal sends nothing');
});

test('token file: re-read when it rotates', async (t) => {
  const { api, client } = await setup(t);
  for (const name of ['a', 'b']) await client.create('/api/v1/namespaces/default/serviceaccounts', { metadata: { name } });
  const dir = mkdtempSync(join(tmpdir(), 'kube-token-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'token');
  writeFileSync(file, api.mintServiceAccountToken('default', 'a') + '\n');
  const sa = new KubeClient({ server: api.url, ca: Buffer.from(api.caCertPem), tokenFile: file });
  t.after(() => sa.close());
  // RBAC denies the bare service accounts, and the 403's message names who asked: enough to see which token went.
  const whoami = async (): Promise<string> => {
    const err = await sa.get('/api/v1/secrets').then(() => assert.fail('expected 403'), (e: unknown) => e as KubeApiError);
    assert.equal(err.code, 'KUBE_FORBIDDEN');
    assert.equal(err.statusCode, 403);
    return /User "([^"]+)"/.exec(err.message)![1]!;
  };
  assert.equal(await whoami(), 'system:serviceaccount:default:a');
  writeFileSync(file, api.mintServiceAccountToken('default', 'b'));
  const later = new Date(Date.now() + 5000);
  utimesSync(file, later, later);
  assert.equal(await whoami(), 'system:serviceaccount:default:b');
});

test('exec credential plugin returning a client certificate', async (t) => {
  const { api } = await setup(t);
  const admin = await loadKubeTarget({ kubeconfig: api.kubeconfigPath });
  const dir = mkdtempSync(join(tmpdir(), 'kube-exec-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'cred.json'), JSON.stringify({
    apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential',
    status: { clientCertificateData: admin.cert!.toString(), clientKeyData: admin.key!.toString() },
  }));
  writeFileSync(join(dir, 'cred.sh'), '#!/bin/sh\ncat "$(dirname "$0")/cred.json"\n', { mode: 0o755 });
  const client = new KubeClient({ server: api.url, ca: admin.ca!, exec: { command: join(dir, 'cred.sh') } });
  t.after(() => client.close());
  const ns = await client.get<{ metadata: { name: string } }>('/api/v1/namespaces/default');
  assert.equal(ns.metadata.name, 'default');
  const failing = new KubeClient({ server: api.url, ca: admin.ca!, exec: { command: join(dir, 'absent.sh') } });
  t.after(() => failing.close());
  await assert.rejects(failing.get('/api'), (err: any) => err.code === 'KUBE_CREDENTIALS' && /failed to start/.test(err.message));
});

test('watch: event stream, selectors, abort, HTTP errors', async (t) => {
  const { client } = await setup(t);
  const rv = (await client.list<ConfigMap>(CMS)).metadata.resourceVersion!;
  const events: Array<[WatchEventType, string]> = [];
  const ac = new AbortController();
  const done = client.watch(CMS, { resourceVersion: rv }, (type, obj) => events.push([type, obj.metadata.name]), ac.signal);
  await client.create(CMS, cm('w1'));
  await client.patch(`${CMS}/w1`, { data: { k: 'v' } }, 'merge');
  await client.delete(`${CMS}/w1`);
  await eventually(() => events.length === 3);
  assert.deepEqual(events, [['ADDED', 'w1'], ['MODIFIED', 'w1'], ['DELETED', 'w1']]);
  ac.abort();
  await done; // resolves on abort

  // Field selector: only pods on node-1 (a pod moving off the node would arrive as DELETED).
  const pods = '/api/v1/namespaces/default/pods';
  const seen: string[] = [];
  const ac2 = new AbortController();
  const w2 = client.watch(pods, { fieldSelector: 'spec.nodeName=node-1' }, (type, obj) => seen.push(`${type} ${obj.metadata.name}`), ac2.signal);
  for (const [name, node] of [['on', 'node-1'], ['off', 'node-2']]) {
    await client.create(pods, { metadata: { name }, spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox' }] } });
  }
  await client.create(pods, { metadata: { name: 'on2' }, spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'busybox' }] } });
  await eventually(() => seen.length === 2);
  assert.deepEqual(seen, ['ADDED on', 'ADDED on2']);
  ac2.abort();
  await w2;

  await assert.rejects(client.watch('/api/v1/namespaces/default/nosuchthings', {}, () => {}), { code: 'KUBE_NOT_FOUND', statusCode: 404 });
  const already = AbortSignal.abort();
  await client.watch(CMS, {}, () => assert.fail('no events after abort'), already);
});

test('watch: resolves when the server ends the stream; a listener that throws rejects it', async (t) => {
  const { api, client } = await setup(t);
  const types: string[] = [];
  const w = client.watch(CMS, { allowWatchBookmarks: true }, (type) => types.push(type));
  await client.create(CMS, cm('e1'));
  await eventually(() => types.includes('ADDED'));
  api.dropWatches();
  await w;
  const boom = client.watch(CMS, {}, () => { throw new Error('listener failed'); });
  await assert.rejects(boom, /listener failed/);
});

test('watch: a too-old resourceVersion surfaces as 410 KUBE_GONE', async (t) => {
  const { client } = await setup(t, { historyLimit: 4 });
  const rv = (await client.list<ConfigMap>(CMS)).metadata.resourceVersion!;
  for (let i = 0; i < 12; i++) await client.create(CMS, cm(`g${i}`));
  const types: string[] = [];
  await assert.rejects(client.watch(CMS, { resourceVersion: rv }, (type) => types.push(type)), (err: any) => {
    assert.ok(err instanceof KubeApiError);
    assert.equal(err.statusCode, 410);
    assert.equal(err.code, 'KUBE_GONE');
    assert.equal(err.reason, 'Expired');
    return true;
  });
  assert.deepEqual(types, ['ERROR'], 'the ERROR event is delivered before the rejection');
});

test('watch: events split across chunks and multi-byte characters are reassembled', async (t) => {
  const { createServer } = await import('node:http');
  const ev = (name: string): string => JSON.stringify({ type: 'ADDED', object: { metadata: { name } } }) + '\n';
  const payload = Buffer.from(ev('ä-one') + ev('two-€') + ev('three'));
  const server = createServer((req, res) => {
    assert.match(req.url ?? '', /watch=1/);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    // One byte at a time: every line and every multi-byte character is split.
    let i = 0;
    const tick = (): void => {
      if (i >= payload.length) return void res.end();
      res.write(payload.subarray(i, ++i), () => setImmediate(tick));
    };
    tick();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const client = new KubeClient({ server: `http://127.0.0.1:${(server.address() as { port: number }).port}` });
  t.after(() => client.close());
  const names: string[] = [];
  await client.watch('/api/v1/configmaps', {}, (_type, obj) => names.push(obj.metadata.name));
  assert.deepEqual(names, ['ä-one', 'two-€', 'three']);
});

// The binaries must not pay client-node's ~85 MB: loading these modules pulls in no package at all (the YAML
// parser only when a kubeconfig file is read), and no other project file than shared/errors.ts.
test('runtime imports: no @kubernetes/client-node, no other project module, yaml only on demand', async () => {
  const { execFileSync } = await import('node:child_process');
  const { readFileSync } = await import('node:fs');
  const here = import.meta.dirname;
  const script = `
    import { registerHooks } from 'node:module';
    const urls = new Set();
    registerHooks({ resolve(s, c, next) { const r = next(s, c); urls.add(r.url); return r; } });
    const { KubeClient } = await import(${JSON.stringify(join(here, 'client.ts'))});
    await import(${JSON.stringify(join(here, 'informer.ts'))});
    const before = [...urls].filter((u) => !u.startsWith('node:'));
    const c = await KubeClient.load({ kubeconfig: process.argv[1] });
    c.close();
    console.log(JSON.stringify({ before, after: [...urls].filter((u) => !u.startsWith('node:') && !before.includes(u)) }));
  `;
  const dir = mkdtempSync(join(tmpdir(), 'kube-imports-'));
  try {
    const cfg = join(dir, 'config');
    writeFileSync(cfg, JSON.stringify({
      'current-context': 'c', contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }],
      clusters: [{ name: 'k', cluster: { server: 'https://127.0.0.1:1' } }], users: [{ name: 'u', user: { token: 't' } }],
    }));
    const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script, cfg], { encoding: 'utf8' })) as { before: string[]; after: string[] };
    const rel = (u: string): string => u.replace(/^file:\/\/.*?\/shared\//, 'shared/');
    assert.deepEqual(out.before.map(rel).sort(), ['shared/errors.ts', 'shared/kube/client.ts', 'shared/kube/informer.ts', 'shared/kube/kubeconfig.ts']);
    assert.ok(out.after.length > 0 && out.after.every((u) => u.includes('/node_modules/yaml/')), `only yaml on kubeconfig load: ${out.after.join(', ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // And statically: any mention of client-node in these files is a type-only import.
  for (const f of ['client.ts', 'informer.ts', 'kubeconfig.ts']) {
    for (const line of readFileSync(join(here, f), 'utf8').split('\n')) {
      if (line.includes("'@kubernetes/client-node'")) assert.match(line, /^import type /, `${f}: ${line}`);
    }
  }
});
