// Circuit breaking for one destination cluster (service + port + subset), with Envoy's semantics for the
// DestinationRule ConnectionPool as Istio configures them. No I/O and no timers: `createBreakerState` is the
// decision state machine (table-tested); `createCircuitBreaker` wraps it in promises for the proxy.
//
// Limits (Istio's cluster builder): every threshold defaults to 2^32-1, and a configured value counts only when > 0
// (Istio cannot tell an explicit 0 from unset) — including maxRetries, where Envoy's own default would be 3.
// - maxRequests (http2MaxRequests): concurrent requests to the cluster, all protocols; beyond → overflow.
// - maxConnections: HTTP/1.1 connections. A request needs a connection to itself, so at most that many HTTP/1.1
//   requests run at once; the others wait in the pending queue. As in Envoy, an endpoint with no connection may
//   always open one (else its queued requests could never run). Simplification: a connection counts while it
//   carries a request; Envoy also counts idle keep-alive connections, so it is slightly stricter.
// - maxPendingRequests (http1MaxPendingRequests): length of that queue; beyond → overflow. HTTP/2 requests share
//   one multiplexed connection per endpoint and never queue here.
// - maxRetries: concurrent retries; beyond → the retry is not made (the last response or error stands).
// - maxRequestsPerConnection: 0 = unlimited; enforced by the dispatcher.
// Overflow → the proxy answers 503 with response flag UO and `x-envoy-overloaded: true` (`overflowReply`).
import type { ConnectionPool } from '../../shared/waypoint/config.ts';
import type { UpstreamProtocol } from './types.ts';

export const UNLIMITED = 0xffff_ffff;

export interface BreakerLimits {
  maxConnections: number;
  maxPendingRequests: number;
  maxRequests: number;
  maxRetries: number;
  /** 0: unlimited. */
  maxRequestsPerConnection: number;
}

export function breakerLimits(pool: ConnectionPool | undefined): BreakerLimits {
  const limit = (v: number | undefined): number => (v !== undefined && v > 0 ? Math.min(v, UNLIMITED) : UNLIMITED);
  const perConn = pool?.maxRequestsPerConnection;
  return {
    maxConnections: limit(pool?.maxConnections),
    maxPendingRequests: limit(pool?.http1MaxPendingRequests),
    maxRequests: limit(pool?.http2MaxRequests),
    maxRetries: limit(pool?.maxRetries),
    maxRequestsPerConnection: perConn !== undefined && perConn > 0 ? perConn : 0,
  };
}

/** `<service key>:<port>` plus `#<subset>`: the unit breakers, outlier detection and load balancing apply to. */
export function clusterKey(service: string, port: number, subset?: string): string {
  return subset ? `${service}:${port}#${subset}` : `${service}:${port}`;
}

export type OverflowReason = 'max-requests' | 'max-pending-requests';

/** What the proxy answers on overflow, as Envoy does. */
export const overflowReply = {
  status: 503,
  responseFlag: 'UO',
  headers: { 'x-envoy-overloaded': 'true' },
  body: 'upstream connect error or disconnect/reset before headers. reset reason: overflow',
} as const;

// ---- the state machine ----

export interface BreakerSlot {
  readonly endpoint: string;
  readonly protocol: UpstreamProtocol;
  state: 'pending' | 'active' | 'done';
}

export type EnterResult =
  | { kind: 'start'; slot: BreakerSlot }
  | { kind: 'queued'; slot: BreakerSlot }
  | { kind: 'overflow'; reason: OverflowReason };

/** Queued slots that a `leave`/`setLimits` let through, and those that then overflowed on maxRequests. */
export interface Transition {
  started: BreakerSlot[];
  overflowed: BreakerSlot[];
}

export interface BreakerStats {
  activeRequests: number;
  /** HTTP/1.1 connections carrying a request. */
  busyConnections: number;
  pendingRequests: number;
  activeRetries: number;
  /** Totals since creation, for metrics (Envoy's upstream_rq_pending_overflow and upstream_rq_retry_overflow). */
  requestOverflows: number;
  pendingOverflows: number;
  retryOverflows: number;
}

export interface BreakerState {
  readonly limits: BreakerLimits;
  enter(endpoint: string, protocol: UpstreamProtocol): EnterResult;
  /** An active request finished (or a queued one gave up); returns what the freed capacity lets through. */
  leave(slot: BreakerSlot): Transition;
  /** True: a retry may be made (call `retryDone` when it finishes); false: retry overflow. */
  tryRetry(): boolean;
  retryDone(): void;
  setLimits(limits: BreakerLimits): Transition;
  stats(): BreakerStats;
}

