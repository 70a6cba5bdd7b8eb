// CSR parsing/verification: RSA (built by node-forge) and EC P-256 (built by our DER writer) are accepted and yield
// the CSR's key; tampered, truncated, weak or garbage requests are INVALID_ARGUMENT.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { parseCsrPem } from './csr.ts';
import { CaError } from './errors.ts';
import { buildCsr, forgeRsaCsr } from './testing.ts';

const spkiOf = (k: KeyObject): Buffer => createPublicKey(k).export({ type: 'spki', format: 'der' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
const ec384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey;

describe('parseCsrPem accepts', () => {
  const cases: [string, KeyObject, string][] = [
    ['rsa 2048 built by node-forge', rsa, forgeRsaCsr(rsa)],
    ['rsa 2048 built by our writer', rsa, buildCsr(rsa, { cn: 'x' })],
    ['ec p-256 with a SAN request (ignored)', ec, buildCsr(ec, { uri: 'spiffe://other/ns/x/sa/y' })],
    ['ec p-384', ec384, buildCsr(ec384)],
  ];
  for (const [name, key, pem] of cases) {
    it(name, () => {
      const parsed = parseCsrPem(pem);
      assert.deepEqual(parsed.spki, spkiOf(key));
      assert.equal(parsed.publicKey.asymmetricKeyType, key.asymmetricKeyType);
    });
  }
});

describe('parseCsrPem rejects with INVALID_ARGUMENT', () => {
  const good = buildCsr(ec);
  const der = Buffer.from(good.split('\n').filter((l) => l && !l.startsWith('-----')).join(''), 'base64');
  const pem = (b: Buffer): string => `-----BEGIN CERTIFICATE REQUEST-----\n${b.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
  const tampered = Buffer.from(der);
  tampered[tampered.length - 5]! ^= 0x01; // inside the signature
  const otherKey = Buffer.from(der);
  // flip a byte in the public key point: the key changes, the signature no longer matches (or the point is invalid)
  const spki = spkiOf(ec);
  const at = der.indexOf(spki) + spki.length - 3;
  otherKey[at]! ^= 0x01;
  const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
  const cases: [string, string, RegExp][] = [
    ['empty', '', /exactly one PEM/],
    ['not base64 der', '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----', /not a valid PKCS#10/],
    ['truncated', pem(der.subarray(0, der.length - 10)), /not a valid PKCS#10/],
    ['tampered signature', pem(tampered), /signature/],
    ['altered public key', pem(otherKey), /signature|public key/],
    ['rsa 1024', forgeRsaCsr(weak), /at least 2048/],
    ['two requests', good + good, /exactly one PEM/],
  ];
  for (const [name, input, msg] of cases) {
    it(name, () => {
      assert.throws(() => parseCsrPem(input), (err: unknown) => {
        assert.ok(err instanceof CaError, String(err));
        assert.equal(err.grpcCode, status.INVALID_ARGUMENT);
        assert.match(err.message, msg);
        return true;
      });
    });
  }
});
