// In-process behaviours: cascades, garbage collection, pod logs, deletecollection, tables, paging,
// attach() on a second listener, bookmarks, binding, and a few hundred pods updating status under a watch.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { eventually } from '../../test/support/eventually.ts';
import type { ApiServer } from './index.ts';
import { call, startTestServer, tempStateDir } from './testing.ts';

const podBody = (name: string, labels: Record<string, string> = {}) => ({ metadata: { name, labels }, spec: { containers: [{ name: 'c', image: 'i' }] } });

describe('api server behaviours', () => {
  const state = tempStateDir();
  let server: ApiServer;
  const req = (method: string, path: string, o: Parameters<typeof call>[4] = {}) => call(server, state.dir, method, path, o);
  before(async () => { server = await startTestServer(state.dir, { bookmarkIntervalMs: 50, namespaceDeletionDelayMs: 100 }); });
  after(async () => { await server.close(); state.cleanup(); });

  it('a deleted namespace terminates (no new content), then goes with everything in it', async () => {
    assert.equal((await req('POST', '/api/v1/namespaces', { body: { metadata: { name: 'tmp' } } })).status, 201);
    assert.equal((await req('GET', '/api/v1/namespaces/tmp/serviceaccounts/default')).status, 200);
    assert.equal((await req('POST', '/api/v1/namespaces/tmp/configmaps', { body: { metadata: { name: 'c' } } })).status, 201);
    const del = await req('DELETE', '/api/v1/namespaces/tmp');
    assert.equal(del.status, 200);
    assert.equal(del.body.status.phase, 'Terminating');
    assert.ok(del.body.metadata.deletionTimestamp);
    const blocked = await req('POST', '/api/v1/namespaces/tmp/configmaps', { body: { metadata: { name: 'd' } } });
    assert.equal(blocked.status, 403);
    assert.match(blocked.body.message, /being terminated/);
    await eventually(async () => (await req('GET', '/api/v1/namespaces/tmp/configmaps/c')).status === 404);
    assert.equal((await req('GET', '/api/v1/namespaces/tmp')).status, 404);
    assert.equal((await req('POST', '/api/v1/namespaces/tmp/configmaps', { body: { metadata: { name: 'c' } } })).status, 404);
  });

  it('deleting an owner deletes its dependents unless orphaned', async () => {
    const owner = await req('POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'owner' } } });
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.body.metadata.uid };
    await req('POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'dep', ownerReferences: [ref] } } });
    await req('POST', '/api/v1/namespaces/default/pods', { body: { ...podBody('dep-pod'), metadata: { name: 'dep-pod', ownerReferences: [ref] } } });
    await req('DELETE', '/api/v1/namespaces/default/configmaps/owner');
    assert.equal((await req('GET', '/api/v1/namespaces/default/configmaps/dep')).status, 404);
    assert.equal((await req('GET', '/api/v1/namespaces/default/pods/dep-pod')).status, 404);

    const o2 = await req('POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'owner2' } } });
    await req('POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'orphan', ownerReferences: [{ ...ref, name: 'owner2', uid: o2.body.metadata.uid }] } } });
    await req('DELETE', '/api/v1/namespaces/default/configmaps/owner2', { body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Orphan' } });
    assert.equal((await req('GET', '/api/v1/namespaces/default/configmaps/orphan')).status, 200);
  });

  it('pods/log streams from the provider, and follow keeps the response open', async () => {
    await req('POST', '/api/v1/namespaces/default/pods', { body: podBody('logged') });
    const live = new PassThrough();
    const calls: unknown[] = [];
    server.setPodLogProvider((ns, pod, opts) => {
      calls.push({ ns, pod, ...opts });
      return opts.follow ? live : Readable.from(['line 1\n', 'line 2\n']);
    });
    const r = await req('GET', '/api/v1/namespaces/default/pods/logged/log?tailLines=2');
    assert.equal(r.status, 200);
    assert.equal(r.text, 'line 1\nline 2\n');
    assert.deepEqual(calls[0], { ns: 'default', pod: 'logged', container: 'c', follow: false, tailLines: 2, previous: false });

    const kc = new k8s.KubeConfig();
    kc.loadFromFile(server.kubeconfigPath);
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => { text += d.toString(); });
    const done = new Promise<void>((resolve) => out.on('finish', () => resolve()));
    await new k8s.Log(kc).log('default', 'logged', 'c', out, { follow: true });
    live.write('first\n');
    await eventually(() => text === 'first\n');
    live.write('second\n');
    await eventually(() => text === 'first\nsecond\n');
    live.end();
    await done;
  });

  it('deletecollection honours label selectors; lists page with limit/continue', async () => {
    for (const [n, team] of [['a1', 'a'], ['a2', 'a'], ['b1', 'b']]) {
      await req('POST', '/api/v1/namespaces/default/secrets', { body: { metadata: { name: n!, labels: { team: team! } }, stringData: { k: 'v' } } });
    }
    const del = await req('DELETE', '/api/v1/namespaces/default/secrets?labelSelector=team%3Da');
    assert.equal(del.status, 200);
    const left = await req('GET', '/api/v1/namespaces/default/secrets');
    assert.deepEqual(left.body.items.map((s: any) => s.metadata.name), ['b1']);

    for (let i = 0; i < 5; i++) await req('POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: `page-${i}`, labels: { page: 'y' } } } });
    const names: string[] = [];
    let cont = '';
    for (let i = 0; i < 5; i++) {
      const page = await req('GET', `/api/v1/namespaces/default/configmaps?labelSelector=page&limit=2${cont ? `&continue=${cont}` : ''}`);
      names.push(...page.body.items.map((c: any) => c.metadata.name));
      cont = page.body.metadata.continue ?? '';
      if (!cont) break;
    }
    assert.deepEqual(names, ['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
  });

  it('answers Table requests with kubectl-style columns', async () => {
    const r = await req('GET', '/api/v1/namespaces/default/services', { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
    assert.equal(r.body.kind, 'Table');
    assert.deepEqual(r.body.columnDefinitions.map((c: any) => c.name).slice(0, 6), ['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age']);
    assert.deepEqual(r.body.rows[0].cells.slice(0, 5), ['kubernetes', 'ClusterIP', '10.96.0.1', '<none>', '443/TCP']);
  });

  it('serves the same API on an attached listener', async () => {
    const extra = createServer();
    extra.listen(0, '127.0.0.1');
    await once(extra, 'listening');
    server.attach(extra);
    const port = (extra.address() as AddressInfo).port;
    const other = { ...server, url: `https://127.0.0.1:${port}` };
    const r = await call(other, state.dir, 'GET', '/api/v1/namespaces/default/services/kubernetes');
    assert.equal(r.status, 200);
    assert.equal(r.body.spec.clusterIP, '10.96.0.1');
    extra.close();
  });

  it('sends BOOKMARK events when allowed', async () => {
    const r = await req('GET', '/api/v1/namespaces/default/pods?watch=true&allowWatchBookmarks=true&timeoutSeconds=1&resourceVersion=' +
      (await req('GET', '/api/v1/namespaces/default/pods')).body.metadata.resourceVersion);
    const types = r.text.trim().split('\n').map((l) => JSON.parse(l).type);
    assert.ok(types.includes('BOOKMARK'), types.join(','));
  });

  it('binding a bound pod conflicts', async () => {
    await req('POST', '/api/v1/namespaces/default/pods', { body: podBody('bind') });
    const b = { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bind' }, target: { kind: 'Node', name: 'n1' } };
    assert.equal((await req('POST', '/api/v1/namespaces/default/pods/bind/binding', { body: b })).status, 201);
    const again = await req('POST', '/api/v1/namespaces/default/pods/bind/binding', { body: { ...b, target: { kind: 'Node', name: 'n2' } } });
    assert.equal(again.status, 409);
    assert.equal((await req('GET', '/api/v1/namespaces/default/pods/bind')).body.spec.nodeName, 'n1');
  });

  it('a watch keeps up with a few hundred pods updating status', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(server.kubeconfigPath);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await req('POST', '/api/v1/namespaces', { body: { metadata: { name: 'load' } } });
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/load/pods', () => core.listNamespacedPod({ namespace: 'load' }));
    await informer.start();
    const N = 300;
    await Promise.all(Array.from({ length: N }, (_, i) => core.createNamespacedPod({ namespace: 'load', body: podBody(`p${i}`) })));
    for (const phase of ['Running', 'Succeeded']) {
      await Promise.all(Array.from({ length: N }, (_, i) => core.patchNamespacedPodStatus(
        { namespace: 'load', name: `p${i}`, body: { status: { phase } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch))));
    }
    await eventually(() => informer.list().length === N && informer.list().every((p) => p.status?.phase === 'Succeeded'), 20_000);
    await informer.stop();
  });
});
