// ztunnel's xDS client against the real controller, in process on loopback (TLS verified by name against the mesh
// root, a pod-bound ztunnel token): the state gets the ambient namespace's workloads and service; with the
// controller stopped the state keeps serving; after a restart it resyncs — a pod deleted meanwhile is removed, one
// created meanwhile arrives, and an unchanged workload is not resent (initial_resource_versions).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startController, type Controller } from '../../controller/controller.ts';
import { silent } from '../../shared/log.ts';
import { eventually } from '../support/eventually.ts';
import { createZtunnelIdentity, setPodReady, startTestApi, testPod } from '../support/control-plane.ts';
import { XdsState } from '../../shared/state/index.ts';
import { startXdsClient, stateSubscriptions, ztunnelNodeId } from '../../shared/xds/index.ts';
import type { IpText, ServiceKey } from '../../ztunnel/types.ts';

const uid = (name: string) => `Kubernetes//Pod/shop/${name}`;
const WEB = 'shop/web.shop.svc.cluster.local' as ServiceKey;

test('ztunnel xds ⇄ controller: sync, serve while the controller is down, resync after restart', { timeout: 120_000 }, async (t) => {
  const cp = await startTestApi(t);
  const { core, kube } = cp;
  const { token, podName } = await createZtunnelIdentity(cp);
  await core.createNamespace({ body: { metadata: { name: 'shop', labels: { 'istio.io/dataplane-mode': 'ambient' } } } });
  for (const [name, ip] of [['web-1', '10.244.1.5'], ['web-2', '10.244.1.6']] as const) {
    await core.createNamespacedPod({ namespace: 'shop', body: testPod(name, 'shop', { sa: 'web', labels: { app: 'web' } }) });
    await setPodReady(core, 'shop', name, ip);
  }
  await core.createNamespacedService({ namespace: 'shop', body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } } });

  let ctl: Controller | undefined = await startController({ kube, grpcPort: 0, debugPort: 0, debounceMs: 20, log: silent });
  t.after(() => ctl?.close());
  const port = ctl.grpcPort;

  const state = new XdsState();
  const xds = startXdsClient({
    address: `127.0.0.1:${port}`, servername: ctl.serverName, rootCaPem: ctl.rootCertPem, token: () => token,
    node: { id: ztunnelNodeId({ ip: '10.100.0.11', podName, namespace: 'istio-system' }), metadata: { NODE_NAME: 'node-1', NAMESPACE: 'istio-system' } },
    subscriptions: stateSubscriptions(state), log: silent, backoff: { initialMs: 100, maxMs: 500 },
  });
  t.after(() => xds.close());

  // 1. Synced: both workloads and the service, endpoints resolved to the named target port.
  await xds.synced;
  assert.equal(state.workloadByIp('10.244.1.5' as IpText)?.uid, uid('web-1'));
  assert.equal(state.workloadByUid(uid('web-2'))?.serviceAccount, 'web');
  const svc = state.serviceByKey(WEB);
  assert.ok(svc, 'service web arrived');
  assert.equal(state.serviceByHostname('web.shop.svc.cluster.local'), svc);
  assert.deepEqual(state.endpointsOf(WEB, 80).map((e) => [e.workload.name, e.port]), [['web-1', 8080], ['web-2', 8080]]);
  assert.deepEqual(state.workloadsOnNode('node-1').map((w) => w.name).sort(), ['web-1', 'web-2']);
  const connections = ctl.ads.connectedClients();
  assert.equal(connections[0]?.nodeId, `ztunnel~10.100.0.11~${podName}.istio-system~istio-system.svc.cluster.local`);
  assert.equal(connections[0]?.id, `istio-system/ztunnel/${podName}`);
  const web1Before = state.workloadByUid(uid('web-1'));

  // 2. The controller stops: the client notices, the state keeps serving.
  await ctl.close();
  ctl = undefined;
  await eventually(() => !xds.connected(), 10_000);
  assert.equal(state.workloadByIp('10.244.1.6' as IpText)?.uid, uid('web-2'), 'state served while disconnected');
  assert.equal(state.endpointsOf(WEB, 80).length, 2);

  // 3. Meanwhile web-2 is deleted and web-3 appears; the controller restarts on the same port.
  await core.deleteNamespacedPod({ name: 'web-2', namespace: 'shop' });
  await core.createNamespacedPod({ namespace: 'shop', body: testPod('web-3', 'shop', { sa: 'web', labels: { app: 'web' } }) });
  await setPodReady(core, 'shop', 'web-3', '10.244.1.7');
  await eventually(() => xds.dump().failedAttempts >= 1, 10_000);
  assert.equal(state.workloadByUid(uid('web-2'))?.name, 'web-2', 'nothing changes before the controller is back');
  ctl = await startController({ kube, grpcPort: port, debugPort: 0, debounceMs: 20, log: silent });

  await eventually(() => xds.connected() && state.workloadByUid(uid('web-3')) && !state.workloadByUid(uid('web-2')), 30_000);
  assert.equal(state.workloadByIp('10.244.1.6' as IpText), undefined, 'the deleted pod is gone from every index');
  assert.deepEqual(state.endpointsOf(WEB, 80).map((e) => e.workload.name), ['web-1', 'web-3']);
  assert.equal(state.workloadByUid(uid('web-1')), web1Before, 'the unchanged workload was not resent');
  assert.ok(xds.dump().streams >= 2);
});
