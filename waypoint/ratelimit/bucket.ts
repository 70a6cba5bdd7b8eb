// Owns the token bucket: `capacity` tokens (the burst), refilled continuously at `ratePerSecond`, one token per
// request. Pure: every function takes the time (milliseconds, any monotonic origin) so tests drive a fake clock.
// Tokens are fractional so low rates (1 rps) refill smoothly rather than in whole-second steps.

export interface TokenBucket {
  readonly ratePerSecond: number;
  readonly capacity: number;
  tokens: number;
  /** When `tokens` was last brought up to date. */
  updatedMs: number;
}

/** A new bucket starts full: a client never seen before gets its whole burst. */
export function createBucket(ratePerSecond: number, capacity: number, nowMs: number): TokenBucket {
  return { ratePerSecond, capacity, tokens: capacity, updatedMs: nowMs };
}

/** Add what accrued since the last update (never beyond capacity; a clock going backwards adds nothing). */
export function refill(b: TokenBucket, nowMs: number): void {
  if (nowMs > b.updatedMs) {
    b.tokens = Math.min(b.capacity, b.tokens + ((nowMs - b.updatedMs) / 1000) * b.ratePerSecond);
    b.updatedMs = nowMs;
  }
}

/** Milliseconds until one token is available (0: now). Refills first. */
export function waitMs(b: TokenBucket, nowMs: number): number {
  refill(b, nowMs);
  return b.tokens >= 1 ? 0 : ((1 - b.tokens) / b.ratePerSecond) * 1000;
}

/** Take one token; call only after waitMs returned 0. */
export function take(b: TokenBucket): void {
  b.tokens -= 1;
}

/** A full bucket is indistinguishable from a new one, so it can be dropped without changing any decision. */
export function isFull(b: TokenBucket, nowMs: number): boolean {
  refill(b, nowMs);
  return b.tokens >= b.capacity;
}
