// Contracts shared by the waypoint's folders: the request as the pure decisions see it (route/, authz/, authn/,
// ratelimit/) — built once per request by the proxy from the HTTP request and its HBONE tunnel.
import type { IncomingHttpHeaders } from 'node:http';
import type { ServiceKeyText } from '../shared/waypoint/config.ts';

export type { ServiceKeyText };

/** Who sent the request, as the waypoint knows it from the HBONE tunnel. */
export interface RequestSource {
  /** The client's SPIFFE id (`spiffe://td/ns/x/sa/y`) from its certificate; absent for plaintext. */
  principal?: string;
  /** The namespace part of `principal`. */
  namespace?: string;
  /** Original client IP (HBONE `Forwarded: for=`, else the tunnel peer). */
  ip: string;
  /** The tunnel peer's IP (the source ztunnel / pod). */
  remoteIp: string;
  /** The client workload's uid, when `ip` is a workload in the mesh state. */
  workload?: string;
}

/** The result of request authentication (RequestAuthentication), when a valid JWT was presented. */
export interface RequestAuth {
  /** `<iss>/<sub>`, Istio's request principal. */
  principal: string;
  claims: Record<string, unknown>;
}

export interface RequestInfo {
  /** Upper-case. */
  method: string;
  /** Path without the query string, as received (not normalised). */
  path: string;
  /** The raw query string without `?` ('' when none). */
  query: string;
  /** Host / :authority. */
  authority: string;
  /** Lower-case names, as Node presents them. */
  headers: IncomingHttpHeaders;
  /** True for gRPC (content-type application/grpc*). */
  grpc: boolean;
  source: RequestSource;
  destination: {
    /** The Service addressed (CONNECT to its VIP), when it was a Service. */
    service?: ServiceKeyText;
    /** The workload uid addressed (CONNECT to a pod IP), when it was a workload. */
    workload?: string;
    ip: string;
    port: number;
  };
  auth?: RequestAuth;
}
