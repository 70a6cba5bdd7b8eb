// Contracts of the waypoint's upstream layer (load balancing, circuit breaking, outlier detection, dispatch):
// the endpoint as the layer sees it and the upstream protocols it speaks.

/** One endpoint (pod) of a destination cluster. */
export interface EndpointRef {
  /** `<workload uid>:<ip>:<port>`: stable while the pod lives; the key of every per-endpoint state here. */
  id: string;
  ip: string;
  port: number;
  /** Relative load-balancing weight; absent: 1. */
  weight?: number;
}

/** How the waypoint speaks to the app inside the tunnel: HTTP/1.1, or HTTP/2 with prior knowledge (gRPC). */
export type UpstreamProtocol = 'http1' | 'h2c';
