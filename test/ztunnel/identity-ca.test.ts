// ztunnel's identity against the real controller CA (in-process API server + controller over TLS gRPC): with a
// token bound to its pod on node-a, the CertificateManager gets a certificate for a service account that has a
// pod on node-a (SPIFFE URI SAN, chained to the mesh root, usable for mutual TLS), and is refused one without.
// The controller also publishes the root in ConfigMap istio-ca-root-cert.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { status } from '@grpc/grpc-js';
import { startTestApi } from '../support/control-plane.ts';
import { startController } from '../../controller/controller.ts';
import { parseCsrPem } from '../../controller/ca/csr.ts';
import { silent } from '../../shared/log.ts';
import { eventually } from '../support/eventually.ts';
import { CaRequestError, CertificateManager, createCaClient, newWorkloadKey } from '../../shared/identity/index.ts';
import type { ServiceAccountRef, SpiffeId } from '../../ztunnel/types.ts';

const sa = (namespace: string, serviceAccount: string): ServiceAccountRef => ({ trustDomain: 'cluster.local', namespace, serviceAccount });

test('ztunnel identity: certificates from the controller CA for pods on its node only', { timeout: 60_000 }, async (t) => {
  const { api, kube, core } = await startTestApi(t);
  await core.createNamespace({ body: { metadata: { name: 'istio-system' } } });
  await core.createNamespace({ body: { metadata: { name: 'shop' } } });
  const pod = (ns: string, name: string, serviceAccountName: string, nodeName: string) =>
    core.createNamespacedPod({ namespace: ns, body: { metadata: { name }, spec: { serviceAccountName, nodeName, containers: [{ name: 'c', image: 'i' }] } } });
  for (const [ns, name] of [['istio-system', 'ztunnel'], ['shop', 'web'], ['shop', 'db']] as const) {
    await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name } } });
  }
  const zt = await pod('istio-system', 'ztunnel-a', 'ztunnel', 'node-a');
  await pod('shop', 'web-1', 'web', 'node-a');
  await pod('shop', 'db-1', 'db', 'node-b');

  const ctl = await startController({ kube, grpcPort: 0, debugPort: 0, log: silent });
  t.after(() => ctl.close());

  let tokenReads = 0;
  const token = api.mintServiceAccountToken('istio-system', 'ztunnel', { audiences: ['istio-ca'], pod: { name: 'ztunnel-a', uid: zt.metadata!.uid! } });
  const ca = createCaClient({ address: `127.0.0.1:${ctl.grpcPort}`, servername: ctl.serverName, rootCaPem: ctl.rootCertPem, token: () => (tokenReads++, token) });
  t.after(() => ca.close());
  const certs = new CertificateManager({ ca, trustDomain: 'cluster.local', ttlSeconds: 3600, log: silent });
  t.after(() => certs.close());

  // Our CSR is one the CA's own parser accepts (EC P-256).
  const k = await newWorkloadKey('spiffe://cluster.local/ns/shop/sa/web' as SpiffeId);
  assert.equal(parseCsrPem(k.csrPem).publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');

  // 1. A service account with a pod on node-a.
  const web = await certs.get(sa('shop', 'web'));
  const leaf = new X509Certificate(web.chainPem);
  const root = new X509Certificate(web.rootsPem);
  assert.equal(leaf.subjectAltName, 'URI:spiffe://cluster.local/ns/shop/sa/web');
  assert.equal(web.identity, 'spiffe://cluster.local/ns/shop/sa/web');
  assert.equal(web.rootsPem, ctl.rootCertPem);
  assert.ok(leaf.checkIssued(root) && leaf.verify(root.publicKey), 'chains to the mesh root');
  assert.ok(leaf.checkPrivateKey(createPrivateKey(web.keyPem)));
  assert.equal(leaf.publicKey.asymmetricKeyType, 'ec');
  assert.ok(Math.abs(leaf.validToDate.getTime() - Date.now() - 3600_000) < 5_000, 'the requested ttl');
  assert.equal(tokenReads, 1);
  assert.equal(await certs.get(sa('shop', 'web')), web, 'cached');

  // 2. One with no pod on node-a: refused at once (not retried), and not cached.
  await assert.rejects(certs.get(sa('shop', 'db')), (err: Error & { code?: string; cause?: unknown }) => {
    assert.equal(err.code, 'ZT_CERTIFICATE_UNAVAILABLE');
    assert.ok(err.cause instanceof CaRequestError);
    assert.equal(err.cause.grpcCode, status.PERMISSION_DENIED);
    assert.match(err.message, /shop\/db has no pod on node-a/);
    return true;
  });
  assert.equal(tokenReads, 2, 'one attempt, token read per request');
  assert.deepEqual(certs.dump().map((d) => [d.identity, d.state]), [
    ['spiffe://cluster.local/ns/shop/sa/web', 'Available'],
    ['spiffe://cluster.local/ns/shop/sa/db', 'Unavailable'],
  ]);

  // 3. The certificate works for mutual TLS verified against the root (SPIFFE ids, so no hostname check).
  const server = tls.createServer({ key: web.keyPem, cert: web.chainPem, ca: web.rootsPem, requestCert: true, rejectUnauthorized: true }, (s) => {
    s.end(new X509Certificate(s.getPeerX509Certificate()!.raw).subjectAltName ?? '');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const sock = tls.connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, key: web.keyPem, cert: web.chainPem, ca: web.rootsPem, checkServerIdentity: () => undefined });
  let answer = '';
  sock.setEncoding('utf8').on('data', (d: string) => (answer += d));
  await once(sock, 'end');
  assert.equal(answer, 'URI:spiffe://cluster.local/ns/shop/sa/web');
  assert.equal(sock.getPeerX509Certificate()?.subjectAltName, 'URI:spiffe://cluster.local/ns/shop/sa/web');

  // 4. The controller publishes the root for workloads.
  await eventually(async () => (await core.readNamespacedConfigMap({ name: 'istio-ca-root-cert', namespace: 'shop' })).data?.['root-cert.pem'] === ctl.rootCertPem, 10_000);
});
