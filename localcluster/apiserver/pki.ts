// The cluster PKI: a CA kept in stateDir (created on first start), a serving certificate re-issued each start
// (so new SANs take effect) and the admin client certificate. Keys come from node:crypto; node-forge signs.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';

export interface KeyPair { certPem: string; keyPem: string }

export interface Pki {
  ca: KeyPair;
  serving: KeyPair;
  admin: KeyPair;
}

function rsaKeyPem(): string {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
}

type Attr = { shortName: string; value: string };

function issue(opts: {
  subject: Attr[]; keyPem: string; issuer?: KeyPair; days: number; ca?: boolean;
  sans?: string[]; usage: 'server' | 'client' | 'ca';
}): string {
  const key = forge.pki.privateKeyFromPem(opts.keyPem) as forge.pki.rsa.PrivateKey;
  const pub = forge.pki.setRsaPublicKey(key.n, key.e);
  const cert = forge.pki.createCertificate();
  cert.publicKey = pub;
  cert.serialNumber = '01' + randomBytes(15).toString('hex');
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + opts.days * 86_400_000);
  cert.setSubject(opts.subject);
  const issuerCert = opts.issuer ? forge.pki.certificateFromPem(opts.issuer.certPem) : undefined;
  cert.setIssuer(issuerCert ? issuerCert.subject.attributes : opts.subject);
  const ext: any[] = [];
  if (opts.usage === 'ca') {
    ext.push({ name: 'basicConstraints', cA: true, critical: true });
    ext.push({ name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true });
  } else {
    ext.push({ name: 'basicConstraints', cA: false });
    ext.push({ name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true });
    ext.push({ name: 'extKeyUsage', serverAuth: opts.usage === 'server', clientAuth: opts.usage === 'client' });
  }
  if (opts.sans?.length) {
    ext.push({
      name: 'subjectAltName',
      altNames: opts.sans.map((s) => (/^[\d.]+$/.test(s) || s.includes(':') ? { type: 7, ip: s } : { type: 2, value: s })),
    });
  }
  ext.push({ name: 'subjectKeyIdentifier' });
  cert.setExtensions(ext);
  const signer = opts.issuer ? forge.pki.privateKeyFromPem(opts.issuer.keyPem) : key;
  cert.sign(signer as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

export const DEFAULT_SANS = [
  'localhost', '127.0.0.1', '10.96.0.1', '10.100.0.1', 'kubernetes', 'kubernetes.default',
  'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local',
];

function loadOr(dir: string, name: string, make: () => KeyPair): KeyPair {
  const crt = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  if (existsSync(crt) && existsSync(key)) return { certPem: readFileSync(crt, 'utf8'), keyPem: readFileSync(key, 'utf8') };
  const kp = make();
  writeFileSync(key, kp.keyPem, { mode: 0o600 });
  writeFileSync(crt, kp.certPem);
  return kp;
}

/** Load or create the CA and admin cert in `dir`; always issue a fresh serving cert for `sans`. */
export function ensurePki(dir: string, extraSans: string[] = []): Pki {
  const ca = loadOr(dir, 'ca', () => {
    const keyPem = rsaKeyPem();
    return { keyPem, certPem: issue({ subject: [{ shortName: 'CN', value: 'localcluster-ca' }], keyPem, days: 3650, usage: 'ca' }) };
  });
  const admin = loadOr(dir, 'admin', () => {
    const keyPem = rsaKeyPem();
    const subject = [{ shortName: 'O', value: 'system:masters' }, { shortName: 'CN', value: 'admin' }];
    return { keyPem, certPem: issue({ subject, keyPem, issuer: ca, days: 3650, usage: 'client' }) };
  });
  const keyPem = rsaKeyPem();
  const sans = [...new Set([...DEFAULT_SANS, ...extraSans])];
  const serving = { keyPem, certPem: issue({ subject: [{ shortName: 'CN', value: 'kube-apiserver' }], keyPem, issuer: ca, days: 365, usage: 'server', sans }) };
  writeFileSync(join(dir, 'apiserver.key'), keyPem, { mode: 0o600 });
  writeFileSync(join(dir, 'apiserver.crt'), serving.certPem);
  return { ca, serving, admin };
}

/** Issue a client certificate signed by the cluster CA (user = CN, groups = O). */
export function issueClientCert(ca: KeyPair, user: string, groups: string[] = []): KeyPair {
  const keyPem = rsaKeyPem();
  const subject = [...groups.map((g) => ({ shortName: 'O', value: g })), { shortName: 'CN', value: user }];
  return { keyPem, certPem: issue({ subject, keyPem, issuer: ca, days: 365, usage: 'client' }) };
}
