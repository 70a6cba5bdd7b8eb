// Signing X.509 leaf certificates: builds the TBSCertificate in DER (so any SubjectPublicKeyInfo works, not just
// RSA) and signs it with the issuing CA's key through node:crypto. Also loads an issuer (cert + key PEM) and
// extracts what a leaf needs from it: the byte-exact subject name, its key id, its expiry.
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { bits, bool, children, ctx, decodeOid, expectTag, fromPemAll, nullValue, octets, oid, parseDer, seq, smallInt, TAG, time, tlv, toPem, uint, utf8, set, type Tlv } from '../../shared/der.ts';
import { badCaMaterial } from './errors.ts';

export interface Issuer {
  certPem: string;
  key: KeyObject;
  /** The issuer's subject Name DER, copied into each leaf's issuer field. */
  subject: Buffer;
  /** The issuer's subject key identifier, used as the leaf's authority key identifier. */
  keyId: Buffer;
  notAfter: Date;
}

export interface LeafSpec {
  spki: Buffer;
  uris?: string[];
  dnsNames?: string[];
  notBefore: Date;
  notAfter: Date;
}

const OID = {
  keyUsage: '2.5.29.15', extKeyUsage: '2.5.29.37', basicConstraints: '2.5.29.19', subjectAltName: '2.5.29.17',
  subjectKeyId: '2.5.29.14', authorityKeyId: '2.5.29.35', serverAuth: '1.3.6.1.5.5.7.3.1', clientAuth: '1.3.6.1.5.5.7.3.2',
  commonName: '2.5.4.3',
};

function tbsFields(certDer: Buffer): Tlv[] {
  const cert = expectTag(parseDer(certDer), TAG.SEQUENCE, 'Certificate');
  const tbs = expectTag(children(cert)[0], TAG.SEQUENCE, 'TBSCertificate');
  const f = children(tbs);
  return f[0]?.tag === 0xa0 ? f.slice(1) : f; // drop the explicit version
}

function subjectKeyId(fields: Tlv[]): Buffer {
  const spki = expectTag(fields[5], TAG.SEQUENCE, 'SubjectPublicKeyInfo');
  const ext = fields.find((t) => t.tag === 0xa3);
  if (ext) {
    for (const e of children(expectTag(children(ext)[0], TAG.SEQUENCE, 'Extensions'))) {
      const parts = children(e);
      if (decodeOid(expectTag(parts[0], TAG.OID, 'extension oid').content) === OID.subjectKeyId) {
        return Buffer.from(expectTag(parseDer(parts[parts.length - 1]!.content), TAG.OCTET_STRING, 'key id').content);
      }
    }
  }
  // RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits.
  const keyBits = expectTag(children(spki)[1], TAG.BIT_STRING, 'subjectPublicKey').content.subarray(1);
  return createHash('sha1').update(keyBits).digest();
}

/** Load a CA certificate and its private key; throws if they do not belong together or the cert is not a CA. */
export function loadIssuer(certPem: string, keyPem: string): Issuer {
  try {
    const der = fromPemAll(certPem, 'CERTIFICATE')[0];
    if (!der) throw new Error('no CERTIFICATE block');
    const x = new X509Certificate(der);
    if (!x.ca) throw new Error(`certificate ${x.subject.replace(/\n/g, ', ')} is not a CA (basicConstraints cA is not set)`);
    const key = createPrivateKey(keyPem);
    const a = createPublicKey(key).export({ type: 'spki', format: 'der' });
    const b = x.publicKey.export({ type: 'spki', format: 'der' });
    if (!a.equals(b)) throw new Error('the private key does not match the certificate');
    const fields = tbsFields(der);
    return { certPem: toPem('CERTIFICATE', der), key, subject: Buffer.from(fields[4]!.raw), keyId: subjectKeyId(fields), notAfter: x.validToDate };
  } catch (err) {
    throw badCaMaterial(`ca certificate/key unusable: ${(err as Error).message}`, err);
  }
}

function signatureAlgorithm(key: KeyObject): { digest: string | null; alg: Buffer } {
  switch (key.asymmetricKeyType) {
    case 'rsa': return { digest: 'sha256', alg: seq(oid('1.2.840.113549.1.1.11'), nullValue()) };
    case 'ec': return key.asymmetricKeyDetails?.namedCurve === 'secp384r1'
      ? { digest: 'sha384', alg: seq(oid('1.2.840.10045.4.3.3')) }
      : { digest: 'sha256', alg: seq(oid('1.2.840.10045.4.3.2')) };
    case 'ed25519': return { digest: null, alg: seq(oid('1.3.101.112')) };
    default: throw badCaMaterial(`ca key type ${key.asymmetricKeyType} cannot sign certificates; use rsa, ec or ed25519`);
  }
}

const extension = (id: string, critical: boolean, value: Buffer): Buffer =>
  seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));

/** Build and sign a leaf (end-entity) certificate; returns its PEM. */
export function signLeaf(issuer: Issuer, spec: LeafSpec): string {
  const uris = spec.uris ?? [];
  const dns = spec.dnsNames ?? [];
  if (uris.length + dns.length === 0) throw new Error('a leaf certificate needs at least one subject alternative name');
  const { digest, alg } = signatureAlgorithm(issuer.key);
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01; // positive, and exactly 16 bytes
  const names = Buffer.concat([
    ...uris.map((u) => tlv(0x86, Buffer.from(u, 'ascii'))),
    ...dns.map((d) => tlv(0x82, Buffer.from(d, 'ascii'))),
  ]);
  // SPIFFE leaves have an empty subject (so the SAN is critical); DNS serving certs carry CN = first name.
  const subject = dns.length && !uris.length ? seq(set(seq(oid(OID.commonName), utf8(dns[0]!)))) : seq();
  const emptySubject = subject.length === 2;
  const exts = seq(
    extension(OID.keyUsage, true, bits(Buffer.from([0xa0]), 5)), // digitalSignature | keyEncipherment
    extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth), oid(OID.clientAuth))),
    extension(OID.basicConstraints, true, seq()),
    extension(OID.authorityKeyId, false, seq(ctx(0, issuer.keyId, false))),
    extension(OID.subjectAltName, emptySubject, seq(names)),
  );
  const tbs = seq(
    ctx(0, smallInt(2), true), uint(serial), alg, issuer.subject,
    seq(time(spec.notBefore), time(spec.notAfter)), subject, spec.spki, ctx(3, exts, true),
  );
  const signature = sign(digest, tbs, issuer.key);
  return toPem('CERTIFICATE', seq(tbs, alg, bits(signature)));
}
