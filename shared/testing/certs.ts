// Test-only PKI: a fresh self-signed root per call and SPIFFE workload certificates issued from it, shaped like
// Istio's (empty subject, critical URI SAN, serverAuth + clientAuth). Never used outside tests.
//
// Keys come from node:crypto (fast) and are cached: one leaf key per process is reused for every leaf, since what
// tests check is the certificate (identity, issuer), not the key. Each root gets its own key: two roots with the
// same key and subject would verify each other's leaves, which would hide "untrusted root" failures.
// Identities are plain strings here (a SpiffeId is one) so shared/ does not import a binary's types.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

export interface IssuedCert {
  /** Leaf certificate PEM (the root signs leaves directly, so the chain is the leaf alone). */
  chainPem: string;
  keyPem: string;
  /** The URI SAN: `spiffe://<td>/ns/<ns>/sa/<sa>`. */
  identity: string;
}

export interface TestPki {
  trustDomain: string;
  rootPem: string;
  /** A certificate for `identity` (or `spiffe://<trustDomain>/ns/<ns>/sa/<sa>`); cached per identity and options. */
  issue(identity: string | { ns: string; sa: string }, opts?: IssueOptions): IssuedCert;
}

export interface IssueOptions {
  /** Validity; default one hour before now to one day after. */
  notBefore?: Date;
  notAfter?: Date;
}

let leafKeyPem: string | undefined;

function rsaKeyPem(): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
}

function serial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01; // positive, no leading zero byte
  return b.toString('hex');
}

const toPem = (c: forge.pki.Certificate): string => forge.pki.certificateToPem(c).replace(/\r\n/g, '\n');

export function spiffeOf(trustDomain: string, ns: string, sa: string): string {
  return `spiffe://${trustDomain}/ns/${ns}/sa/${sa}`;
}

export function testPki(options: { trustDomain?: string } = {}): TestPki {
  const trustDomain = options.trustDomain ?? 'cluster.local';
  const rootKey = forge.pki.privateKeyFromPem(rsaKeyPem()) as forge.pki.rsa.PrivateKey;
  const root = forge.pki.createCertificate();
  root.publicKey = forge.pki.setRsaPublicKey(rootKey.n, rootKey.e);
  root.serialNumber = serial();
  root.validity.notBefore = new Date(Date.now() - 3_600_000);
  root.validity.notAfter = new Date(Date.now() + 10 * 365 * 86_400_000);
  // A random suffix keeps two test roots from sharing a subject (OpenSSL looks issuers up by name).
  const name = [{ shortName: 'O', value: trustDomain }, { shortName: 'CN', value: `test root ${serial().slice(0, 8)}` }];
  root.setSubject(name);
  root.setIssuer(name);
  root.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  root.sign(rootKey, forge.md.sha256.create());
  const rootPem = toPem(root);
  const issued = new Map<string, IssuedCert>();

  function issue(who: string | { ns: string; sa: string }, opts: IssueOptions = {}): IssuedCert {
    const identity = typeof who === 'string' ? who : spiffeOf(trustDomain, who.ns, who.sa);
    const cacheKey = `${identity}|${opts.notBefore?.getTime() ?? ''}|${opts.notAfter?.getTime() ?? ''}`;
    const hit = issued.get(cacheKey);
    if (hit) return hit;
    leafKeyPem ??= rsaKeyPem();
    const key = forge.pki.privateKeyFromPem(leafKeyPem) as forge.pki.rsa.PrivateKey;
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
    cert.serialNumber = serial();
    cert.validity.notBefore = opts.notBefore ?? new Date(Date.now() - 3_600_000);
    cert.validity.notAfter = opts.notAfter ?? new Date(Date.now() + 86_400_000);
    cert.setSubject([]);
    cert.setIssuer(root.subject.attributes);
    cert.setExtensions([
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 6, value: identity }], critical: true },
      { name: 'authorityKeyIdentifier', keyIdentifier: root.generateSubjectKeyIdentifier().getBytes() },
    ]);
    cert.sign(rootKey, forge.md.sha256.create());
    const out: IssuedCert = { chainPem: toPem(cert), keyPem: leafKeyPem, identity };
    issued.set(cacheKey, out);
    return out;
  }

  return { trustDomain, rootPem, issue };
}
