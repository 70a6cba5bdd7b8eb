// Face of waypoint/ratelimit: local rate limiting (HTTPLocalRateLimitPolicy) for the waypoint's HTTP requests.
//
//   const limiter = createRateLimiter();
//   const d = limiter.check(config.rateLimits, req, matchedRoute?.id);
//   if (!d.allowed) → respond 429 with `retry-after: d.retryAfterSeconds` (and count it against d.policy).
//
// Limits are per waypoint replica (local), as Linkerd's and Envoy's local rate limits are.

export { createRateLimiter, policyApplies, DEFAULT_MAX_CLIENT_BUCKETS } from './limiter.ts';
export type { RateLimiter, RateLimitDecision, RateLimiterOptions } from './limiter.ts';
export { createBucket, refill, waitMs, take, isFull } from './bucket.ts';
export type { TokenBucket } from './bucket.ts';