export function createBreakerState(initial: BreakerLimits): BreakerState {
  let limits = initial;
  let active = 0;
  let busy = 0;
  const busyByEndpoint = new Map<string, number>();
  const pending: BreakerSlot[] = [];
  let retries = 0;
  const totals = { requestOverflows: 0, pendingOverflows: 0, retryOverflows: 0 };

  const connectionFor = (endpoint: string): boolean => busy < limits.maxConnections || !busyByEndpoint.get(endpoint);

  function start(slot: BreakerSlot): void {
    slot.state = 'active';
    active++;
    if (slot.protocol === 'http1') {
      busy++;
      busyByEndpoint.set(slot.endpoint, (busyByEndpoint.get(slot.endpoint) ?? 0) + 1);
    }
  }

  function drain(): Transition {
    const t: Transition = { started: [], overflowed: [] };
    for (let i = 0; i < pending.length;) {
      const slot = pending[i]!;
      if (!connectionFor(slot.endpoint)) {
        i++;
        continue;
      }
      pending.splice(i, 1);
      // Envoy checks max_requests when it attaches a queued request to a connection, and fails it then.
      if (active >= limits.maxRequests) {
        slot.state = 'done';
        totals.requestOverflows++;
        t.overflowed.push(slot);
      } else {
        start(slot);
        t.started.push(slot);
      }
    }
    return t;
  }

  return {
    get limits() {
      return limits;
    },
    enter(endpoint, protocol) {
      const slot: BreakerSlot = { endpoint, protocol, state: 'pending' };
      if (protocol === 'http1' && !connectionFor(endpoint)) {
        if (pending.length >= limits.maxPendingRequests) {
          totals.pendingOverflows++;
          return { kind: 'overflow', reason: 'max-pending-requests' };
        }
        pending.push(slot);
        return { kind: 'queued', slot };
      }
      if (active >= limits.maxRequests) {
        totals.requestOverflows++;
        return { kind: 'overflow', reason: 'max-requests' };
      }
      start(slot);
      return { kind: 'start', slot };
    },
    leave(slot) {
      if (slot.state === 'pending') {
        const i = pending.indexOf(slot);
        if (i >= 0) pending.splice(i, 1);
        slot.state = 'done';
        return { started: [], overflowed: [] };
      }
      if (slot.state !== 'active') return { started: [], overflowed: [] };
      slot.state = 'done';
      active--;
      if (slot.protocol === 'http1') {
        busy--;
        const n = (busyByEndpoint.get(slot.endpoint) ?? 1) - 1;
        if (n > 0) busyByEndpoint.set(slot.endpoint, n);
        else busyByEndpoint.delete(slot.endpoint);
      }
      return drain();
    },
    tryRetry() {
      if (retries >= limits.maxRetries) {
        totals.retryOverflows++;
        return false;
      }
      retries++;
      return true;
    },
    retryDone() {
      if (retries > 0) retries--;
    },
    setLimits(next) {
      limits = next;
      return drain();
    },
    stats() {
      return { activeRequests: active, busyConnections: busy, pendingRequests: pending.length, activeRetries: retries, ...totals };
    },
  };
}

// ---- the promise face for the proxy ----

export type Admission =
  | { ok: true; /** Call once when the upstream exchange is over (response ended, failed, or abandoned). */ release(): void }
  | { ok: false; reason: OverflowReason };

export interface CircuitBreaker {
  readonly limits: BreakerLimits;
  /**
   * Waits for capacity to send a request to `endpoint`. Resolves `{ ok: false }` on overflow (answer with
   * `overflowReply`); rejects with `signal.reason` when the signal aborts while the request is queued.
   */
  admit(endpoint: string, protocol: UpstreamProtocol, signal?: AbortSignal): Promise<Admission>;
  /** A release function when a retry may be made, undefined on retry overflow (do not retry). */
  tryRetry(): (() => void) | undefined;
  /** New ConnectionPool settings from a config push; counts carry over. */
  update(pool: ConnectionPool | undefined): void;
  stats(): BreakerStats;
}

export function createCircuitBreaker(pool: ConnectionPool | undefined): CircuitBreaker {
  const state = createBreakerState(breakerLimits(pool));
  const waiters = new Map<BreakerSlot, (a: Admission) => void>();

  const grant = (slot: BreakerSlot): Admission => {
    let released = false;
    return {
      ok: true,
      release() {
        if (released) return;
        released = true;
        settle(state.leave(slot));
      },
    };
  };

  function settle(t: Transition): void {
    for (const slot of t.started) {
      const w = waiters.get(slot);
      waiters.delete(slot);
      if (w) w(grant(slot));
    }
    for (const slot of t.overflowed) {
      const w = waiters.get(slot);
      waiters.delete(slot);
      if (w) w({ ok: false, reason: 'max-requests' });
    }
  }

  return {
    get limits() {
      return state.limits;
    },
    admit(endpoint, protocol, signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      const r = state.enter(endpoint, protocol);
      if (r.kind === 'overflow') return Promise.resolve({ ok: false, reason: r.reason });
      if (r.kind === 'start') return Promise.resolve(grant(r.slot));
      const slot = r.slot;
      return new Promise<Admission>((resolve, reject) => {
        const onAbort = (): void => {
          if (!waiters.delete(slot)) return;
          state.leave(slot);
          reject(signal!.reason);
        };
        waiters.set(slot, (a) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(a);
        });
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    tryRetry() {
      if (!state.tryRetry()) return undefined;
      let done = false;
      return () => {
        if (done) return;
        done = true;
        state.retryDone();
      };
    },
    update(next) {
      settle(state.setLimits(breakerLimits(next)));
    },
    stats: () => state.stats(),
  };
}
