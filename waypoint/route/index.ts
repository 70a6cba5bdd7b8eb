// waypoint/route: the pure request-time routing decisions — which route a request takes, what it does to the
// request (headers, rewrites, redirects), weighted backend choice, fault injection and retries.
export { matchRoute, matchesHttp, matchTcp, stringMatches, pathMatches, headerMatches, headerValue, parseQuery } from './match.ts';
export { applyHeaderOps, rewritePath, redirectLocation, type HeaderObject } from './rewrite.ts';
export { pickWeighted } from './weighted.ts';
export { faultDelayMs, faultAbort } from './fault.ts';
export { DEFAULT_RETRY, DEFAULT_BACKOFF_MS, shouldRetry, retryBackoffMs, type TryOutcome } from './retry.ts';
