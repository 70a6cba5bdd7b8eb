// The waypoint's upstream layer: choosing an endpoint (lb), admitting the request (breaker), keeping failing
// endpoints out (outlier), and sending HTTP/1.1 or h2c over a tunnel stream (dispatcher). Per destination cluster
// (`clusterKey`) the proxy keeps one Balancer, one CircuitBreaker and one OutlierDetector; Upstreams is shared.
//
// Life of a request: hashKeyFor → outlier.healthy(endpoints) → balancer.pick → breaker.admit → upstreams.request →
// outlier.report(status | failure kind) → admission.release() when the response body ends or fails.
export type { EndpointRef, UpstreamProtocol } from './types.ts';
export { createBalancer, hashKeyFor, DEFAULT_SIMPLE_LB, type Balancer, type PickContext, type HashRequest, type HashKey } from './lb.ts';
export {
  createCircuitBreaker, createBreakerState, breakerLimits, clusterKey, overflowReply, UNLIMITED,
  type CircuitBreaker, type Admission, type BreakerLimits, type BreakerStats, type OverflowReason,
} from './breaker.ts';
export { createOutlierDetector, type OutlierDetector, type OutlierResult } from './outlier.ts';
export { createUpstreams, type Upstreams, type UpstreamRequest, type UpstreamResponse, type ConnectFn, type UpstreamsOptions } from './dispatcher.ts';
export * from './errors.ts';
