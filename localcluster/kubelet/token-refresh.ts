// Service-account tokens for projected volumes: issued through TokenRequest (bound to the pod) and reissued
// once 80% of their lifetime has passed, as the kubelet's token manager does, so a reader always finds a token
// with at least a fifth of its life left.
export interface IssuedToken { token: string; expiresAtMs: number }

export interface TokenSpec { audience?: string; expirationSeconds: number }

/** When a token issued at `issuedAtMs` and expiring at `expiresAtMs` should be replaced. */
export function refreshAtMs(issuedAtMs: number, expiresAtMs: number): number {
  return issuedAtMs + Math.floor(0.8 * Math.max(0, expiresAtMs - issuedAtMs));
}

interface Entry { spec: TokenSpec; issued: IssuedToken; refreshAt: number }

/** Tokens by key (volume/path); `get` reissues only when due or when the spec changed. */
export class TokenCache {
  readonly #fetch: (spec: TokenSpec) => Promise<IssuedToken>;
  readonly #entries = new Map<string, Entry>();

  constructor(fetch: (spec: TokenSpec) => Promise<IssuedToken>) {
    this.#fetch = fetch;
  }

  async get(key: string, spec: TokenSpec): Promise<string> {
    const now = Date.now();
    const e = this.#entries.get(key);
    if (e && now < e.refreshAt && e.spec.audience === spec.audience && e.spec.expirationSeconds === spec.expirationSeconds) return e.issued.token;
    const issued = await this.#fetch(spec);
    this.#entries.set(key, { spec, issued, refreshAt: refreshAtMs(now, issued.expiresAtMs) });
    return issued.token;
  }

  /** Earliest time a cached token is due (undefined when none is cached). */
  nextRefreshAt(): number | undefined {
    let min: number | undefined;
    for (const e of this.#entries.values()) if (min === undefined || e.refreshAt < min) min = e.refreshAt;
    return min;
  }
}

/** How long the refresh loop sleeps: the poll period, or less when a token falls due sooner. */
export function nextDelayMs(nowMs: number, pollMs: number, tokenDueAt: number | undefined): number {
  if (tokenDueAt === undefined) return pollMs;
  return Math.max(0, Math.min(pollMs, tokenDueAt - nowMs));
}
