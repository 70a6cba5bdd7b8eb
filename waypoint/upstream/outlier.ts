// Outlier detection for one destination cluster (DestinationRule `outlierDetection`), with Envoy's consecutive-error
// semantics as Istio configures them. Pure state over an injectable clock: the owner calls `report` after every
// upstream exchange and `tick` every `intervalMs`.
//
// - Results: without split_external_local_origin_errors (Istio's default), a connect failure or reset counts as a
//   503 and a timeout as a 504 (Envoy maps local-origin errors onto HTTP codes).
// - consecutive5xxErrors: absent → 5 (Envoy's default, enforced); 0 → off. Any 5xx counts; any non-5xx resets.
// - consecutiveGatewayErrors: absent or 0 → off (Envoy does not enforce it by default). 502/503/504 count; any other
//   status resets it.
// - Ejection fires when a counter reaches the threshold exactly; the counter then restarts whether or not the host
//   could be ejected. An ejected host's counters stop mattering until it returns.
// - maxEjectionPercent (Envoy ≥ 1.31 without always_eject_one_host, which Istio does not set): a host is ejected only
//   if (ejected + 1) / hosts ≤ maxEjectionPercent. So with 10% fewer than 10 hosts eject nothing, and 100% can eject
//   every host (then there is no healthy upstream).
// - Ejection time: baseEjectionTime × the host's ejection multiplier, capped at max(base, 300 s) (Envoy's
//   max_ejection_time default). The multiplier grows by one per ejection and shrinks by one on each tick that finds
//   the host healthy for at least an interval since it returned. A host returns on the first tick after its time.
// - minHealthPercent (Envoy's panic threshold; Istio's default 0 = never): when the healthy share of the endpoints
//   drops below it, ejections are ignored and every endpoint takes traffic.
import type { OutlierDetection } from '../../shared/waypoint/config.ts';

export type OutlierResult = number | 'connect-failure' | 'reset' | 'timeout';

/** Envoy's max_ejection_time default. */
const MAX_EJECTION_TIME_MS = 300_000;
const DEFAULT_CONSECUTIVE_5XX = 5;

export interface OutlierDetector {
  /** Counts one upstream result; true when it ejected the host. */
  report(id: string, result: OutlierResult): boolean;
  /** Ejected and not overridden by panic mode (over all known hosts). */
  isEjected(id: string): boolean;
  /** Returns hosts whose ejection time is over; decays multipliers of healthy hosts. Call every intervalMs. */
  tick(): string[];
  /** Ids currently ejected (whatever the panic state). */
  ejected(): string[];
  /** The cluster's current hosts: the denominator of maxEjectionPercent. Hosts gone are forgotten. */
  setHosts(ids: readonly string[]): void;
  /** `endpoints` without ejected ones; all of them when that leaves fewer than minHealthPercent (panic). */
  healthy<T extends { id: string }>(endpoints: readonly T[]): T[];
}

interface HostState {
  consecutive5xx: number;
  consecutiveGateway: number;
  ejectedAt?: number;
  /** Envoy's ejectTimeBackoff: the multiplier of baseEjectionTime. */
  multiplier: number;
  returnedAt?: number;
}

function asStatus(r: OutlierResult): number {
  if (r === 'timeout') return 504;
  if (r === 'connect-failure' || r === 'reset') return 503;
  return r;
}

export function createOutlierDetector(cfg: OutlierDetection, now: () => number = Date.now): OutlierDetector {
  const hosts = new Map<string, HostState>();
  const threshold5xx = cfg.consecutive5xxErrors ?? DEFAULT_CONSECUTIVE_5XX;
  const thresholdGateway = cfg.consecutiveGatewayErrors ?? 0;
  const base = cfg.baseEjectionTimeMs;
  const maxTime = Math.max(base, MAX_EJECTION_TIME_MS);
  const minHealth = cfg.minHealthPercent ?? 0;
  let ejectedCount = 0;

  const host = (id: string): HostState => {
    let h = hosts.get(id);
    if (!h) {
      h = { consecutive5xx: 0, consecutiveGateway: 0, multiplier: 0 };
      hosts.set(id, h);
    }
    return h;
  };

  function eject(h: HostState): boolean {
    if (h.ejectedAt !== undefined) return false;
    if ((100 * (ejectedCount + 1)) / hosts.size > cfg.maxEjectionPercent) return false;
    h.ejectedAt = now();
    ejectedCount++;
    h.multiplier++;
    if (h.multiplier * base > maxTime + base) h.multiplier--;
    return true;
  }

  const panics = (total: number, ejectedInSet: number): boolean =>
    minHealth > 0 && total > 0 && (100 * (total - ejectedInSet)) / total < minHealth;

  return {
    report(id, result) {
      const h = host(id);
      const status = asStatus(result);
      if (status < 500 || status > 599) {
        h.consecutive5xx = 0;
        h.consecutiveGateway = 0;
        return false;
      }
      let ejected = false;
      if (status >= 502 && status <= 504) {
        if (++h.consecutiveGateway === thresholdGateway && thresholdGateway > 0) {
          ejected = h.ejectedAt === undefined && eject(h);
          h.consecutiveGateway = 0;
        }
      } else {
        h.consecutiveGateway = 0;
      }
      if (++h.consecutive5xx === threshold5xx && threshold5xx > 0) {
        ejected = (h.ejectedAt === undefined && eject(h)) || ejected;
        h.consecutive5xx = 0;
      }
      return ejected;
    },
    isEjected(id) {
      const h = hosts.get(id);
      if (h?.ejectedAt === undefined) return false;
      return !panics(hosts.size, ejectedCount);
    },
    tick() {
      const t = now();
      const returned: string[] = [];
      for (const [id, h] of hosts) {
        if (h.ejectedAt === undefined) {
          if (h.returnedAt !== undefined && t - h.returnedAt >= cfg.intervalMs && h.multiplier > 0) h.multiplier--;
          continue;
        }
        if (t - h.ejectedAt >= Math.min(base * h.multiplier, maxTime)) {
          h.ejectedAt = undefined;
          h.returnedAt = t;
          // Fresh counters, so a returning host is not re-ejected by a few errors left over from before.
          h.consecutive5xx = 0;
          h.consecutiveGateway = 0;
          ejectedCount--;
          returned.push(id);
        }
      }
      return returned;
    },
    ejected() {
      return [...hosts].filter(([, h]) => h.ejectedAt !== undefined).map(([id]) => id);
    },
    setHosts(ids) {
      const keep = new Set(ids);
      for (const [id, h] of hosts) {
        if (keep.has(id)) continue;
        if (h.ejectedAt !== undefined) ejectedCount--;
        hosts.delete(id);
      }
      for (const id of ids) host(id);
    },
    healthy(endpoints) {
      const out = endpoints.filter((e) => hosts.get(e.id)?.ejectedAt === undefined);
      return panics(endpoints.length, endpoints.length - out.length) ? [...endpoints] : out;
    },
  };
}
