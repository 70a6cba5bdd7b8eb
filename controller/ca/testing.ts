// Test helpers: build PKCS#10 CSRs as clients send them: any node:crypto key via our DER writer (forge only does
// RSA), and RSA via node-forge as a second, independent encoder.
import { createPublicKey, sign, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { bits, ctx, nullValue, octets, oid, seq, set, smallInt, tlv, toPem, utf8 } from '../../shared/der.ts';

/** A PEM CSR for `key` (RSA → sha256WithRSA, EC → ecdsa-with-SHA256), optionally asking for a URI SAN. */
export function buildCsr(key: KeyObject, opts: { cn?: string; uri?: string } = {}): string {
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const subject = opts.cn ? seq(set(seq(oid('2.5.4.3'), utf8(opts.cn)))) : seq();
  // extensionRequest attribute carrying a subjectAltName, which the CA must ignore.
  const attrs = opts.uri
    ? ctx(0, seq(oid('1.2.840.113549.1.9.14'), set(seq(seq(oid('2.5.29.17'), octets(seq(tlv(0x86, Buffer.from(opts.uri)))))))), true)
    : ctx(0, Buffer.alloc(0), true);
  const info = seq(smallInt(0), subject, spki, attrs);
  const alg = key.asymmetricKeyType === 'ec' ? seq(oid('1.2.840.10045.4.3.2')) : seq(oid('1.2.840.113549.1.1.11'), nullValue());
  return toPem('CERTIFICATE REQUEST', seq(info, alg, bits(sign('sha256', info, key))));
}

/** An RSA CSR built by node-forge. */
export function forgeRsaCsr(key: KeyObject, cn = 'app'): string {
  const priv = forge.pki.privateKeyFromPem(key.export({ type: 'pkcs1', format: 'pem' }).toString()) as forge.pki.rsa.PrivateKey;
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.setRsaPublicKey(priv.n, priv.e);
  csr.setSubject([{ name: 'commonName', value: cn }]);
  csr.sign(priv, forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
}
