// Owns the waypoint's JWKS key sets: inline ones parsed once, remote ones fetched (undici, inside the cluster
// network) and cached per URI. A cached set older than `refreshMs` (default 20 min, istiod's
// PILOT_JWT_PUB_KEY_REFRESH_INTERVAL) is still served while a background refetch replaces it, so no request waits
// on a refresh; a failed refresh keeps the last good keys (as istiod does). A token whose kid no cached key has
// may trigger one early refetch, at most once per `unknownKidRefetchMs` (60 s) per URI, so a key rotation is picked
// up quickly while garbage kids cannot turn the waypoint into a fetch amplifier. Issuers given without jwks or
// jwksUri are resolved through OpenID discovery (`<issuer>/.well-known/openid-configuration`), as istiod does.

import { request } from 'undici';
import { MeshError, errorMessage } from '../../shared/errors.ts';
import type { Logger } from '../../shared/log.ts';
import { parseJwks, type Jwks, type JwtStatus } from './jwt.ts';

export const DEFAULT_REFRESH_MS = 20 * 60_000;
export const UNKNOWN_KID_REFETCH_MS = 60_000;
/** After a failed first fetch, requests fail fast for this long instead of each starting a fetch. */
export const FAILURE_RETRY_MS = 5_000;
const FETCH_TIMEOUT_MS = 5_000;
const MAX_BODY_BYTES = 1 << 20;
const MAX_CACHED = 1_000;

export class JwksFetchError extends MeshError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('WP_JWKS_FETCH_FAILED', message, options);
  }
}

export type FetchJwks = (uri: string) => Promise<string>;

