// Authentication: client certificates signed by the cluster CA (user = CN, groups = O) and bearer
// service-account tokens. Authorization is allow-all for authenticated users: RBAC objects are stored, not enforced.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { DEFAULT_AUDIENCE, verifyToken, type SigningKey, type TokenClaims } from './tokens.ts';

export interface UserInfo { username: string; uid: string; groups: string[]; extra: Record<string, string[]> }

export type AuthResult = { ok: true; user: UserInfo } | { ok: false; error: string };

/** Checks that a token's service account (and bound pod) still exist with the uids it names. */
export type LiveCheck = (claims: TokenClaims) => string | undefined;

export function userFromClaims(c: TokenClaims): UserInfo {
  const k = c['kubernetes.io'];
  const extra: Record<string, string[]> = {};
  if (k.pod) {
    extra['authentication.kubernetes.io/pod-name'] = [k.pod.name];
    extra['authentication.kubernetes.io/pod-uid'] = [k.pod.uid];
  }
  return {
    username: `system:serviceaccount:${k.namespace}:${k.serviceaccount.name}`,
    uid: k.serviceaccount.uid,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${k.namespace}`, 'system:authenticated'],
    extra,
  };
}

export function authenticateToken(key: SigningKey, token: string, live: LiveCheck, audiences: string[]): AuthResult {
  const v = verifyToken(key, token, Math.floor(Date.now() / 1000), audiences);
  if (!v.ok) return v;
  const dead = live(v.claims);
  if (dead) return { ok: false, error: dead };
  return { ok: true, user: userFromClaims(v.claims) };
}

// TLS connection → its client-certificate identity: the certificate cannot change within a connection.
const byConnection = new WeakMap<object, AuthResult>();

export function authenticate(req: IncomingMessage, key: SigningKey, live: LiveCheck): AuthResult | undefined {
  const h = req.headers.authorization;
  if (h) {
    const m = h.match(/^Bearer\s+(\S+)$/i);
    if (!m) return { ok: false, error: 'unsupported Authorization header; use "Bearer <token>" or a client certificate' };
    return authenticateToken(key, m[1]!, live, [DEFAULT_AUDIENCE]);
  }
  const sock = req.socket as TLSSocket;
  const cached = byConnection.get(sock);
  if (cached) return cached;
  if (typeof sock.getPeerCertificate === 'function' && sock.authorized) {
    const cert = sock.getPeerCertificate();
    const cn = cert?.subject?.CN;
    if (cn) {
      const o = cert.subject.O as string | string[] | undefined;
      const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
      const result: AuthResult = { ok: true, user: { username: String(cn), uid: '', groups: [...groups, 'system:authenticated'], extra: {} } };
      byConnection.set(sock, result);
      return result;
    }
  }
  return undefined;
}
