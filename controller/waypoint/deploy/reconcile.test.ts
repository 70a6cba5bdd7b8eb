// The waypoint reconciler against an in-process local API server, fed by the same informers the controller uses:
// objects created, status written once the Deployment is ready, scaling left alone, rejection, class change and
// deletion cleaned up, other Gateway classes ignored, nothing written while not leader.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, CustomObjectsApi, type V1Deployment } from '@kubernetes/client-node';
import { mergePatch, startTestApi, type TestApi } from '../../../test/support/control-plane.ts';
import { eventually } from '../../../test/support/eventually.ts';
import { silent } from '../../../shared/log.ts';
import { meshKinds, startWatches } from '../../kube/watch.ts';
import { startWaypointReconciler, waypointWatchedKinds, WAYPOINT_EVENT_KINDS } from './reconcile.ts';
import { RENDER_HASH } from './render.ts';

const GW = { group: 'gateway.networking.k8s.io', version: 'v1' };

async function setup(t: TestContext, isLeader: () => boolean = () => true): Promise<TestApi & { apps: AppsV1Api; crd: CustomObjectsApi }> {
  const ta = await startTestApi(t);
  await ta.core.createNamespace({ body: { metadata: { name: 'demo' } } });
  const kinds = [...meshKinds().filter((k) => WAYPOINT_EVENT_KINDS.includes(k.kind)), ...waypointWatchedKinds()];
  assert.deepEqual(kinds.map((k) => k.kind).sort(), [...WAYPOINT_EVENT_KINDS].sort(), 'the controller watches every kind the reconciler needs');
  let forward: (kind: string, type: 'add' | 'update' | 'delete', obj: any) => void = () => {};
  const watches = startWatches(ta.kube, kinds, (kind, type, obj) => forward(kind, type, obj), silent);
  const r = startWaypointReconciler({
    kube: ta.kube, isLeader, log: silent, synced: watches.synced, leaderPollMs: 50,
    render: { image: 'ambient-mesh/ambient-mesh:dev', xdsAddress: 'istiod.istio-system.svc:15012', caAddress: 'istiod.istio-system.svc:15012', trustDomain: 'cluster.local', clusterId: 'Kubernetes', controlPlaneNamespace: 'istio-system' },
  });
  forward = (kind, type, obj) => r.event(kind, type, obj);
  t.after(async () => {
    await r.stop();
    await watches.stop();
  });
  return { ...ta, apps: ta.kc.makeApiClient(AppsV1Api), crd: ta.kc.makeApiClient(CustomObjectsApi) };
}

const waypoint = (name: string, cls = 'istio-waypoint', port = 15008) => ({
  apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name, namespace: 'demo' },
  spec: { gatewayClassName: cls, listeners: [{ name: 'mesh', port, protocol: 'HBONE' }] },
});

const notFound = async (p: Promise<unknown>): Promise<boolean> => p.then(() => false, (e: { code?: number }) => e.code === 404);

