// In-process: @kubernetes/client-node against the API server (informers, CRUD, status subresource).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { eventually } from '../../test/support/eventually.ts';
import type { ApiServer } from './index.ts';
import { startTestServer, tempStateDir } from './testing.ts';

const pod = (name: string, labels: Record<string, string> = {}): k8s.V1Pod => ({
  metadata: { name, labels },
  spec: { containers: [{ name: 'c', image: 'busybox' }] },
});

describe('client-node against the api server', () => {
  const state = tempStateDir();
  let server: ApiServer;
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;

  before(async () => {
    server = await startTestServer(state.dir);
    kc = new k8s.KubeConfig();
    kc.loadFromFile(server.kubeconfigPath);
    core = kc.makeApiClient(k8s.CoreV1Api);
  });
  after(async () => {
    await server.close();
    state.cleanup();
  });

  it('informer with a label selector sees ADDED, MODIFIED, DELETED in order and resumes after a dropped watch', async () => {
    const seen: string[] = [];
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/default/pods',
      () => core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=web' }), 'app=web');
    informer.on('add', (p) => seen.push(`add ${p.metadata!.name}`));
    informer.on('update', (p) => seen.push(`update ${p.metadata!.name} ${p.metadata!.labels!.v}`));
    informer.on('delete', (p) => seen.push(`delete ${p.metadata!.name}`));
    const errors: unknown[] = [];
    informer.on('error', (e) => errors.push(e));
    await informer.start();

    await core.createNamespacedPod({ namespace: 'default', body: pod('other', { app: 'db' }) });
    await core.createNamespacedPod({ namespace: 'default', body: pod('a', { app: 'web', v: '1' }) });
    await core.patchNamespacedPod({ namespace: 'default', name: 'a', body: { metadata: { labels: { v: '2' } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    await core.deleteNamespacedPod({ namespace: 'default', name: 'a' });
    await eventually(() => { assert.deepEqual(seen, ['add a', 'update a 2', 'delete a']); return true; });

    server.dropWatches();
    await core.createNamespacedPod({ namespace: 'default', body: pod('b', { app: 'web', v: '1' }) });
    await core.patchNamespacedPod({ namespace: 'default', name: 'b', body: { metadata: { labels: { v: '3' } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    await eventually(() => { assert.deepEqual(seen, ['add a', 'update a 2', 'delete a', 'add b', 'update b 3']); return true; }, 15_000);
    assert.deepEqual(errors, []);
    assert.deepEqual(informer.list().map((p) => p.metadata!.name), ['b']);
    await informer.stop();
  });

  it('after an abrupt drop, an informer restarted on error resumes from its resourceVersion', async () => {
    const seen: string[] = [];
    const errors: unknown[] = [];
    const lw = new k8s.ListWatch<k8s.V1ConfigMap>('/api/v1/namespaces/default/configmaps', new k8s.Watch(kc),
      () => core.listNamespacedConfigMap({ namespace: 'default', labelSelector: 'drop=abrupt' }), false, 'drop=abrupt');
    lw.on('add', (c) => seen.push(`add ${c.metadata!.name}`));
    let stopped = false;
    lw.on('error', (e) => {
      if (stopped) return;
      errors.push(e);
      setTimeout(() => { if (!stopped) lw.start().catch(() => {}); }, 10);
    });
    await lw.start();
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'd1', labels: { drop: 'abrupt' } } } });
    await eventually(() => seen.length === 1);
    server.dropWatches({ abrupt: true });
    await eventually(() => errors.length === 1);
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'd2', labels: { drop: 'abrupt' } } } });
    await eventually(() => { assert.deepEqual(seen, ['add d1', 'add d2']); return true; });
    stopped = true;
    await lw.stop();
  });

  it('a field selector on spec.nodeName delivers pods as they are bound', async () => {
    const names: string[] = [];
    const lw = new k8s.ListWatch<k8s.V1Pod>('/api/v1/pods', new k8s.Watch(kc),
      () => core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=node-1' }), false, undefined, 'spec.nodeName=node-1');
    lw.on('add', (p) => names.push(p.metadata!.name!));
    await lw.start();
    await core.createNamespacedPod({ namespace: 'default', body: pod('unbound') });
    await core.createNamespacedPod({ namespace: 'default', body: pod('bound') });
    await core.createNamespacedPodBinding({ namespace: 'default', name: 'bound', body: { metadata: { name: 'bound' }, target: { kind: 'Node', name: 'node-1' } } });
    await eventually(() => { assert.deepEqual(names, ['bound']); return true; });
    const got = await core.readNamespacedPod({ namespace: 'default', name: 'bound' });
    assert.equal(got.spec!.nodeName, 'node-1');
    await lw.stop();
  });

  it('KubernetesObjectApi creates, reads, merge-patches and deletes a core kind and an Istio CRD', async () => {
    const api = k8s.KubernetesObjectApi.makeApiClient(kc);
    const objects = [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'default' }, data: { a: '1' } },
      {
        apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'deny', namespace: 'default' },
        spec: { action: 'DENY', rules: [{ from: [{ source: { namespaces: ['x'] } }] }] },
      },
    ];
    for (const spec of objects) {
      const created: k8s.KubernetesObject = await api.create(spec);
      assert.equal(created.metadata!.name, spec.metadata.name);
      assert.ok(created.metadata!.uid);
      const read: k8s.KubernetesObject = await api.read({ apiVersion: spec.apiVersion, kind: spec.kind, metadata: spec.metadata });
      assert.equal(read.metadata!.uid, created.metadata!.uid);
      assert.equal(read.apiVersion, spec.apiVersion);
      const patched: k8s.KubernetesObject = await api.patch({ apiVersion: spec.apiVersion, kind: spec.kind, metadata: { ...spec.metadata, labels: { patched: 'yes' } } },
        undefined, undefined, undefined, undefined, k8s.PatchStrategy.MergePatch);
      assert.equal(patched.metadata!.labels!.patched, 'yes');
      assert.ok(Number(patched.metadata!.resourceVersion) > Number(created.metadata!.resourceVersion));
      await api.delete({ apiVersion: spec.apiVersion, kind: spec.kind, metadata: spec.metadata });
      await assert.rejects(api.read({ apiVersion: spec.apiVersion, kind: spec.kind, metadata: spec.metadata }), (e: any) => e.code === 404);
    }
  });

  it('the same Istio object is served at every version of its group', async () => {
    const api = k8s.KubernetesObjectApi.makeApiClient(kc);
    await api.create({ apiVersion: 'networking.istio.io/v1beta1', kind: 'VirtualService', metadata: { name: 'vs', namespace: 'default' }, spec: { hosts: ['a'] } } as any);
    const v1 = await api.read({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'vs', namespace: 'default' } });
    const v1a3 = await api.read({ apiVersion: 'networking.istio.io/v1alpha3', kind: 'VirtualService', metadata: { name: 'vs', namespace: 'default' } });
    assert.equal(v1.apiVersion, 'networking.istio.io/v1');
    assert.equal(v1a3.apiVersion, 'networking.istio.io/v1alpha3');
    assert.equal(v1.metadata!.uid, v1a3.metadata!.uid);
  });

  it('the status subresource replaces only status; the main endpoint ignores status', async () => {
    const created = await core.createNamespacedPod({ namespace: 'default', body: pod('st') });
    const withStatus = { ...created, status: { phase: 'Running', podIP: '10.244.1.5' }, spec: { ...created.spec!, activeDeadlineSeconds: 5 } };
    const afterStatus = await core.replaceNamespacedPodStatus({ namespace: 'default', name: 'st', body: withStatus });
    assert.equal(afterStatus.status!.phase, 'Running');
    assert.equal(afterStatus.status!.podIP, '10.244.1.5');
    assert.equal(afterStatus.spec!.activeDeadlineSeconds, undefined);
    const main = await core.replaceNamespacedPod({ namespace: 'default', name: 'st', body: { ...afterStatus, status: { phase: 'Failed' } } });
    assert.equal(main.status!.phase, 'Running');
  });
});
