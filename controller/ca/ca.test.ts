// The CA in process: local API server (TokenReview, pods, Secrets) + CreateCertificate over gRPC on 127.0.0.1.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../shared/kube/client.ts';
import forge from 'node-forge';
import { Registry } from 'prom-client';
import { startApiServer } from '../../localcluster/apiserver/index.ts';
import { silent } from '../../shared/log.ts';
import { createCa, IMPERSONATED_IDENTITY, ROOT_CONFIGMAP, ROOT_CONFIGMAP_KEY, type Ca } from './index.ts';
import { generateRoot } from './root.ts';
import { buildCsr, forgeRsaCsr } from './testing.ts';

type ApiServer = Awaited<ReturnType<typeof startApiServer>>;
interface Response { certChain: string[] }

const DAY = 86_400;
const spkiOf = (k: KeyObject): Buffer => createPublicKey(k).export({ type: 'spki', format: 'der' });
const lifetime = (x: X509Certificate): number => (x.validToDate.getTime() - x.validFromDate.getTime()) / 1000;

async function serve(ca: Ca): Promise<{ call: (req: object, md?: grpc.Metadata) => Promise<Response>; close: () => void }> {
  const server = new grpc.Server();
  server.addService(ca.service.definition, ca.service.implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  const Client = grpc.makeGenericClientConstructor(ca.service.definition, 'IstioCertificateService');
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as any;
  return {
    call: (req, md = new grpc.Metadata()) => new Promise((resolve, reject) =>
      client.CreateCertificate(req, md, (err: grpc.ServiceError | null, res: Response) => (err ? reject(err) : resolve(res)))),
    close: () => { client.close(); server.forceShutdown(); },
  };
}

const bearer = (token: string): grpc.Metadata => {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  return md;
};

async function rejectsWith(p: Promise<unknown>, code: grpc.status, msg: RegExp): Promise<void> {
  await assert.rejects(p, (err: grpc.ServiceError) => {
    assert.equal(err.code, code, `${grpc.status[err.code]}: ${err.details}`);
    assert.match(err.details, msg);
    return true;
  });
}

/** An intermediate CA signed by `root` (node-forge), as an operator would put in Secret cacerts. */
function makeIntermediate(root: { certPem: string; keyPem: string }): { certPem: string; keyPem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const key = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  const rootCert = forge.pki.certificateFromPem(root.certPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = '0a1b2c';
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 365 * DAY * 1000);
  cert.setSubject([{ shortName: 'O', value: 'cluster.local' }, { shortName: 'CN', value: 'intermediate' }]);
  cert.setIssuer(rootCert.subject.attributes);
  cert.setExtensions([{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }, { name: 'subjectKeyIdentifier' }]);
  cert.sign(forge.pki.privateKeyFromPem(root.keyPem) as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem };
}

describe('certificate authority', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ca-test-'));
  let api: ApiServer;
  let kc: KubeConfig;
  let kube: KubeClient;
  let core: CoreV1Api;
  let ca: Ca;
  let srv: Awaited<ReturnType<typeof serve>>;
  const registry = new Registry();
  const uids: Record<string, string> = {};
  const rsaKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const ecKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;

  const token = (ns: string, sa: string, pod?: string, audiences = ['istio-ca']): string =>
    api.mintServiceAccountToken(ns, sa, { audiences, ...(pod ? { pod: { name: pod, uid: uids[`${ns}/${pod}`]! } } : {}) });
  const counter = async (name: string): Promise<number> => (await registry.getSingleMetric(name)!.get()).values.reduce((s, v) => s + v.value, 0);

  before(async () => {
    api = await startApiServer({ stateDir: join(dir, 'api'), port: 0 });
    kc = new KubeConfig();
    kc.loadFromFile(api.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
    kube = await KubeClient.load({ kubeconfig: api.kubeconfigPath });
    await core.createNamespace({ body: { metadata: { name: 'istio-system' } } });
    for (const [ns, sa] of [['istio-system', 'ztunnel'], ['default', 'app'], ['default', 'db'], ['default', 'web']] as const) {
      await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: sa } } });
    }
    for (const [ns, name, sa, node] of [
      ['istio-system', 'ztunnel-1', 'ztunnel', 'node-1'], ['istio-system', 'ztunnel-2', 'ztunnel', 'node-2'],
      ['default', 'app-1', 'app', 'node-1'], ['default', 'db-1', 'db', 'node-1'], ['default', 'web-2', 'web', 'node-2'],
    ] as const) {
      const pod = await core.createNamespacedPod({ namespace: ns, body: { metadata: { name }, spec: { serviceAccountName: sa, nodeName: node, containers: [{ name: 'c', image: 'i' }] } } });
      uids[`${ns}/${name}`] = pod.metadata!.uid!;
    }
    ca = await createCa({ kube, registry, log: silent });
    srv = await serve(ca);
  });
  after(async () => {
    srv?.close();
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('signs a workload\'s own RSA CSR (built by node-forge) with exactly its SPIFFE SAN, chained to the root', async () => {
    const before = await counter('citadel_server_success_cert_issuance_count');
    const res = await srv.call({ csr: forgeRsaCsr(rsaKey, 'spiffe://cluster.local/ns/kube-system/sa/admin'), validityDuration: 3600 }, bearer(token('default', 'app', 'app-1')));
    assert.equal(res.certChain.length, 2);
    const [leaf, root] = res.certChain.map((p) => new X509Certificate(p)) as [X509Certificate, X509Certificate];
    assert.equal(res.certChain[1], ca.rootCertPem);
    assert.equal(leaf.subjectAltName, 'URI:spiffe://cluster.local/ns/default/sa/app');
    assert.ok(!leaf.subject, 'SPIFFE leaves have an empty subject');
    assert.ok(leaf.verify(root.publicKey) && leaf.checkIssued(root));
    assert.deepEqual(leaf.publicKey.export({ type: 'spki', format: 'der' }), spkiOf(rsaKey));
    assert.deepEqual(leaf.keyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    assert.equal(leaf.ca, false);
    assert.equal(lifetime(leaf), 3600 + 60, 'requested ttl plus the one-minute backdating');
    assert.equal(await counter('citadel_server_success_cert_issuance_count'), before + 1);
  });

  it('signs an EC P-256 CSR and caps the validity at the maximum (90 days)', async () => {
    const res = await srv.call({ csr: buildCsr(ecKey, { uri: 'spiffe://cluster.local/ns/default/sa/db' }), validityDuration: 365 * DAY }, bearer(token('default', 'app', 'app-1')));
    const leaf = new X509Certificate(res.certChain[0]!);
    assert.equal(leaf.subjectAltName, 'URI:spiffe://cluster.local/ns/default/sa/app', 'the SAN the CSR asked for is ignored');
    assert.deepEqual(leaf.publicKey.export({ type: 'spki', format: 'der' }), spkiOf(ecKey));
    assert.ok(leaf.verify(new X509Certificate(ca.rootCertPem).publicKey));
    assert.equal(lifetime(leaf), 90 * DAY + 60);
  });

  it('uses the default ttl (24h) when none is requested', async () => {
    const res = await srv.call({ csr: buildCsr(ecKey) }, bearer(token('default', 'app', 'app-1')));
    assert.equal(lifetime(new X509Certificate(res.certChain[0]!)), DAY + 60);
  });

  const impersonate = (id: string) => ({ csr: buildCsr(ecKey), validityDuration: 3600, metadata: { fields: { [IMPERSONATED_IDENTITY]: { stringValue: id } } } });

  it('lets ztunnel on node-1 impersonate a service account with a pod on node-1', async () => {
    const res = await srv.call(impersonate('spiffe://cluster.local/ns/default/sa/db'), bearer(token('istio-system', 'ztunnel', 'ztunnel-1')));
    assert.equal(new X509Certificate(res.certChain[0]!).subjectAltName, 'URI:spiffe://cluster.local/ns/default/sa/db');
  });

  it('refuses ztunnel on node-1 an identity whose pods are only on node-2 (and allows ztunnel on node-2)', async () => {
    await rejectsWith(srv.call(impersonate('spiffe://cluster.local/ns/default/sa/web'), bearer(token('istio-system', 'ztunnel', 'ztunnel-1'))),
      grpc.status.PERMISSION_DENIED, /default\/web has no pod on node-1/);
    const res = await srv.call(impersonate('spiffe://cluster.local/ns/default/sa/web'), bearer(token('istio-system', 'ztunnel', 'ztunnel-2')));
    assert.equal(new X509Certificate(res.certChain[0]!).subjectAltName, 'URI:spiffe://cluster.local/ns/default/sa/web');
  });

  it('refuses impersonation by a workload and by a ztunnel token not bound to a pod', async () => {
    await rejectsWith(srv.call(impersonate('spiffe://cluster.local/ns/default/sa/db'), bearer(token('default', 'app', 'app-1'))),
      grpc.status.PERMISSION_DENIED, /only node proxies may impersonate/);
    await rejectsWith(srv.call(impersonate('spiffe://cluster.local/ns/default/sa/db'), bearer(token('istio-system', 'ztunnel'))),
      grpc.status.PERMISSION_DENIED, /not bound to a pod/);
  });

  it('answers UNAUTHENTICATED for a missing, garbage, tampered or wrong-audience token, and counts it', async () => {
    const before = await counter('citadel_server_authentication_failure_count');
    const good = token('default', 'app', 'app-1');
    const [h, p, s] = good.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    claims.sub = 'system:serviceaccount:istio-system:ztunnel';
    const tampered = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
    const req = { csr: buildCsr(ecKey) };
    await rejectsWith(srv.call(req), grpc.status.UNAUTHENTICATED, /no credentials/);
    await rejectsWith(srv.call(req, bearer('not-a-jwt')), grpc.status.UNAUTHENTICATED, /token rejected/);
    await rejectsWith(srv.call(req, bearer(tampered)), grpc.status.UNAUTHENTICATED, /token rejected/);
    await rejectsWith(srv.call(req, bearer(token('default', 'app', 'app-1', ['other']))), grpc.status.UNAUTHENTICATED, /token rejected|audience/);
    assert.equal(await counter('citadel_server_authentication_failure_count'), before + 4);
  });

  it('answers INVALID_ARGUMENT for a malformed CSR, and counts it', async () => {
    const before = await counter('citadel_server_csr_parsing_err_count');
    await rejectsWith(srv.call({ csr: 'hello' }, bearer(token('default', 'app', 'app-1'))), grpc.status.INVALID_ARGUMENT, /CERTIFICATE REQUEST/);
    assert.equal(await counter('citadel_server_csr_parsing_err_count'), before + 1);
  });

  it('keeps its root across a restart (Secret istio-ca-secret) and publishes it', async () => {
    const again = await createCa({ kube, log: silent });
    assert.equal(again.rootCertPem, ca.rootCertPem);
    assert.equal(again.source, 'self-signed');
    const secret = await core.readNamespacedSecret({ name: 'istio-ca-secret', namespace: 'istio-system' });
    assert.equal(Buffer.from(secret.data!['ca-cert.pem']!, 'base64').toString(), ca.rootCertPem);
    await again.publishRootCert('default');
    await again.publishRootCert('default'); // idempotent
    const cm = await core.readNamespacedConfigMap({ name: ROOT_CONFIGMAP, namespace: 'default' });
    assert.equal(cm.data![ROOT_CONFIGMAP_KEY], ca.rootCertPem);
  });

  it('replicas starting together agree on one root', async () => {
    const [a, b] = await Promise.all([
      createCa({ kube, namespace: 'race', log: silent }),
      createCa({ kube, namespace: 'race', log: silent }),
    ]);
    assert.equal(a.rootCertPem, b.rootCertPem);
    assert.notEqual(a.rootCertPem, ca.rootCertPem, 'a fresh namespace gets its own root');
  });

  it('issues serving certificates for the controller with DNS SANs', () => {
    const s = ca.issueServingCert(['istiod.istio-system.svc', 'localhost']);
    const leaf = new X509Certificate(s.certPem);
    assert.equal(leaf.subjectAltName, 'DNS:istiod.istio-system.svc, DNS:localhost');
    assert.ok(leaf.checkPrivateKey(createPrivateKey(s.keyPem)));
    assert.ok(leaf.verify(new X509Certificate(ca.rootCertPem).publicKey));
  });

  it('acts as the intermediate in Secret cacerts and returns [leaf, intermediate, root]', async () => {
    const root = generateRoot('cluster.local');
    const inter = makeIntermediate(root);
    const b64 = (s: string): string => Buffer.from(s).toString('base64');
    await core.createNamespace({ body: { metadata: { name: 'plugged' } } });
    await core.createNamespacedSecret({ namespace: 'plugged', body: { metadata: { name: 'cacerts' }, data: {
      'ca-cert.pem': b64(inter.certPem), 'ca-key.pem': b64(inter.keyPem), 'root-cert.pem': b64(root.certPem), 'cert-chain.pem': b64(inter.certPem + root.certPem),
    } } });
    const plugged = await createCa({ kube, namespace: 'plugged', log: silent });
    assert.equal(plugged.source, 'plugged');
    assert.equal(new X509Certificate(plugged.rootCertPem).fingerprint256, new X509Certificate(root.certPem).fingerprint256);
    const s2 = await serve(plugged);
    try {
      const res = await s2.call({ csr: buildCsr(ecKey) }, bearer(token('default', 'app', 'app-1')));
      const [leaf, mid, top] = res.certChain.map((p) => new X509Certificate(p)) as [X509Certificate, X509Certificate, X509Certificate];
      assert.equal(res.certChain.length, 3);
      assert.equal(mid.fingerprint256, new X509Certificate(inter.certPem).fingerprint256);
      assert.equal(top.fingerprint256, new X509Certificate(root.certPem).fingerprint256);
      assert.ok(leaf.checkIssued(mid) && leaf.verify(mid.publicKey));
      assert.ok(mid.verify(top.publicKey));
      assert.equal(leaf.subjectAltName, 'URI:spiffe://cluster.local/ns/default/sa/app');
    } finally {
      s2.close();
    }
  });
});
