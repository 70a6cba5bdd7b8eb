// The waypoint's access log: one pino record per HTTP request, with the fields and key names of Istio's JSON access
// log format (the Envoy default format's fields: start_time, method, path, protocol, response_code, response_flags,
// bytes, duration, upstream_host, x_forwarded_for, user_agent, request_id, authority, ...) plus the peer identities
// (Envoy's %DOWNSTREAM_PEER_URI_SAN% / %UPSTREAM_PEER_URI_SAN%). `accessLogRecord` is the pure formatter; for TCP
// connections, `connectionLogRecord`.
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';

/** What one finished request was, from the waypoint's seat. */
export interface AccessLogFacts extends PeerFacts {
  /** When the first byte of the request arrived (ms since the epoch, or a Date). */
  start: number | Date;
  method: string;
  /** The path as the client sent it (before any rewrite), with its query string. */
  path: string;
  /** `HTTP/1.1`, `HTTP/2`. */
  protocol: string;
  /** The client's request headers (x-forwarded-for, user-agent, x-request-id, :authority/host are read from here). */
  headers: IncomingHttpHeaders;
  /** The x-request-id the waypoint used (it creates one when the client sent none). */
  requestId?: string;
  /** Status sent to the client; 0 when none was. */
  responseCode: number;
  /** Envoy response flags ('-' for none). */
  responseFlags: string;
  /** Why the waypoint answered what it did, Envoy style: `via_upstream`, `route_not_found`, `rbac_access_denied_matched_policy[ns.name]`, ... */
  responseCodeDetails?: string;
  /** Request body bytes received from the client. */
  bytesReceived: number;
  /** Response body bytes sent to the client. */
  bytesSent: number;
  durationMs: number;
  /** Time from sending the request upstream to its response headers (Envoy's x-envoy-upstream-service-time). */
  upstreamServiceTimeMs?: number;
}

/** Where a request or connection came from and went to, as both kinds of record show it. */
export interface PeerFacts {
  /** `ip:port` of the endpoint (the last try's, for a request). */
  upstreamHost?: string;
  /** The destination the request was routed to (`<namespace>/<hostname>`, with `#subset` when one was chosen). */
  upstreamCluster?: string;
  /** Route id (HttpRoute.id), or `default` for the implicit route to the service. */
  routeName?: string;
  /** The client's address as the waypoint saw it (`ip:port` or ip). */
  downstreamRemoteAddress?: string;
  /** The address the client connected to (service VIP or pod, `ip:port`). */
  downstreamLocalAddress?: string;
  /** The client's SPIFFE id. */
  sourcePrincipal?: string;
  /** The upstream's SPIFFE id. */
  destinationPrincipal?: string;
  /** Why the upstream connection failed, when it did. */
  upstreamTransportFailureReason?: string;
}

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(',') : String(v);
}

/** The record's fields; absent values are left out (Envoy's JSON format would print null). */
export function accessLogRecord(f: AccessLogFacts): Record<string, string | number> {
  const r: Record<string, string | number | undefined> = {
    start_time: (f.start instanceof Date ? f.start : new Date(f.start)).toISOString(),
    method: f.method,
    path: f.path,
    protocol: f.protocol,
    response_code: f.responseCode,
    response_flags: f.responseFlags || '-',
    response_code_details: f.responseCodeDetails,
    bytes_received: f.bytesReceived,
    bytes_sent: f.bytesSent,
    duration: Math.round(f.durationMs),
    upstream_service_time: f.upstreamServiceTimeMs === undefined ? undefined : Math.round(f.upstreamServiceTimeMs),
    x_forwarded_for: header(f.headers, 'x-forwarded-for'),
    user_agent: header(f.headers, 'user-agent'),
    request_id: f.requestId ?? header(f.headers, 'x-request-id'),
    authority: header(f.headers, ':authority') ?? header(f.headers, 'host'),
    ...peerFields(f),
  };
  return defined(r);
}

/** What one TCP connection through the waypoint was, for its access-log record. */
export interface ConnectionLogFacts extends PeerFacts {
  start: number | Date;
  durationMs: number;
  /** Envoy response flags ('-' for none). */
  responseFlags: string;
  /** Bytes from the client, and back to it. */
  bytesReceived: number;
  bytesSent: number;
}

/** A TCP connection's record: the request record's keys that apply to a byte stream, with protocol `TCP`. */
export function connectionLogRecord(f: ConnectionLogFacts): Record<string, string | number> {
  return defined({
    start_time: (f.start instanceof Date ? f.start : new Date(f.start)).toISOString(),
    protocol: 'TCP',
    response_flags: f.responseFlags || '-',
    bytes_received: f.bytesReceived,
    bytes_sent: f.bytesSent,
    duration: Math.round(f.durationMs),
    ...peerFields(f),
  });
}

/** The upstream and downstream keys both records share. */
function peerFields(f: PeerFacts): Record<string, string | undefined> {
  return {
    upstream_host: f.upstreamHost,
    upstream_cluster: f.upstreamCluster,
    upstream_transport_failure_reason: f.upstreamTransportFailureReason,
    route_name: f.routeName,
    downstream_remote_address: f.downstreamRemoteAddress,
    downstream_local_address: f.downstreamLocalAddress,
    downstream_peer_uri_san: f.sourcePrincipal,
    upstream_peer_uri_san: f.destinationPrincipal,
  };
}

/** The record without its absent values (Envoy's JSON format would print null). */
function defined(r: Record<string, string | number | undefined>): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const k in r) if (r[k] !== undefined) out[k] = r[k]!;
  return out;
}

/**
 * Write the request's access-log line (info level: every request is logged, as Istio's access log does). With the
 * access log's level above info, the record is not even built.
 */
export function writeAccessLog(log: Logger, f: AccessLogFacts): void {
  if (!log.isLevelEnabled('info')) return;
  log.info(accessLogRecord(f), 'request complete');
}
