// Service-account tokens: RS256 JWTs with Kubernetes' claims, signed by a key kept in stateDir.
// `signToken`/`verifyToken` are pure given the key; whether the service account / pod still exist is checked by
// the caller (http.ts), like Kubernetes' bound-token validation.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const ISSUER = 'https://kubernetes.default.svc.cluster.local';
export const DEFAULT_AUDIENCE = ISSUER;

export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  jti?: string;
  'kubernetes.io': {
    namespace: string;
    serviceaccount: { name: string; uid: string };
    pod?: { name: string; uid: string };
  };
}

export interface SigningKey { privateKey: KeyObject; publicKey: KeyObject }

export function ensureSigningKey(dir: string): SigningKey {
  const path = join(dir, 'sa.key');
  if (!existsSync(path)) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(path, privateKey.export({ type: 'pkcs1', format: 'pem' }), { mode: 0o600 });
  }
  const privateKey = createPrivateKey(readFileSync(path));
  const publicKey = createPublicKey(privateKey);
  writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  return { privateKey, publicKey };
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

export function signToken(key: SigningKey, claims: TokenClaims): string {
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: 'localcluster' }));
  const payload = b64url(JSON.stringify(claims));
  const sig = sign('sha256', Buffer.from(`${header}.${payload}`), key.privateKey);
  return `${header}.${payload}.${b64url(sig)}`;
}

export type VerifyResult = { ok: true; claims: TokenClaims } | { ok: false; error: string };

/** Check signature, issuer, time window and (if given) that one of `audiences` is in the token's aud. */
export function verifyToken(key: SigningKey, token: string, nowSec: number, audiences?: string[]): VerifyResult {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, error: 'token is not a JWT (expected header.payload.signature)' };
  const [h, p, s] = parts as [string, string, string];
  let header: any;
  let claims: any;
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString());
    claims = JSON.parse(Buffer.from(p, 'base64url').toString());
  } catch {
    return { ok: false, error: 'token header or payload is not valid base64url JSON' };
  }
  if (header.alg !== 'RS256') return { ok: false, error: `unsupported token algorithm ${String(header.alg)}` };
  if (!verify('sha256', Buffer.from(`${h}.${p}`), key.publicKey, Buffer.from(s, 'base64url'))) {
    return { ok: false, error: 'invalid bearer token: signature verification failed' };
  }
  if (claims.iss !== ISSUER) return { ok: false, error: `invalid bearer token: unexpected issuer ${String(claims.iss)}` };
  if (typeof claims.exp !== 'number' || claims.exp < nowSec) return { ok: false, error: 'invalid bearer token: token has expired' };
  if (typeof claims.nbf === 'number' && claims.nbf > nowSec + 60) return { ok: false, error: 'invalid bearer token: token not yet valid' };
  if (!claims['kubernetes.io']?.serviceaccount?.name) return { ok: false, error: 'invalid bearer token: not a service account token' };
  const aud: string[] = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (audiences && audiences.length && !audiences.some((a) => aud.includes(a))) {
    return { ok: false, error: 'invalid bearer token: token audiences do not match' };
  }
  return { ok: true, claims: { ...claims, aud } };
}
