// Test helpers for waypoint/authn: keys generated in-process, compact JWS signing, and request builders. Never used
// by production code.

import { constants, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { RequestInfo } from '../types.ts';

export interface TestKey {
  alg: string;
  kid: string;
  privateKey: KeyObject;
  /** The public JWK with kid and alg. */
  jwk: Record<string, unknown>;
}

export function makeKey(alg: string, kid = alg.toLowerCase()): TestKey {
  let pair: { publicKey: KeyObject; privateKey: KeyObject };
  if (alg.startsWith('RS') || alg.startsWith('PS')) pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  else if (alg === 'ES256') pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  else if (alg === 'ES384') pair = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  else if (alg === 'ES512') pair = generateKeyPairSync('ec', { namedCurve: 'P-521' });
  else if (alg === 'EdDSA') pair = generateKeyPairSync('ed25519');
  else throw new Error(`no test key for ${alg}`);
  return { alg, kid, privateKey: pair.privateKey, jwk: { ...pair.publicKey.export({ format: 'jwk' }), kid, alg } };
}

/** A key that signs with `alg` but reuses another key's material (RSA keys are slow to generate). */
export function withAlg(k: TestKey, alg: string, kid = alg.toLowerCase()): TestKey {
  return { alg, kid, privateKey: k.privateKey, jwk: { ...k.jwk, kid, alg } };
}

export function jwksOf(...keys: TestKey[]): string {
  return JSON.stringify({ keys: keys.map((k) => k.jwk) });
}

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

export function signJwt(key: TestKey, payload: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const data = `${b64({ alg: key.alg, typ: 'JWT', kid: key.kid, ...header })}.${b64(payload)}`;
  const hash = `sha${key.alg.slice(2)}`;
  let sig: Buffer;
  if (key.alg.startsWith('RS')) sig = sign(hash, Buffer.from(data), { key: key.privateKey, padding: constants.RSA_PKCS1_PADDING });
  else if (key.alg.startsWith('PS')) sig = sign(hash, Buffer.from(data), { key: key.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
  else if (key.alg.startsWith('ES')) sig = sign(hash, Buffer.from(data), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  else sig = sign(null, Buffer.from(data), key.privateKey);
  return `${data}.${sig.toString('base64url')}`;
}

export function request(over: Partial<RequestInfo> & { headers?: RequestInfo['headers'] } = {}): RequestInfo {
  return {
    method: 'GET', path: '/api', query: '', authority: 'web.shop.svc.cluster.local', headers: {}, grpc: false,
    source: { principal: 'spiffe://cluster.local/ns/shop/sa/client', namespace: 'shop', ip: '10.244.1.5', remoteIp: '10.244.1.5' },
    destination: { service: 'shop/web.shop.svc.cluster.local', ip: '10.96.0.20', port: 80 },
    ...over,
  };
}
