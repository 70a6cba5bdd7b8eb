// Per destination cluster (service + port + subset) state that outlives a request: the load balancer, the circuit
// breaker and the outlier detector, rebuilt when the cluster's traffic policy changes (breaker counts carry over).
import { createBalancer, type Balancer } from '../upstream/lb.ts';
import { createCircuitBreaker, type CircuitBreaker } from '../upstream/breaker.ts';
import { createOutlierDetector, type OutlierDetector } from '../upstream/outlier.ts';
import type { TrafficPolicy } from '../../shared/waypoint/config.ts';

export interface ClusterState {
  balancer: Balancer;
  breaker: CircuitBreaker;
  outlier?: OutlierDetector;
}

export class ClusterStates {
  readonly #m = new Map<string, { fingerprint: string; state: ClusterState; timer?: NodeJS.Timeout }>();

  get(name: string, policy: TrafficPolicy, hostIds: readonly string[]): ClusterState {
    const fingerprint = JSON.stringify(policy);
    let e = this.#m.get(name);
    if (!e || e.fingerprint !== fingerprint) {
      if (e?.timer) clearInterval(e.timer);
      const breaker = e?.state.breaker ?? createCircuitBreaker(policy.connectionPool);
      if (e) breaker.update(policy.connectionPool);
      const od = policy.outlierDetection;
      const outlier = od ? createOutlierDetector(od) : undefined;
      const timer = outlier ? setInterval(() => outlier.tick(), Math.max(100, od!.intervalMs)) : undefined;
      timer?.unref();
      e = { fingerprint, state: { balancer: createBalancer(policy.loadBalancer), breaker, ...(outlier ? { outlier } : {}) }, ...(timer ? { timer } : {}) };
      this.#m.set(name, e);
    }
    e.state.outlier?.setHosts(hostIds);
    return e.state;
  }

  close(): void {
    for (const e of this.#m.values()) if (e.timer) clearInterval(e.timer);
    this.#m.clear();
  }
}
