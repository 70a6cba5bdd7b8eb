// The waypoint's TCP metrics for tunnels it proxies as TCP (a Service port that is not HTTP): Istio's
// istio_tcp_connections_opened_total, _closed_total, istio_tcp_sent_bytes_total and istio_tcp_received_bytes_total,
// reporter="waypoint", with the labels Istio's waypoint gives them (the request label set without response_code and
// grpc_response_status; request_protocol="tcp"), and one access-log record per connection. `tcpLabels` is pure.
import { Counter, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import { REQUEST_LABEL_NAMES, requestLabels, type RequestFacts } from './metrics.ts';
import { connectionLogRecord } from './accesslog.ts';

export const TCP_LABEL_NAMES = REQUEST_LABEL_NAMES.filter((n) => n !== 'response_code' && n !== 'grpc_response_status');
export type TcpLabelName = (typeof TCP_LABEL_NAMES)[number];

/** What the waypoint knows about one TCP connection (the request facts that apply to a byte stream). */
export type TcpFacts = Omit<RequestFacts, 'grpc' | 'responseCode' | 'grpcStatus'>;

export function tcpLabels(f: TcpFacts): Record<TcpLabelName, string> {
  const all = requestLabels({ ...f, grpc: false, responseCode: 0 });
  const out = {} as Record<TcpLabelName, string>;
  for (const n of TCP_LABEL_NAMES) out[n] = all[n];
  out.request_protocol = 'tcp';
  return out;
}

/** How a connection ended. Bytes are counted in Istio's direction: received = from the client, sent = back to it. */
export interface TcpOutcome {
  bytesFromClient: number;
  bytesToClient: number;
  /** Envoy response flags ('-' for none), e.g. UH (no healthy upstream), UF (upstream connect failure). */
  responseFlags: string;
  /** `ip:port` of the endpoint, when one was chosen. */
  upstreamHost?: string;
  /** The destination the connection was routed to (`<namespace>/<hostname>`, `#subset` when chosen). */
  upstreamCluster?: string;
  routeName?: string;
  /** Why it failed, when it did. */
  failure?: string;
}

export interface TcpConnection {
  /** Count the close and write the access-log record; later calls do nothing. */
  close(facts: TcpFacts, o: TcpOutcome): void;
}

export interface TcpConnectionInfo {
  /** The client's address as the waypoint saw it. */
  downstreamRemoteAddress: string;
  /** The address the client connected to (service VIP or pod, `ip:port`). */
  downstreamLocalAddress: string;
}

export class TcpMetrics {
  readonly #opened: Counter<TcpLabelName>;
  readonly #closed: Counter<TcpLabelName>;
  readonly #sent: Counter<TcpLabelName>;
  readonly #received: Counter<TcpLabelName>;
  readonly #log: Logger;

  constructor(registry: Registry, accessLog: Logger) {
    const labelNames = [...TCP_LABEL_NAMES];
    const registers = [registry];
    this.#opened = new Counter({ name: 'istio_tcp_connections_opened_total', help: 'The total number of TCP connections opened', labelNames, registers });
    this.#closed = new Counter({ name: 'istio_tcp_connections_closed_total', help: 'The total number of TCP connections closed', labelNames, registers });
    this.#sent = new Counter({ name: 'istio_tcp_sent_bytes_total', help: 'The size of total bytes sent during response in case of a TCP connection', labelNames, registers });
    this.#received = new Counter({ name: 'istio_tcp_received_bytes_total', help: 'The size of total bytes received during request in case of a TCP connection', labelNames, registers });
    this.#log = accessLog;
  }

  /**
   * Count a connection opened. Its labels at open know only the client and the service (as Envoy's, whose stats
   * filter has no upstream yet); the close carries the endpoint and the flags.
   */
  open(facts: TcpFacts, info: TcpConnectionInfo): TcpConnection {
    const start = Date.now();
    const t0 = performance.now();
    this.#opened.inc(tcpLabels(facts));
    let done = false;
    return {
      close: (f, o) => {
        if (done) return;
        done = true;
        const labels = tcpLabels({ ...f, responseFlags: o.responseFlags });
        this.#closed.inc(labels);
        this.#received.inc(labels, o.bytesFromClient);
        this.#sent.inc(labels, o.bytesToClient);
        if (!this.#log.isLevelEnabled('info')) return;
        this.#log.info(connectionLogRecord({
          start, durationMs: performance.now() - t0, responseFlags: o.responseFlags,
          bytesReceived: o.bytesFromClient, bytesSent: o.bytesToClient,
          upstreamHost: o.upstreamHost, upstreamCluster: o.upstreamCluster, upstreamTransportFailureReason: o.failure, routeName: o.routeName,
          downstreamRemoteAddress: info.downstreamRemoteAddress, downstreamLocalAddress: info.downstreamLocalAddress,
          sourcePrincipal: f.srcPrincipal, destinationPrincipal: f.dstPrincipal,
        }), 'connection complete');
      },
    };
  }
}
