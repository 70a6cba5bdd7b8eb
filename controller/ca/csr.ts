// PKCS#10 certificate signing requests: parse the DER ourselves, verify the self-signature with node:crypto, and
// return only the public key (SubjectPublicKeyInfo, byte-exact). Everything else the CSR asks for (subject, SANs,
// extensions) is ignored: the CA decides the identity. Supports RSA (PKCS#1 v1.5), ECDSA P-256/P-384 and Ed25519,
// which covers ztunnel (ECDSA P-256) and Istio agents (RSA 2048).
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { children, decodeOid, expectTag, fromPemAll, parseDer, TAG } from '../../shared/der.ts';
import { invalidCsr } from './errors.ts';

export interface ParsedCsr {
  /** The SubjectPublicKeyInfo DER, copied as-is into the certificate. */
  spki: Buffer;
  publicKey: KeyObject;
}

// signature algorithm OID → [digest for crypto.verify (null: the key implies it), key type it requires]
const SIG_ALGS: Record<string, [string | null, string]> = {
  '1.2.840.113549.1.1.11': ['sha256', 'rsa'],
  '1.2.840.113549.1.1.12': ['sha384', 'rsa'],
  '1.2.840.113549.1.1.13': ['sha512', 'rsa'],
  '1.2.840.10045.4.3.2': ['sha256', 'ec'],
  '1.2.840.10045.4.3.3': ['sha384', 'ec'],
  '1.2.840.10045.4.3.4': ['sha512', 'ec'],
  '1.3.101.112': [null, 'ed25519'],
};
const EC_CURVES = new Set(['prime256v1', 'secp384r1']);
const MIN_RSA_BITS = 2048;

/** PEM text → verified public key; throws CaError INVALID_ARGUMENT with the reason. */
export function parseCsrPem(pem: string): ParsedCsr {
  const blocks = [...fromPemAll(pem, 'CERTIFICATE REQUEST'), ...fromPemAll(pem, 'NEW CERTIFICATE REQUEST')];
  if (blocks.length !== 1) throw invalidCsr(`csr must be exactly one PEM "CERTIFICATE REQUEST" block (found ${blocks.length})`);
  return parseCsrDer(blocks[0]!);
}

export function parseCsrDer(der: Buffer): ParsedCsr {
  let info: Buffer, spki: Buffer, algOid: string, sig: Buffer;
  try {
    const top = expectTag(parseDer(der), TAG.SEQUENCE, 'CertificationRequest');
    const [infoT, algT, sigT] = children(top);
    const infoSeq = expectTag(infoT, TAG.SEQUENCE, 'CertificationRequestInfo');
    const [version, , spkiT] = children(infoSeq);
    if (expectTag(version, TAG.INTEGER, 'version').content.length !== 1 || version!.content[0] !== 0) throw new Error('unsupported csr version');
    spki = expectTag(spkiT, TAG.SEQUENCE, 'SubjectPublicKeyInfo').raw;
    algOid = decodeOid(expectTag(children(expectTag(algT, TAG.SEQUENCE, 'signatureAlgorithm'))[0], TAG.OID, 'algorithm oid').content);
    const bitString = expectTag(sigT, TAG.BIT_STRING, 'signature').content;
    if (bitString[0] !== 0) throw new Error('signature bit string has unused bits');
    sig = bitString.subarray(1);
    info = infoSeq.raw;
  } catch (err) {
    throw invalidCsr(`csr is not a valid PKCS#10 request: ${(err as Error).message}`, err);
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch (err) {
    throw invalidCsr(`csr public key is not usable: ${(err as Error).message}`, err);
  }
  const alg = SIG_ALGS[algOid];
  if (!alg) throw invalidCsr(`csr signature algorithm ${algOid} is not supported; use RSA with SHA-256+, ECDSA P-256/P-384 or Ed25519`);
  const keyType = publicKey.asymmetricKeyType ?? '';
  if (keyType !== alg[1]) throw invalidCsr(`csr is signed with a ${alg[1]} algorithm but carries a ${keyType} key`);
  const details = publicKey.asymmetricKeyDetails ?? {};
  if (keyType === 'rsa' && (details.modulusLength ?? 0) < MIN_RSA_BITS) {
    throw invalidCsr(`csr rsa key has ${details.modulusLength} bits; at least ${MIN_RSA_BITS} are required`);
  }
  if (keyType === 'ec' && !EC_CURVES.has(details.namedCurve ?? '')) {
    throw invalidCsr(`csr ec key uses curve ${details.namedCurve}; use P-256 or P-384`);
  }
  let ok: boolean;
  try {
    ok = verify(alg[0], info, publicKey, sig);
  } catch (err) {
    throw invalidCsr(`csr signature could not be checked: ${(err as Error).message}`, err);
  }
  if (!ok) throw invalidCsr('csr signature does not match its public key; was the request altered?');
  return { spki: Buffer.from(spki), publicKey };
}