/** GET `uri` with undici: 200 only, 5 s timeouts, at most 1 MiB. */
export async function fetchWithUndici(uri: string): Promise<string> {
  const res = await request(uri, { method: 'GET', headersTimeout: FETCH_TIMEOUT_MS, bodyTimeout: FETCH_TIMEOUT_MS, headers: { accept: 'application/json' } });
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new JwksFetchError(`fetching ${uri} returned HTTP ${res.statusCode}; check the jwksUri and that the JWKS server is up`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      res.body.destroy();
      throw new JwksFetchError(`${uri} returned more than ${MAX_BODY_BYTES} bytes; is it really a JWKS?`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export interface JwksCacheOptions {
  fetchJwks?: FetchJwks;
  refreshMs?: number;
  unknownKidRefetchMs?: number;
  failureRetryMs?: number;
  /** Milliseconds; injectable for tests. */
  now?: () => number;
  log: Logger;
}

/** Keys for a rule, or the jwt_verify_lib status the request fails with. */
export type KeyResult = Jwks | { error: JwtStatus };

export interface JwksCache {
  /** Keys of an inline JWKS (parsed once per distinct text). */
  inline(text: string): KeyResult;
  /** Keys served at `uri`; fetched on first use. */
  remote(uri: string): Promise<KeyResult>;
  /** Refetch `uri` now because a token's kid is unknown; undefined when refetched too recently or failed. */
  refetchForUnknownKid(uri: string): Promise<Jwks | undefined>;
  /** The jwks_uri from the issuer's OpenID discovery document (cached like a key set). */
  discover(issuer: string): Promise<string>;
}

interface Entry {
  /** Last good key set. */
  keys?: Jwks;
  /** When `keys` was fetched. */
  fetchedAt: number;
  /** When the last fetch (good or bad) started. */
  attemptAt: number;
  /** When a kid miss last caused a fetch. */
  kidRefetchAt: number;
  lastError?: string;
  inflight?: Promise<void>;
}

export function createJwksCache(opts: JwksCacheOptions): JwksCache {
  const fetchJwks = opts.fetchJwks ?? fetchWithUndici;
  const refreshMs = opts.refreshMs ?? DEFAULT_REFRESH_MS;
  const kidRefetchMs = opts.unknownKidRefetchMs ?? UNKNOWN_KID_REFETCH_MS;
  const failureRetryMs = opts.failureRetryMs ?? FAILURE_RETRY_MS;
  const now = opts.now ?? Date.now;
  const log = opts.log;
  // Index: JWKS text → parsed keys; inline sets are few and immutable.
  const inlineSets = new Map<string, KeyResult>();
  // Index: JWKS URI → cache entry, in least-recently-used order (bounded: URIs come from config, but config churns).
  const entries = new Map<string, Entry>();
  // Index: issuer → jwks_uri from discovery.
  const discovered = new Map<string, { uri?: string; at: number; error?: string }>();

  function touch(uri: string): Entry {
    let e = entries.get(uri);
    if (e) {
      entries.delete(uri);
    } else {
      e = { fetchedAt: 0, attemptAt: -Infinity, kidRefetchAt: -Infinity };
      if (entries.size >= MAX_CACHED) entries.delete(entries.keys().next().value as string);
    }
    entries.set(uri, e);
    return e;
  }

  function refetch(uri: string, e: Entry): Promise<void> {
    if (e.inflight) return e.inflight;
    e.attemptAt = now();
    const p = (async () => {
      try {
        // Through an async wrapper so even a synchronous throw settles after `inflight` is set below.
        const parsed = parseJwks(await (async () => fetchJwks(uri))());
        if ('error' in parsed) throw new JwksFetchError(`${uri} did not serve a usable JWKS (${parsed.error})`);
        e.keys = parsed;
        e.fetchedAt = now();
        e.lastError = undefined;
        log.debug({ uri, keys: parsed.keys.length }, 'jwks fetched');
      } catch (err) {
        e.lastError = errorMessage(err);
        log.warn({ uri, err: e.lastError, keptOld: e.keys !== undefined }, 'jwks fetch failed');
      } finally {
        e.inflight = undefined;
      }
    })();
    e.inflight = p;
    return p;
  }

  return {
    inline(text) {
      let r = inlineSets.get(text);
      if (!r) {
        r = parseJwks(text);
        if (inlineSets.size >= MAX_CACHED) inlineSets.clear();
        inlineSets.set(text, r);
      }
      return r;
    },

    async remote(uri) {
      const e = touch(uri);
      if (e.keys) {
        if (now() - e.fetchedAt >= refreshMs && now() - e.attemptAt >= failureRetryMs) void refetch(uri, e);
        return e.keys;
      }
      if (!e.inflight && now() - e.attemptAt < failureRetryMs) return { error: 'JwksFetchFail' };
      await refetch(uri, e);
      return e.keys ?? { error: 'JwksFetchFail' };
    },

    async refetchForUnknownKid(uri) {
      const e = touch(uri);
      if (e.inflight) {
        await e.inflight;
        return e.keys;
      }
      if (now() - e.kidRefetchAt < kidRefetchMs) return undefined;
      e.kidRefetchAt = now();
      await refetch(uri, e);
      return e.lastError === undefined ? e.keys : undefined;
    },

    async discover(issuer) {
      const hit = discovered.get(issuer);
      if (hit?.uri && now() - hit.at < refreshMs) return hit.uri;
      if (hit && !hit.uri && now() - hit.at < failureRetryMs) throw new JwksFetchError(hit.error ?? 'openid discovery failed');
      const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
      try {
        const doc: unknown = JSON.parse(await fetchJwks(url));
        const uri = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>).jwks_uri : undefined;
        if (typeof uri !== 'string' || !/^https?:\/\//.test(uri)) throw new JwksFetchError('the document has no http(s) jwks_uri');
        if (discovered.size >= MAX_CACHED) discovered.clear();
        discovered.set(issuer, { uri, at: now() });
        return uri;
      } catch (err) {
        // Keep using a previously discovered URI; otherwise fail fast for a while.
        if (hit?.uri) {
          discovered.set(issuer, { uri: hit.uri, at: now() });
          return hit.uri;
        }
        const error = `openid discovery for issuer ${issuer} failed: ${errorMessage(err)}; set jwksUri in the RequestAuthentication`;
        discovered.set(issuer, { at: now(), error });
        log.warn({ issuer, err: errorMessage(err) }, 'openid discovery failed');
        throw new JwksFetchError(error, { cause: err });
      }
    },
  };
}
