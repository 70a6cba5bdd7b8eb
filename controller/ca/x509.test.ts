// Leaf validity windows (pure) and issuer loading: mismatched keys and non-CA certificates are refused.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { generateRoot } from './root.ts';
import { leafValidity, type CertPolicy } from './service.ts';
import { loadIssuer, signLeaf } from './x509.ts';
import { CaError } from './errors.ts';

const H = 3600;
const policy: CertPolicy = { trustDomain: 'cluster.local', defaultTtlSeconds: 24 * H, maxTtlSeconds: 90 * 24 * H, nodeProxies: [] };
const now = new Date('2030-01-01T00:00:00Z');
const far = new Date('2040-01-01T00:00:00Z');

describe('leafValidity', () => {
  const cases: [string, number, Date, number][] = [
    ['requested ttl', H, far, H],
    ['no ttl → default', 0, far, 24 * H],
    ['negative ttl → default', -5, far, 24 * H],
    ['over the max → capped', 365 * 24 * H, far, 90 * 24 * H],
    ['never outlives the issuer', 24 * H, new Date(now.getTime() + 2 * H * 1000), 2 * H],
  ];
  for (const [name, requested, issuerNotAfter, ttl] of cases) {
    it(name, () => {
      const v = leafValidity(requested, policy, issuerNotAfter, now);
      assert.equal(v.notBefore.getTime(), now.getTime() - 60_000);
      assert.equal(v.notAfter.getTime(), now.getTime() + ttl * 1000);
    });
  }
});

describe('loadIssuer', () => {
  const root = generateRoot('cluster.local');
  it('loads a generated root and signs a leaf that chains to it', () => {
    const issuer = loadIssuer(root.certPem, root.keyPem);
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const leaf = new X509Certificate(signLeaf(issuer, {
      spki: publicKey.export({ type: 'spki', format: 'der' }), uris: ['spiffe://cluster.local/ns/a/sa/b'],
      notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + H * 1000),
    }));
    assert.ok(leaf.checkIssued(new X509Certificate(root.certPem)));
    assert.ok(leaf.verify(new X509Certificate(root.certPem).publicKey));
  });
  it('refuses a key that does not match the certificate', () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    assert.throws(() => loadIssuer(root.certPem, other), (e: unknown) => e instanceof CaError && /does not match/.test(e.message));
  });
  it('refuses a certificate that is not a CA', () => {
    const issuer = loadIssuer(root.certPem, root.keyPem);
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const leafPem = signLeaf(issuer, { spki: publicKey.export({ type: 'spki', format: 'der' }), dnsNames: ['x'], notBefore: new Date(), notAfter: new Date(Date.now() + H * 1000) });
    assert.throws(() => loadIssuer(leafPem, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()), (e: unknown) => e instanceof CaError && /is not a CA/.test(e.message));
  });
});
