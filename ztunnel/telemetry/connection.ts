// Per-connection telemetry with Istio's names: the TCP metrics (istio_tcp_connections_opened_total, _closed_total,
// istio_tcp_sent_bytes_total, istio_tcp_received_bytes_total) labelled as Istio's ztunnel labels them, and one access-log
// record per connection with ztunnel's field names (src.addr, dst.workload, ...). `connectionLabels` is pure.
import { Counter, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { Workload } from '../types.ts';

export type Reporter = 'source' | 'destination';

/** What one proxied connection was, as far as the reporting side knows it. */
export interface ConnectionFacts {
  reporter: Reporter;
  direction: 'outbound' | 'inbound';
  srcAddr: string;
  dstAddr: string;
  /** `ip:15008` when the connection travelled over HBONE. */
  hboneAddr?: string;
  srcWorkload?: Workload;
  dstWorkload?: Workload;
  srcIdentity?: string;
  dstIdentity?: string;
  /** Destination Service hostname (e.g. echo.demo.svc.cluster.local). */
  dstService?: { hostname: string; name: string; namespace: string };
  mtls: boolean;
}

export const LABEL_NAMES = [
  'reporter', 'source_workload', 'source_workload_namespace', 'source_principal', 'source_app', 'source_version', 'source_cluster',
  'destination_service', 'destination_service_namespace', 'destination_service_name',
  'destination_workload', 'destination_workload_namespace', 'destination_principal', 'destination_app', 'destination_version',
  'destination_cluster', 'request_protocol', 'response_flags', 'connection_security_policy',
] as const;
export type LabelName = (typeof LABEL_NAMES)[number];

const UNKNOWN = 'unknown';

/** Istio's principal label form: the SPIFFE id, or unknown. */
function principal(id: string | undefined): string {
  return id ?? UNKNOWN;
}

export function connectionLabels(f: ConnectionFacts, responseFlags = '-'): Record<LabelName, string> {
  const s = f.srcWorkload;
  const d = f.dstWorkload;
  return {
    reporter: f.reporter,
    source_workload: s?.workloadName || s?.name || UNKNOWN,
    source_workload_namespace: s?.namespace || UNKNOWN,
    source_principal: principal(f.srcIdentity),
    source_app: s?.canonicalName || UNKNOWN,
    source_version: s?.canonicalRevision || UNKNOWN,
    source_cluster: s?.clusterId || UNKNOWN,
    destination_service: f.dstService?.hostname ?? UNKNOWN,
    destination_service_namespace: f.dstService?.namespace ?? UNKNOWN,
    destination_service_name: f.dstService?.name ?? UNKNOWN,
    destination_workload: d?.workloadName || d?.name || UNKNOWN,
    destination_workload_namespace: d?.namespace || UNKNOWN,
    destination_principal: principal(f.dstIdentity),
    destination_app: d?.canonicalName || UNKNOWN,
    destination_version: d?.canonicalRevision || UNKNOWN,
    destination_cluster: d?.clusterId || UNKNOWN,
    request_protocol: 'tcp',
    response_flags: responseFlags,
    connection_security_policy: f.mtls ? 'mutual_tls' : 'unknown',
  };
}

export interface ConnectionMetrics {
  opened: Counter<LabelName>;
  closed: Counter<LabelName>;
  sent: Counter<LabelName>;
  received: Counter<LabelName>;
}

export function connectionMetrics(registry: Registry): ConnectionMetrics {
  const labelNames = [...LABEL_NAMES];
  const registers = [registry];
  return {
    opened: new Counter({ name: 'istio_tcp_connections_opened_total', help: 'The total number of TCP connections opened', labelNames, registers }),
    closed: new Counter({ name: 'istio_tcp_connections_closed_total', help: 'The total number of TCP connections closed', labelNames, registers }),
    sent: new Counter({ name: 'istio_tcp_sent_bytes_total', help: 'The size of total bytes sent during response in case of a TCP connection', labelNames, registers }),
    received: new Counter({ name: 'istio_tcp_received_bytes_total', help: 'The size of total bytes received during request in case of a TCP connection', labelNames, registers }),
  };
}

/** The outcome of a connection once it is over. */
export interface ConnectionOutcome {
  /** Bytes from the client towards the server ("received" by the server side, Istio's request direction). */
  bytesFromClient: number;
  bytesToClient: number;
  durationMs: number;
  /** Why it ended early or was refused; undefined for a normal close. */
  error?: { code: string; message: string };
  /** Policy decision at the destination, when one was taken. */
  verdict?: { allowed: boolean; policy?: string; reason: string };
}

/** Tracks one connection: counts it opened now, and on `close` counts bytes, closes it and writes the access log. */
export class ConnectionTelemetry {
  private readonly labels: Record<LabelName, string>;
  private readonly started = performance.now();
  private readonly facts: ConnectionFacts;
  private readonly metrics: ConnectionMetrics;
  private readonly log: Logger;
  private done = false;

  constructor(facts: ConnectionFacts, metrics: ConnectionMetrics, log: Logger) {
    this.facts = facts;
    this.metrics = metrics;
    this.log = log;
    this.labels = connectionLabels(facts);
    metrics.opened.inc(this.labels);
  }

  close(o: Omit<ConnectionOutcome, 'durationMs'>): void {
    if (this.done) return;
    this.done = true;
    const durationMs = Math.round((performance.now() - this.started) * 10) / 10;
    const labels = o.error ? { ...this.labels, response_flags: o.error.code } : this.labels;
    this.metrics.closed.inc(labels);
    // Istio counts "received" as bytes from the client (request direction), "sent" as bytes back to it.
    this.metrics.received.inc(labels, o.bytesFromClient);
    this.metrics.sent.inc(labels, o.bytesToClient);
    const f = this.facts;
    this.log[o.error ? 'warn' : 'info']({
      'src.addr': f.srcAddr,
      'src.workload': f.srcWorkload?.name,
      'src.namespace': f.srcWorkload?.namespace,
      'src.identity': f.srcIdentity,
      'dst.addr': f.dstAddr,
      'dst.hbone_addr': f.hboneAddr,
      'dst.service': f.dstService?.hostname,
      'dst.workload': f.dstWorkload?.name,
      'dst.namespace': f.dstWorkload?.namespace,
      'dst.identity': f.dstIdentity,
      direction: f.direction,
      // From ztunnel's seat on either side: sent = towards the destination, received = back from it.
      bytes_sent: o.bytesFromClient,
      bytes_recv: o.bytesToClient,
      duration: `${durationMs}ms`,
      ...(o.verdict ? { 'policy.allowed': o.verdict.allowed, 'policy.name': o.verdict.policy, 'policy.reason': o.verdict.reason } : {}),
      ...(o.error ? { error: o.error.message, 'error.code': o.error.code } : {}),
    }, o.error ? 'connection failed' : 'connection complete');
  }
}
