// Face of waypoint/authn: RequestAuthentication (JWT) enforcement for the waypoint's HTTP requests.
//
//   const authn = createAuthenticator({ log });
//   const r = await authn.authenticate(config.authentication, req);
//   if (!r.ok) → respond r.status with body r.message and `www-authenticate: r.wwwAuthenticate`;
//   else → delete r.removeHeaders from the upstream request, then set r.setHeaders; req.auth = r.auth (authz reads
//   request.auth.principal / claims from it).
//
// Keys: inline JWKS parsed once; jwksUri (or the issuer's OpenID discovery) fetched with undici from the waypoint's
// network, cached per URI, refreshed every `refreshMs`. See jwks.ts for the cache rules and authenticate.ts for
// the request semantics (Istio/Envoy jwt_authn).

import type { Logger } from '../../shared/log.ts';
import type { JwtPolicy, JwtRule } from '../../shared/waypoint/config.ts';
import type { RequestInfo } from '../types.ts';
import { authenticateRequest, type AuthnResult, type KeySource } from './authenticate.ts';
import { createJwksCache, type FetchJwks } from './jwks.ts';

export type { AuthnResult, KeySource } from './authenticate.ts';
export { authenticateRequest, applicableRules, claimHeaderValue } from './authenticate.ts';
export { createJwksCache, fetchWithUndici, JwksFetchError, DEFAULT_REFRESH_MS, UNKNOWN_KID_REFETCH_MS } from './jwks.ts';
export type { JwksCache, FetchJwks } from './jwks.ts';
export { STATUS_TEXT, CLOCK_SKEW_SECONDS, parseJwt, parseJwks, verifySignature, checkTime, audienceAllowed } from './jwt.ts';
export type { Jwt, Jwk, Jwks, JwtStatus } from './jwt.ts';

export interface AuthenticatorOptions {
  /** Fetches a JWKS (or discovery document) body; default: undici GET with 5 s timeouts. */
  fetchJwks?: FetchJwks;
  /** Remote key set refresh period; default 20 min (istiod's). */
  refreshMs?: number;
  /** Clock in milliseconds, for token times and the cache; default Date.now. */
  now?: () => number;
  log: Logger;
}

export interface Authenticator {
  authenticate(policies: readonly JwtPolicy[], req: RequestInfo): Promise<AuthnResult>;
}

export function createAuthenticator(opts: AuthenticatorOptions): Authenticator {
  const now = opts.now ?? Date.now;
  const cache = createJwksCache({
    ...(opts.fetchJwks ? { fetchJwks: opts.fetchJwks } : {}),
    ...(opts.refreshMs !== undefined ? { refreshMs: opts.refreshMs } : {}),
    now, log: opts.log,
  });

  async function uriOf(rule: JwtRule): Promise<string> {
    return rule.jwksUri ?? (await cache.discover(rule.issuer));
  }

  const keys: KeySource = {
    async keysFor(rule) {
      if (rule.jwks) return cache.inline(rule.jwks);
      try {
        return await cache.remote(await uriOf(rule));
      } catch {
        return { error: 'JwksFetchFail' };
      }
    },
    async refetchFor(rule) {
      if (rule.jwks) return undefined;
      try {
        return await cache.refetchForUnknownKid(await uriOf(rule));
      } catch {
        return undefined;
      }
    },
  };

  return {
    authenticate: (policies, req) => authenticateRequest(policies, req, keys, now()),
  };
}
