// Retry decisions with Envoy's retry_on semantics (router/retry_state_impl.cc), as Istio configures them from
// VirtualService `retries` and Gateway API `retry`. Pure: the proxy counts attempts, tracks the overall timeout and
// never retries once the response has started streaming to the client.
//
// What each retry_on token retries (Envoy):
//   5xx                any 5xx response, and every failure without a response: connect failure, refused stream,
//                      reset, per-try timeout (Envoy counts an upstream reset as a 5xx)
//   gateway-error      502, 503, 504, and the same failures without a response as 5xx
//   reset              any failure without a response (disconnect, reset, per-try timeout), not responses
//   connect-failure    a failed connection to the upstream
//   refused-stream     the upstream refused the stream (HTTP/2 REFUSED_STREAM)
//   reset-before-request  a failure before the request was sent (connect failure, refused stream)
//   retriable-4xx      409
//   retriable-status-codes  the policy's retriableStatusCodes
//   cancelled, deadline-exceeded, resource-exhausted, internal, unavailable: the gRPC status in the response headers
import type { RetryPolicy } from '../../shared/waypoint/config.ts';

/** Envoy's default base interval between tries. */
export const DEFAULT_BACKOFF_MS = 25;

/** Istio's default: attempts 2, retryOn connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes, codes [503]. */
export const DEFAULT_RETRY: RetryPolicy = Object.freeze({
  attempts: 2,
  retryOn: Object.freeze(['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes']) as string[],
  retriableStatusCodes: Object.freeze([503]) as number[],
});

/** How one try ended. `timeout` is the per-try timeout (the overall route timeout ends the request instead). */
export type TryOutcome =
  | { kind: 'response'; status: number; grpcStatus?: number }
  | { kind: 'connect-failure' }
  | { kind: 'reset' }
  | { kind: 'refused-stream' }
  | { kind: 'timeout' };

const GRPC_RETRY_ON: Record<number, string> = {
  1: 'cancelled',
  4: 'deadline-exceeded',
  8: 'resource-exhausted',
  13: 'internal',
  14: 'unavailable',
};

/** Should this try's outcome be retried under the policy? (Whether attempts remain is the caller's count; 0 attempts never retries.) */
export function shouldRetry(p: RetryPolicy, o: TryOutcome): boolean {
  if (!(p.attempts > 0)) return false;
  const on = (token: string): boolean => p.retryOn.includes(token);
  const noResponse = on('5xx') || on('gateway-error') || on('reset');
  switch (o.kind) {
    case 'connect-failure':
      return noResponse || on('connect-failure') || on('reset-before-request');
    case 'refused-stream':
      return noResponse || on('refused-stream') || on('reset-before-request');
    case 'reset':
    case 'timeout':
      return noResponse;
    case 'response': {
      const s = o.status;
      if (on('5xx') && s >= 500 && s <= 599) return true;
      if (on('gateway-error') && (s === 502 || s === 503 || s === 504)) return true;
      if (on('retriable-4xx') && s === 409) return true;
      if (on('retriable-status-codes') && (p.retriableStatusCodes ?? []).includes(s)) return true;
      if (o.grpcStatus !== undefined) {
        const token = GRPC_RETRY_ON[o.grpcStatus];
        if (token !== undefined && on(token)) return true;
      }
      return false;
    }
  }
}

/**
 * Back-off before retry number `attempt` (1 = the first retry); `rand` in [0,1). Envoy's fully jittered exponential
 * back-off: uniform over [0, base·2^(attempt-1)), the interval capped at 10×base (Envoy's default max_interval).
 */
export function retryBackoffMs(p: RetryPolicy, attempt: number, rand: number): number {
  const base = p.backoffMs !== undefined && p.backoffMs > 0 ? p.backoffMs : DEFAULT_BACKOFF_MS;
  const n = Math.max(1, Math.floor(attempt));
  const interval = Math.min(base * 10, base * 2 ** Math.min(n - 1, 30));
  return Math.floor(Math.min(Math.max(rand, 0), 0.999999) * interval);
}
