// CertificateManager against an in-memory CA that signs real certificates: first issue, shared CSRs, retries,
// rotation at half life (t.mock.timers), forget, dump, close, and refusal of a CA answer for the wrong identity.
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { silent } from '../log.ts';
import { CertificateManager, type WorkloadCertificate } from './manager.ts';
import { buildCsr, newWorkloadKey, type WorkloadKey } from './csr.ts';
import { csrSpki, fakeCa, type FakeCa } from './testing.ts';
import type { ServiceAccountRef, SpiffeId } from '../spiffe.ts';

const sa = (serviceAccount: string, namespace = 'shop'): ServiceAccountRef => ({ trustDomain: '', namespace, serviceAccount });
const idOf = (s: ServiceAccountRef): SpiffeId => `spiffe://cluster.local/ns/${s.namespace}/sa/${s.serviceAccount}` as SpiffeId;
const WEB = sa('web');

// One pre-generated key: keeps every step on microtasks so mocked timers fully drive the manager.
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const fixedKey = async (identity: SpiffeId): Promise<WorkloadKey> => ({
  key: privateKey,
  keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  csrPem: buildCsr(privateKey, identity, createPublicKey(privateKey).export({ type: 'spki', format: 'der' })),
});

/** Let promise chains (and the fake CA) run to their next timer. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
};

function setup(t: TestContext, o: { mockTimers?: boolean; ttlSeconds?: number; maxAttempts?: number; realKeys?: boolean } = {}): { ca: FakeCa; m: CertificateManager } {
  const ca = fakeCa();
  if (o.mockTimers) t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.now() });
  const m = new CertificateManager({
    ca, trustDomain: 'cluster.local', log: silent, random: () => 0,
    ...(o.ttlSeconds ? { ttlSeconds: o.ttlSeconds } : {}),
    ...(o.maxAttempts ? { maxAttempts: o.maxAttempts } : {}),
    ...(o.realKeys ? {} : { newKey: fixedKey }),
  });
  t.after(() => m.close());
  return { ca, m };
}

const serial = (c: WorkloadCertificate): string => new X509Certificate(c.chainPem).serialNumber;

describe('CertificateManager', () => {
  it('issues an EC P-256 certificate for the impersonated identity, with the default ttl, and caches it', async (t) => {
    const { ca, m } = setup(t, { realKeys: true });
    const cert = await m.get(WEB);
    assert.equal(cert.identity, idOf(WEB));
    assert.equal(ca.calls.length, 1);
    assert.equal(ca.calls[0]!.impersonate, idOf(WEB));
    assert.equal(ca.calls[0]!.ttlSeconds, 86_400);
    const leaf = new X509Certificate(cert.chainPem);
    assert.equal(leaf.subjectAltName, `URI:${idOf(WEB)}`);
    assert.equal(leaf.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.deepEqual(csrSpki(ca.calls[0]!.csrPem), leaf.publicKey.export({ type: 'spki', format: 'der' }));
    assert.equal(cert.rootsPem, ca.rootPem);
    assert.ok(!cert.chainPem.includes(ca.rootPem), 'the chain excludes the root');
    assert.ok(leaf.verify(new X509Certificate(ca.rootPem).publicKey));
    assert.equal(cert.notAfter.getTime(), leaf.validToDate.getTime());
    assert.equal(await m.get(WEB), cert);
    assert.equal(ca.calls.length, 1, 'cached');
  });

  it('uses the service account\'s own trust domain when it has one', async (t) => {
    const { ca, m } = setup(t);
    await m.get({ trustDomain: 'other.td', namespace: 'a', serviceAccount: 'b' });
    assert.equal(ca.calls[0]!.impersonate, 'spiffe://other.td/ns/a/sa/b');
  });

  it('gives concurrent callers for one identity one CSR, and separate identities separate ones', async (t) => {
    const { ca, m } = setup(t);
    ca.hold();
    const gets = [m.get(WEB), m.get(WEB), m.get(sa('web')), m.get(sa('db'))];
    await settle();
    assert.equal(ca.calls.length, 2);
    assert.deepEqual(m.dump().map((d) => d.state), ['Initializing', 'Initializing']);
    ca.release();
    const [a, b, c, d] = await Promise.all(gets);
    assert.equal(a, b);
    assert.equal(a, c);
    assert.notEqual(a!.identity, d!.identity);
  });

  it('retries unavailable and unauthenticated answers with backoff, then succeeds', async (t) => {
    const { ca, m } = setup(t, { mockTimers: true });
    ca.failNext(status.UNAVAILABLE, status.UNAUTHENTICATED);
    const p = m.get(WEB);
    await settle();
    assert.equal(ca.calls.length, 1);
    t.mock.timers.tick(199);
    await settle();
    assert.equal(ca.calls.length, 1, 'first retry after 200 ms');
    t.mock.timers.tick(1);
    await settle();
    assert.equal(ca.calls.length, 2);
    t.mock.timers.tick(400);
    await settle();
    assert.equal(ca.calls.length, 3);
    assert.equal((await p).identity, idOf(WEB));
  });

  it('does not retry a refusal, does not cache it, and tries again on the next get', async (t) => {
    const { ca, m } = setup(t);
    ca.failNext(status.PERMISSION_DENIED);
    await assert.rejects(m.get(WEB), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ZT_CERTIFICATE_UNAVAILABLE');
      assert.match(err.message, /PERMISSION_DENIED.*does this node run a pod/);
      return true;
    });
    assert.equal(ca.calls.length, 1);
    assert.equal(m.dump()[0]!.state, 'Unavailable');
    assert.match(m.dump()[0]!.error!, /PERMISSION_DENIED/);
    await m.get(WEB);
    assert.equal(ca.calls.length, 2);
    assert.equal(m.dump()[0]!.state, 'Available');
    assert.equal(m.dump()[0]!.error, undefined);
  });

  it('gives up after maxAttempts', async (t) => {
    const { ca, m } = setup(t, { mockTimers: true, maxAttempts: 3 });
    ca.failNext(status.UNAVAILABLE, status.UNAVAILABLE, status.UNAVAILABLE, status.UNAVAILABLE);
    const p = m.get(WEB);
    const rejected = assert.rejects(p, /after 3 attempt\(s\).*UNAVAILABLE/);
    for (let i = 0; i < 3; i++) {
      await settle();
      t.mock.timers.tick(30_000);
    }
    await rejected;
    assert.equal(ca.calls.length, 3);
  });

  it('refuses a certificate the CA issued for another identity', async (t) => {
    const { ca, m } = setup(t);
    ca.wrongIdentity = 'spiffe://cluster.local/ns/shop/sa/admin' as SpiffeId;
    await assert.rejects(m.get(WEB), /not spiffe:\/\/cluster\.local\/ns\/shop\/sa\/web/);
    assert.equal(ca.calls.length, 1, 'not retried');
  });

  it('rotates at half life, tells listeners, and serves the new certificate', async (t) => {
    const { ca, m } = setup(t, { mockTimers: true, ttlSeconds: 3600 });
    const rotated: WorkloadCertificate[] = [];
    const who: ServiceAccountRef[] = [];
    m.onRotated((s, c) => {
      who.push(s);
      rotated.push(c);
    });
    const first = await m.get(WEB);
    // notBefore is backdated 60 s: half of [now-60 s, now+3600 s] is now+1770 s.
    t.mock.timers.tick(1_769_000);
    await settle();
    assert.equal(ca.calls.length, 1);
    t.mock.timers.tick(1_000);
    await settle();
    assert.equal(ca.calls.length, 2);
    assert.equal(rotated.length, 1);
    assert.notEqual(serial(rotated[0]!), serial(first));
    assert.equal(await m.get(WEB), rotated[0]);
    assert.deepEqual(who[0], { trustDomain: 'cluster.local', namespace: 'shop', serviceAccount: 'web' });
    // and again half-way through the new one
    t.mock.timers.tick(1_830_000);
    await settle();
    assert.equal(ca.calls.length, 3);
    assert.equal(rotated.length, 2);
  });

  it('keeps the current certificate while rotation fails, retrying with backoff', async (t) => {
    const { ca, m } = setup(t, { mockTimers: true, ttlSeconds: 3600 });
    const first = await m.get(WEB);
    ca.failNext(status.UNAVAILABLE, status.PERMISSION_DENIED);
    t.mock.timers.tick(1_770_000);
    await settle();
    assert.equal(ca.calls.length, 2);
    assert.equal(await m.get(WEB), first);
    const d = m.dump()[0]!;
    assert.equal(d.state, 'Available');
    assert.match(d.error!, /UNAVAILABLE/);
    assert.equal(d.serial, serial(first));
    t.mock.timers.tick(200);
    await settle();
    assert.equal(ca.calls.length, 3);
    t.mock.timers.tick(400);
    await settle();
    assert.equal(ca.calls.length, 4);
    assert.notEqual(serial(await m.get(WEB)), serial(first));
    assert.equal(m.dump()[0]!.error, undefined);
  });

  it('fetches anew once the current certificate has expired while rotation kept failing', async (t) => {
    const { ca, m } = setup(t, { mockTimers: true, ttlSeconds: 3600 });
    const first = await m.get(WEB);
    ca.failNext(...Array<status>(1000).fill(status.UNAVAILABLE));
    for (let i = 0; i < 200 && Date.now() < first.notAfter.getTime(); i++) {
      t.mock.timers.tick(30_000);
      await settle();
    }
    assert.equal(m.dump()[0]!.state, 'Unavailable');
    assert.match(m.dump()[0]!.error!, /UNAVAILABLE/);
    ca.clearFailures();
    const p = m.get(WEB);
    assert.notEqual(serial(await p), serial(first));
  });

  it('stops rotating a forgotten service account', async (t) => {
    const { ca, m } = setup(t, { mockTimers: true, ttlSeconds: 3600 });
    await m.get(WEB);
    await m.get(sa('db'));
    m.forget(WEB);
    assert.deepEqual(m.dump().map((d) => d.identity), [idOf(sa('db'))]);
    t.mock.timers.tick(1_800_000);
    await settle();
    assert.deepEqual(ca.calls.map((c) => c.impersonate), [idOf(WEB), idOf(sa('db')), idOf(sa('db'))]);
  });

  it('dump lists identity, serial, validity and state', async (t) => {
    const { m } = setup(t);
    const cert = await m.get(WEB);
    assert.deepEqual(m.dump(), [{
      identity: idOf(WEB), state: 'Available', serial: serial(cert),
      notBefore: cert.notBefore.toISOString(), notAfter: cert.notAfter.toISOString(),
    }]);
  });

  it('close ends a retrying get and refuses new ones', async (t) => {
    const { ca, m } = setup(t, { mockTimers: true });
    ca.failNext(status.UNAVAILABLE);
    const p = m.get(WEB);
    await settle();
    m.close();
    await assert.rejects(p, (err: Error & { code?: string }) => err.code === 'ZT_CERTIFICATE_MANAGER_CLOSED');
    await assert.rejects(m.get(WEB), (err: Error & { code?: string }) => err.code === 'ZT_CERTIFICATE_MANAGER_CLOSED');
  });

  it('generates a fresh P-256 key per request', async () => {
    const [a, b] = await Promise.all([newWorkloadKey(idOf(WEB)), newWorkloadKey(idOf(WEB))]);
    assert.notEqual(a.keyPem, b.keyPem);
    assert.equal(a.key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.match(a.csrPem, /^-----BEGIN CERTIFICATE REQUEST-----\n/);
  });
});
