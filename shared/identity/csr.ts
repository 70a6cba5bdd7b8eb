// Workload keys and PKCS#10 requests, made on the node so private keys never leave it. EC P-256: the CA signs any
// key node:crypto can verify, and P-256 handshakes are far cheaper than RSA 2048 (what Istio's ztunnel uses too).
import { generateKeyPair, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { bits, ctx, octets, oid, seq, set, tlv, toPem, uint } from '../der.ts';

const generateKeyPairAsync = promisify(generateKeyPair);

const OID = { ecdsaWithSha256: '1.2.840.10045.4.3.2', extensionRequest: '1.2.840.113549.1.9.14', subjectAltName: '2.5.29.17' };

export interface WorkloadKey {
  key: KeyObject;
  keyPem: string;
  csrPem: string;
}

/** A PEM CSR for `key` (EC, signed ecdsa-with-SHA256) with an empty subject and a URI SAN request for `identity`. */
export function buildCsr(key: KeyObject, identity: string, publicSpki: Buffer): string {
  // The CA decides the identity; the SAN request only makes the CSR self-describing (as ztunnel's are).
  const san = seq(seq(oid(OID.subjectAltName), octets(seq(tlv(0x86, Buffer.from(identity, 'ascii'))))));
  const attributes = ctx(0, seq(oid(OID.extensionRequest), set(san)), true);
  const info = seq(uint(Buffer.from([0])), seq(), publicSpki, attributes);
  const alg = seq(oid(OID.ecdsaWithSha256));
  return toPem('CERTIFICATE REQUEST', seq(info, alg, bits(sign('sha256', info, key))));
}

/** A fresh P-256 key (generated off the event loop) and its CSR. */
export async function newWorkloadKey(identity: string): Promise<WorkloadKey> {
  const { privateKey, publicKey } = await generateKeyPairAsync('ec', { namedCurve: 'prime256v1' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return {
    key: privateKey,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    csrPem: buildCsr(privateKey, identity, spki),
  };
}