test('waypoint reconciler: objects, Programmed once ready, scale kept, class change and deletion cleaned up', { timeout: 60_000 }, async (t) => {
  const { core, apps, crd } = await setup(t);
  const getGw = async (name: string) => crd.getNamespacedCustomObject({ ...GW, namespace: 'demo', plural: 'gateways', name });
  const cond = (gw: any, type: string) => (gw.status?.conditions ?? []).find((c: any) => c.type === type);

  await crd.createNamespacedCustomObject({ ...GW, namespace: 'demo', plural: 'gateways', body: waypoint('other-class', 'istio') });
  const created = await crd.createNamespacedCustomObject({ ...GW, namespace: 'demo', plural: 'gateways', body: waypoint('waypoint') });

  const dep: V1Deployment = await eventually(() => apps.readNamespacedDeployment({ namespace: 'demo', name: 'waypoint' }));
  const sa = await eventually(() => core.readNamespacedServiceAccount({ namespace: 'demo', name: 'waypoint' }));
  const svc = await eventually(() => core.readNamespacedService({ namespace: 'demo', name: 'waypoint' }));
  for (const obj of [dep, sa, svc]) {
    assert.deepEqual(obj.metadata?.ownerReferences?.map((r) => [r.kind, r.name, r.uid, r.controller]), [['Gateway', 'waypoint', created.metadata.uid, true]]);
    assert.equal(obj.metadata?.labels?.['gateway.istio.io/managed'], 'istio.io-mesh-controller');
  }
  assert.equal(dep.spec?.template.metadata?.labels?.['istio.io/dataplane-mode'], 'none');
  assert.match(svc.spec?.clusterIP ?? '', /^10\.96\.\d+\.\d+$/, 'the API server assigns the cluster IP');
  assert.deepEqual(svc.spec?.ports?.map((p) => [p.name, p.port, p.appProtocol]), [['status-port', 15021, 'tcp'], ['mesh', 15008, 'hbone']]);

  // Not ready yet: accepted, pending, no address.
  let gw = await eventually(async () => {
    const g = await getGw('waypoint');
    return cond(g, 'Programmed')?.reason === 'Pending' && g;
  });
  assert.equal(cond(gw, 'Accepted').status, 'True');
  assert.match(cond(gw, 'Programmed').message, /0\/1 ready/);
  assert.deepEqual(gw.status.addresses, []);
  assert.equal(gw.status.listeners[0].name, 'mesh');

  const cls = await eventually(async () => {
    const c = await crd.getClusterCustomObject({ ...GW, plural: 'gatewayclasses', name: 'istio-waypoint' });
    return cond(c, 'Accepted')?.status === 'True' && c;
  });
  assert.equal(cls.spec.controllerName, 'istio.io/mesh-controller');

  // The kubelet and deployment controller would report this; here the test does.
  await apps.patchNamespacedDeploymentStatus({ namespace: 'demo', name: 'waypoint', body: { status: { replicas: 1, readyReplicas: 1, availableReplicas: 1 } } }, mergePatch);
  gw = await eventually(async () => {
    const g = await getGw('waypoint');
    return cond(g, 'Programmed')?.status === 'True' && g;
  });
  assert.deepEqual(gw.status.addresses, [{ type: 'IPAddress', value: svc.spec!.clusterIP }]);
  assert.equal(cond(gw, 'Programmed').reason, 'Programmed');

  // A user (or an HPA) scales the Deployment, then the Gateway changes: the new template rolls out, the scale holds.
  await apps.patchNamespacedDeployment({ namespace: 'demo', name: 'waypoint', body: { spec: { replicas: 3 } } }, mergePatch);
  await crd.patchNamespacedCustomObject({ ...GW, namespace: 'demo', plural: 'gateways', name: 'waypoint', body: { spec: { infrastructure: { labels: { team: 'blue' } } } } }, mergePatch);
  const rolled = await eventually(async () => {
    const d = await apps.readNamespacedDeployment({ namespace: 'demo', name: 'waypoint' });
    return d.spec?.template.metadata?.labels?.team === 'blue' && d;
  });
  assert.equal(rolled.spec?.replicas, 3);
  assert.notEqual(rolled.metadata?.annotations?.[RENDER_HASH], dep.metadata?.annotations?.[RENDER_HASH]);

  // Settled: nothing is rewritten while nothing changes.
  await sleep(300);
  const rv = (await apps.readNamespacedDeployment({ namespace: 'demo', name: 'waypoint' })).metadata?.resourceVersion;
  const gwRv = (await getGw('waypoint')).metadata.resourceVersion;
  await sleep(500);
  assert.equal((await apps.readNamespacedDeployment({ namespace: 'demo', name: 'waypoint' })).metadata?.resourceVersion, rv);
  assert.equal((await getGw('waypoint')).metadata.resourceVersion, gwRv);

  // Another class is never touched.
  assert.ok(await notFound(apps.readNamespacedDeployment({ namespace: 'demo', name: 'other-class' })));
  assert.equal((await getGw('other-class')).status, undefined);

  // A class change takes the waypoint's objects away.
  await crd.createNamespacedCustomObject({ ...GW, namespace: 'demo', plural: 'gateways', body: waypoint('moves') });
  await eventually(() => apps.readNamespacedDeployment({ namespace: 'demo', name: 'moves' }));
  await crd.patchNamespacedCustomObject({ ...GW, namespace: 'demo', plural: 'gateways', name: 'moves', body: { spec: { gatewayClassName: 'istio' } } }, mergePatch);
  await eventually(async () => await notFound(apps.readNamespacedDeployment({ namespace: 'demo', name: 'moves' }))
    && await notFound(core.readNamespacedService({ namespace: 'demo', name: 'moves' })));

  // Deleting the Gateway deletes everything it owns.
  await crd.deleteNamespacedCustomObject({ ...GW, namespace: 'demo', plural: 'gateways', name: 'waypoint' });
  await eventually(async () => await notFound(apps.readNamespacedDeployment({ namespace: 'demo', name: 'waypoint' }))
    && await notFound(core.readNamespacedService({ namespace: 'demo', name: 'waypoint' }))
    && await notFound(core.readNamespacedServiceAccount({ namespace: 'demo', name: 'waypoint' })));
});

test('waypoint reconciler: a waypoint with the wrong listener is rejected and not deployed', { timeout: 30_000 }, async (t) => {
  const { apps, crd } = await setup(t);
  await crd.createNamespacedCustomObject({ ...GW, namespace: 'demo', plural: 'gateways', body: waypoint('bad', 'istio-waypoint', 80) });
  const gw = await eventually(async () => {
    const g = await crd.getNamespacedCustomObject({ ...GW, namespace: 'demo', plural: 'gateways', name: 'bad' });
    return g.status?.conditions?.length && g;
  });
  const accepted = gw.status.conditions.find((c: any) => c.type === 'Accepted');
  assert.deepEqual([accepted.status, accepted.reason], ['False', 'Invalid']);
  assert.match(accepted.message, /spec\.listeners\[0\]\.port/);
  assert.ok(await notFound(apps.readNamespacedDeployment({ namespace: 'demo', name: 'bad' })));
});

test('waypoint reconciler: nothing is written until this replica leads', { timeout: 30_000 }, async (t) => {
  let leading = false;
  const { apps, crd } = await setup(t, () => leading);
  await crd.createNamespacedCustomObject({ ...GW, namespace: 'demo', plural: 'gateways', body: waypoint('waypoint') });
  await sleep(500);
  assert.ok(await notFound(apps.readNamespacedDeployment({ namespace: 'demo', name: 'waypoint' })));
  assert.ok(await notFound(crd.getClusterCustomObject({ ...GW, plural: 'gatewayclasses', name: 'istio-waypoint' })));
  leading = true;
  await eventually(() => apps.readNamespacedDeployment({ namespace: 'demo', name: 'waypoint' }));
});
