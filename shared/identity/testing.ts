// Test support: an in-memory CA that signs real X.509 certificates (EC P-256 root, leaves for the public key in
// the CSR it is sent), with scripted failures, so the manager's checks and timers run against genuine PEMs.
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { bits, ctx, octets, oid, seq, set, tlv, time, toPem, uint, utf8 } from '../der.ts';
import { CaRequestError } from './errors.ts';
import type { CaClient } from './ca-client.ts';
import type { SpiffeId } from '../spiffe.ts';

const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));
const critical = Buffer.from([0x01, 0x01, 0xff]);
const ext = (id: string, crit: boolean, value: Buffer): Buffer => seq(oid(id), ...(crit ? [critical] : []), octets(value));

function signCert(issuerKey: KeyObject, issuer: Buffer, subject: Buffer, spki: Buffer, notBefore: Date, notAfter: Date, exts: Buffer[]): string {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  const tbs = seq(ctx(0, uint(Buffer.from([2])), true), uint(serial), ECDSA_SHA256, issuer, seq(time(notBefore), time(notAfter)), subject, spki, ctx(3, seq(...exts), true));
  return toPem('CERTIFICATE', seq(tbs, ECDSA_SHA256, bits(sign('sha256', tbs, issuerKey))));
}

/** Read one DER element: [tag, content, total length]. Enough to pull the SPKI out of a CSR. */
function readTlv(b: Buffer, off: number): [number, Buffer, number] {
  let len = b[off + 1]!;
  let hdr = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[off + 2 + i]!;
    hdr += n;
  }
  return [b[off]!, b.subarray(off + hdr, off + hdr + len), hdr + len];
}

/** The SubjectPublicKeyInfo DER of a PEM CSR. */
export function csrSpki(csrPem: string): Buffer {
  const der = Buffer.from(csrPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  const [, req] = readTlv(der, 0);
  const [, info] = readTlv(req, 0);
  let off = 0;
  for (let i = 0; i < 2; i++) off += readTlv(info, off)[2]; // version, subject
  const [, , spkiLen] = readTlv(info, off);
  return Buffer.from(info.subarray(off, off + spkiLen));
}

export interface FakeCall { csrPem: string; ttlSeconds: number; impersonate?: SpiffeId }

export interface FakeCa extends CaClient {
  rootPem: string;
  calls: FakeCall[];
  /** Errors (or gRPC codes) the next calls fail with, in order. */
  failNext(...errs: Array<Error | status>): void;
  clearFailures(): void;
  /** Hold answers until release() (to observe concurrent callers). */
  hold(): void;
  release(): void;
  /** Sign for this identity instead of the requested one (a misbehaving CA). */
  wrongIdentity?: SpiffeId;
}

export function fakeCa(): FakeCa {
  const { privateKey: rootKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const rootName = seq(set(seq(oid('2.5.4.10'), utf8('fake-ca'))));
  const now = Date.now();
  const rootPem = signCert(rootKey, rootName, rootName, publicKey.export({ type: 'spki', format: 'der' }), new Date(now - 86_400_000), new Date(now + 3650 * 86_400_000), [
    ext('2.5.29.19', true, seq(Buffer.from([0x01, 0x01, 0xff]))),
    ext('2.5.29.15', true, bits(Buffer.from([0x06]), 1)),
  ]);
  const failures: Array<Error | status> = [];
  let held: Array<() => void> | undefined;
  const ca: FakeCa = {
    rootPem,
    calls: [],
    failNext: (...errs) => void failures.push(...errs),
    clearFailures: () => void failures.splice(0),
    hold: () => void (held = []),
    release() {
      const waiting = held ?? [];
      held = undefined;
      for (const go of waiting) go();
    },
    async createCertificate(csrPem, ttlSeconds, impersonate) {
      ca.calls.push({ csrPem, ttlSeconds, ...(impersonate ? { impersonate } : {}) });
      if (held) await new Promise<void>((r) => held!.push(r));
      const f = failures.shift();
      if (f !== undefined) throw f instanceof Error ? f : new CaRequestError('certificate request', f, 'scripted failure');
      const id = ca.wrongIdentity ?? impersonate ?? ('spiffe://cluster.local/ns/default/sa/default' as SpiffeId);
      const t = Date.now();
      const leaf = signCert(rootKey, rootName, seq(), csrSpki(csrPem), new Date(t - 60_000), new Date(t + ttlSeconds * 1000), [
        ext('2.5.29.15', true, bits(Buffer.from([0xa0]), 5)),
        ext('2.5.29.17', true, seq(tlv(0x86, Buffer.from(id, 'ascii')))),
      ]);
      return [leaf, rootPem];
    },
    close() {},
  };
  return ca;
}
