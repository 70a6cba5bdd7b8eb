// The controller end to end, in process: a local API server with pods, a Service and policies; the
// controller serving delta ADS + CA over TLS; a gRPC client authenticating like ztunnel (bearer token
// bound to its pod, TLS verified against the mesh root) that subscribes, ACKs, and watches changes arrive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { mergePatch as merge, setPodReady as setReady, startTestApi, testPod } from '../test/support/control-plane.ts';
import { silent } from '../shared/log.ts';
import { eventually } from '../test/support/eventually.ts';
import { startController } from './controller.ts';
import { AdsClient, ADDRESS_TYPE_URL as ADDR, AUTHORIZATION_TYPE_URL as AUTHZ, decodeAddress, type DeltaDiscoveryResponse, type DeltaDiscoveryRequest } from '../shared/proto/index.ts';

const pod = (name: string, ns: string, sa: string, labels: Record<string, string>) => testPod(name, ns, { sa, labels });

test('controller: xDS over TLS with a ztunnel token — full state, one incremental update, a removal, a quiet reconnect, policy status', { timeout: 120_000 }, async (t) => {
  const { api, kc, kube, core } = await startTestApi(t);
  const crd = kc.makeApiClient(CustomObjectsApi);

  await core.createNamespace({ body: { metadata: { name: 'istio-system' } } });
  await core.createNamespace({ body: { metadata: { name: 'shop', labels: { 'istio.io/dataplane-mode': 'ambient' } } } });
  await core.createNamespacedServiceAccount({ namespace: 'istio-system', body: { metadata: { name: 'ztunnel' } } });
  const zt = await core.createNamespacedPod({ namespace: 'istio-system', body: pod('ztunnel-n1', 'istio-system', 'ztunnel', { app: 'ztunnel' }) });
  for (const [name, ip] of [['web-1', '10.244.1.5'], ['web-2', '10.244.1.6']] as const) {
    await core.createNamespacedPod({ namespace: 'shop', body: pod(name, 'shop', 'web', { app: 'web', version: 'v1' }) });
    await setReady(core, 'shop', name, ip);
  }
  await core.createNamespacedService({ namespace: 'shop', body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } } });
  await crd.createNamespacedCustomObject({
    group: 'security.istio.io', version: 'v1', namespace: 'shop', plural: 'authorizationpolicies',
    body: { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'allow-shop' }, spec: { action: 'ALLOW', rules: [{ from: [{ source: { namespaces: ['shop'] } }] }] } },
  });

  const ctl = await startController({ kube, grpcPort: 0, debugPort: 0, debounceMs: 20, log: silent });
  t.after(() => ctl.close());

  const token = api.mintServiceAccountToken('istio-system', 'ztunnel', { audiences: ['istio-ca'], pod: { name: 'ztunnel-n1', uid: zt.metadata!.uid! } });
  const creds = grpc.credentials.createSsl(Buffer.from(ctl.rootCertPem));
  const options = { 'grpc.ssl_target_name_override': ctl.serverName, 'grpc.default_authority': ctl.serverName };
  const streams: Array<() => void> = [];
  t.after(() => streams.forEach((end) => end()));
  const open = (bearer = token) => {
    const client = new AdsClient(`127.0.0.1:${ctl.grpcPort}`, creds, options);
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${bearer}`);
    const call = client.DeltaAggregatedResources(md);
    const got: DeltaDiscoveryResponse[] = [];
    let error: grpc.ServiceError | undefined;
    call.on('data', (r: DeltaDiscoveryResponse) => {
      got.push(r);
      call.write({ typeUrl: r.typeUrl, responseNonce: r.nonce }); // ACK, as ztunnel does
    });
    call.on('error', (e: grpc.ServiceError) => (error = e));
    streams.push(() => {
      call.end();
      client.close();
    });
    return {
      got: (type: string) => got.filter((r) => r.typeUrl === type),
      send: (r: Partial<DeltaDiscoveryRequest>) => call.write({ node: { id: 'ztunnel~10.100.0.11~ztunnel-n1.istio-system~istio-system.svc.cluster.local' }, ...r }),
      error: () => error,
    };
  };

  // 1. Full state: both workloads, the service, the policy.
  const s = open();
  s.send({ typeUrl: ADDR });
  s.send({ typeUrl: AUTHZ });
  const first = await eventually(() => s.got(ADDR)[0], 10_000);
  const names = first.resources.map((r) => r.name);
  assert.ok(names.includes('Kubernetes//Pod/shop/web-1'), names.join(','));
  assert.ok(names.includes('Kubernetes//Pod/shop/web-2'));
  assert.ok(names.includes('shop/web.shop.svc.cluster.local'));
  const web1 = decodeAddress(first.resources.find((r) => r.name === 'Kubernetes//Pod/shop/web-1')!.resource!.value);
  assert.equal(web1.workload?.tunnelProtocol, 'HBONE');
  assert.equal(web1.workload?.serviceAccount, 'web');
  assert.equal(web1.workload?.trustDomain, 'cluster.local');
  assert.ok(web1.workload?.authorizationPolicies === undefined || !web1.workload.authorizationPolicies.includes('shop/allow-shop'), 'namespace-scoped policies are not listed per workload');
  const authz = await eventually(() => s.got(AUTHZ)[0], 10_000);
  assert.deepEqual(authz.resources.map((r) => r.name), ['shop/allow-shop']);

  // 2. One pod changes → exactly that workload is pushed.
  await core.patchNamespacedPod({ name: 'web-1', namespace: 'shop', body: { metadata: { labels: { version: 'v2' } } } }, merge);
  const second = await eventually(() => s.got(ADDR)[1], 10_000);
  assert.deepEqual(second.resources.map((r) => r.name), ['Kubernetes//Pod/shop/web-1']);
  assert.equal(decodeAddress(second.resources[0]!.resource!.value).workload?.canonicalRevision, 'v2');

  // 3. A pod is deleted → a removal.
  await core.deleteNamespacedPod({ name: 'web-2', namespace: 'shop' });
  const third = await eventually(() => s.got(ADDR)[2], 10_000);
  assert.deepEqual(third.removedResources, ['Kubernetes//Pod/shop/web-2']);
  assert.deepEqual(third.resources, []);

  // 4. Reconnect with what the client has: nothing unchanged is sent again.
  const have = new Map<string, string>();
  for (const r of s.got(ADDR)) {
    for (const x of r.resources) have.set(x.name, x.version);
    for (const n of r.removedResources) have.delete(n);
  }
  const again = open();
  again.send({ typeUrl: ADDR, initialResourceVersions: Object.fromEntries(have) });
  const resumed = await eventually(() => again.got(ADDR)[0], 10_000);
  assert.deepEqual(resumed.resources, []);
  assert.deepEqual(resumed.removedResources, []);

  // 5. Policy status: accepted, and a malformed policy is rejected with a reason while the good one stays.
  await eventually(async () => {
    const ap = (await crd.getNamespacedCustomObject({ group: 'security.istio.io', version: 'v1', namespace: 'shop', plural: 'authorizationpolicies', name: 'allow-shop' })) as any;
    return ap.status?.conditions?.find((c: any) => c.type === 'ZtunnelAccepted' && c.status === 'True');
  }, 10_000);
  await crd.createNamespacedCustomObject({
    group: 'security.istio.io', version: 'v1', namespace: 'shop', plural: 'authorizationpolicies',
    body: { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'broken' }, spec: { action: 'PERMIT', selector: { matchLabels: { 'bad key!': 'x' } } } },
  });
  const rejected = await eventually(async () => {
    const ap = (await crd.getNamespacedCustomObject({ group: 'security.istio.io', version: 'v1', namespace: 'shop', plural: 'authorizationpolicies', name: 'broken' })) as any;
    return ap.status?.conditions?.find((c: any) => c.type === 'ZtunnelAccepted' && c.status === 'False');
  }, 10_000);
  assert.match(rejected.message, /action|PERMIT/i);
  assert.deepEqual([...ctl.ads.resources(AUTHZ).keys()], ['shop/allow-shop'], 'valid config untouched');

  // 6. Every watch drops abruptly (informers error, re-list, resume): no push storm — the next push is
  //    exactly the next real change.
  const before = s.got(ADDR).length;
  api.dropWatches({ abrupt: true });
  await new Promise((r) => setTimeout(r, 1500)); // the watch layer resumes after ~500 ms backoff
  await core.patchNamespacedPod({ name: 'web-1', namespace: 'shop', body: { metadata: { labels: { version: 'v3' } } } }, merge);
  const afterDrop = await eventually(() => s.got(ADDR)[before], 15_000);
  assert.deepEqual(afterDrop.resources.map((r) => r.name), ['Kubernetes//Pod/shop/web-1']);
  assert.equal(decodeAddress(afterDrop.resources[0]!.resource!.value).workload?.canonicalRevision, 'v3');
  assert.equal(s.got(ADDR).length, before + 1);

  // 7. ServiceEntry/WorkloadEntry: a valid one is served; a malformed update is rejected in status and the last
  //    good version stays served; a malformed new one never appears.
  const se = { group: 'networking.istio.io', version: 'v1', namespace: 'shop', plural: 'serviceentries' };
  await crd.createNamespacedCustomObject({ ...se, body: { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 'ext' }, spec: { hosts: ['api.example.com'], addresses: ['240.0.0.10'], ports: [{ number: 443, name: 'tls', protocol: 'TLS' }], location: 'MESH_EXTERNAL', resolution: 'STATIC' } } });
  await eventually(() => ctl.ads.resources(ADDR).has('shop/api.example.com'), 10_000);
  const servedBefore = ctl.ads.resources(ADDR).get('shop/api.example.com')!.version;
  await crd.patchNamespacedCustomObject({ ...se, name: 'ext', body: { spec: { location: 'OUTSIDE', ports: [{ number: 99999, name: 'tls' }] } } }, merge);
  const seRejected = await eventually(async () => {
    const o = (await crd.getNamespacedCustomObject({ ...se, name: 'ext' })) as any;
    return o.status?.conditions?.find((c: any) => c.type === 'Accepted' && c.status === 'False');
  }, 10_000);
  assert.match(seRejected.message, /spec\.ports\[0\]\.number|spec\.location/);
  assert.equal(ctl.ads.resources(ADDR).get('shop/api.example.com')?.version, servedBefore, 'the last good ServiceEntry is still served');
  const we = { group: 'networking.istio.io', version: 'v1', namespace: 'shop', plural: 'workloadentries' };
  await crd.createNamespacedCustomObject({ ...we, body: { apiVersion: 'networking.istio.io/v1', kind: 'WorkloadEntry', metadata: { name: 'vm' }, spec: { labels: { app: 'vm' } } } });
  const weRejected = await eventually(async () => {
    const o = (await crd.getNamespacedCustomObject({ ...we, name: 'vm' })) as any;
    return o.status?.conditions?.find((c: any) => c.type === 'Accepted' && c.status === 'False');
  }, 10_000);
  assert.match(weRejected.message, /spec\.address is required/);
  assert.ok(![...ctl.ads.resources(ADDR).keys()].some((n) => n.includes('WorkloadEntry/shop/vm')));

  // 8. A stream without a valid token is refused.
  const bad = open('not-a-token');
  bad.send({ typeUrl: ADDR });
  const err = await eventually(() => bad.error(), 10_000);
  assert.equal(err.code, grpc.status.UNAUTHENTICATED);
});
