// In-process: the controller manager against the real API server, with Node objects and pod
// statuses written by the test (no kubelet), so every step is under the test's control.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { silent } from '../../shared/log.ts';
import { eventually } from '../../test/support/eventually.ts';
import { startApiServer, type ApiServer } from '../apiserver/index.ts';
import { startControllers, type Controllers } from './index.ts';

const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

describe('controllers against the api server', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'controllers-test-'));
  let server: ApiServer;
  let controllers: Controllers;
  let core: k8s.CoreV1Api;
  let apps: k8s.AppsV1Api;
  let discovery: k8s.DiscoveryV1Api;
  let ipSeq = 10;

  const podsOf = async (selector: string): Promise<k8s.V1Pod[]> => (await core.listNamespacedPod({ namespace: 'default', labelSelector: selector })).items;
  /** Play kubelet: mark every bound pod of the selector Running and Ready with an IP. */
  const makeReady = async (selector: string): Promise<void> => {
    for (const p of await podsOf(selector)) {
      if (!p.spec?.nodeName || p.status?.podIP) continue;
      await core.patchNamespacedPodStatus({ name: p.metadata!.name!, namespace: 'default', body: { status: {
        phase: 'Running', podIP: `10.244.0.${ipSeq++}`, conditions: [{ type: 'Ready', status: 'True' }],
      } } }, merge);
    }
  };

  before(async () => {
    server = await startApiServer({ stateDir: path.join(dir, 'state'), port: 0, host: '127.0.0.1', logger: silent });
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(server.kubeconfigPath);
    core = kc.makeApiClient(k8s.CoreV1Api);
    apps = kc.makeApiClient(k8s.AppsV1Api);
    discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
    for (const [name, zone] of [['n1', 'a'], ['n2', 'b']] as const) {
      await core.createNode({ body: { metadata: { name, labels: { 'kubernetes.io/hostname': name, zone } } } });
      await core.patchNodeStatus({ name, body: { status: { conditions: [{ type: 'Ready', status: 'True' }] } } }, merge);
    }
    controllers = await startControllers({ kubeconfig: kc, logger: silent, controlPlane: { apiAddress: '10.100.0.1', apiPort: 6443, dnsAddress: '10.100.0.2' }, resyncMs: 500 });
  });
  after(async () => {
    await controllers?.stop();
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('control-plane Services get slices pointing at the configured addresses', async () => {
    const api = await eventually(() => discovery.readNamespacedEndpointSlice({ name: 'kubernetes', namespace: 'default' }));
    assert.deepEqual(api.endpoints?.map((e) => e.addresses), [['10.100.0.1']]);
    assert.equal(api.ports?.[0]?.port, 6443);
    const dns = await eventually(() => discovery.readNamespacedEndpointSlice({ name: 'kube-dns', namespace: 'kube-system' }));
    assert.deepEqual(dns.endpoints?.map((e) => e.addresses), [['10.100.0.2']]);
    assert.deepEqual(dns.ports?.map((p) => `${p.protocol}/${p.port}`), ['UDP/53', 'TCP/53']);
  });

  it('a Deployment gets owned, scheduled pods, status, and a Service slice; template changes roll out', async () => {
    const template = (image: string): k8s.V1PodTemplateSpec => ({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image, ports: [{ name: 'http', containerPort: 8080 }] }] } });
    await apps.createNamespacedDeployment({ namespace: 'default', body: { metadata: { name: 'web' }, spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: template('img:v1') } } });
    await core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' as any }] } } });
    const pods = await eventually(async () => { const ps = await podsOf('app=web'); return ps.length === 3 && ps.every((p) => p.spec?.nodeName) ? ps : undefined; });
    const hash = pods[0]?.metadata?.labels?.['pod-template-hash'];
    for (const p of pods) {
      assert.match(p.metadata?.name ?? '', new RegExp(`^web-${hash}-[a-z0-9]{5}$`));
      assert.equal(p.metadata?.ownerReferences?.[0]?.kind, 'Deployment');
      assert.equal(p.metadata?.ownerReferences?.[0]?.controller, true);
    }
    const perNode = pods.map((p) => p.spec?.nodeName).sort();
    assert.ok(perNode.includes('n1') && perNode.includes('n2'), `spread: ${perNode.join(',')}`);

    await makeReady('app=web');
    const d = await eventually(async () => { const x = await apps.readNamespacedDeployment({ name: 'web', namespace: 'default' }); return x.status?.readyReplicas === 3 ? x : undefined; });
    assert.equal(d.status?.replicas, 3);
    assert.equal(d.status?.updatedReplicas, 3);
    assert.equal(d.status?.availableReplicas, 3);
    assert.equal(d.status?.observedGeneration, d.metadata?.generation);
    assert.equal(d.status?.conditions?.find((c) => c.type === 'Available')?.status, 'True');

    const slice = await eventually(async () => {
      const list = await discovery.listNamespacedEndpointSlice({ namespace: 'default', labelSelector: 'kubernetes.io/service-name=web' });
      return list.items[0]?.endpoints?.length === 3 ? list.items[0] : undefined;
    });
    assert.equal(slice.metadata?.labels?.['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
    assert.equal(slice.metadata?.ownerReferences?.[0]?.kind, 'Service');
    assert.deepEqual(slice.ports?.map((p) => p.port), [8080], 'named targetPort resolved');
    assert.ok(slice.endpoints?.every((e) => e.conditions?.ready && e.targetRef?.kind === 'Pod' && e.nodeName));

    await apps.patchNamespacedDeployment({ name: 'web', namespace: 'default', body: { spec: { template: template('img:v2') } } }, merge);
    for (let i = 0; i < 40; i++) {
      await makeReady('app=web');
      const ps = await podsOf('app=web');
      if (ps.length === 3 && ps.every((p) => p.spec?.containers[0]?.image === 'img:v2' && p.status?.podIP)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const rolled = await podsOf('app=web');
    assert.deepEqual(rolled.map((p) => p.spec?.containers[0]?.image), ['img:v2', 'img:v2', 'img:v2']);
    assert.ok(rolled.every((p) => p.metadata?.labels?.['pod-template-hash'] !== hash));

    await apps.patchNamespacedDeployment({ name: 'web', namespace: 'default', body: { spec: { replicas: 1 } } }, merge);
    await eventually(async () => (await podsOf('app=web')).length === 1);
    await eventually(async () => (await apps.readNamespacedDeployment({ name: 'web', namespace: 'default' })).status?.replicas === 1);
  });

  it('a DaemonSet runs one pod per node matching its nodeSelector', async () => {
    await apps.createNamespacedDaemonSet({ namespace: 'default', body: { metadata: { name: 'agent' }, spec: {
      selector: { matchLabels: { app: 'agent' } },
      template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'a', image: 'busybox' }] } },
    } } });
    const ps = await eventually(async () => { const x = await podsOf('app=agent'); return x.length === 2 ? x : undefined; });
    assert.deepEqual(ps.map((p) => p.spec?.nodeName).sort(), ['n1', 'n2']);
    await makeReady('app=agent');
    await eventually(async () => (await apps.readNamespacedDaemonSet({ name: 'agent', namespace: 'default' })).status?.numberReady === 2);
    await apps.patchNamespacedDaemonSet({ name: 'agent', namespace: 'default', body: { spec: { template: { spec: { nodeSelector: { zone: 'b' } } } } } }, merge);
    await eventually(async () => { const x = await podsOf('app=agent'); return x.length === 1 && x[0]?.spec?.nodeName === 'n2'; });
  });

  it('an unschedulable pod gets PodScheduled=False', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'gpu', labels: { app: 'gpu' } }, spec: { nodeSelector: { gpu: 'yes' }, containers: [{ name: 'c', image: 'busybox' }] } } });
    const p = await eventually(async () => { const x = await core.readNamespacedPod({ name: 'gpu', namespace: 'default' }); return x.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False') ? x : undefined; });
    assert.equal(p.status?.conditions?.[0]?.reason, 'Unschedulable');
    assert.equal(p.spec?.nodeName, undefined);
  });

  it('every namespace gets a default ServiceAccount', async () => {
    await core.createNamespace({ body: { metadata: { name: 'team-a' } } });
    await eventually(() => core.readNamespacedServiceAccount({ name: 'default', namespace: 'team-a' }));
    await core.deleteNamespacedServiceAccount({ name: 'default', namespace: 'team-a' });
    await eventually(() => core.readNamespacedServiceAccount({ name: 'default', namespace: 'team-a' }));
  });
});
