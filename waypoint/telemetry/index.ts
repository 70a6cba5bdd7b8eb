// waypoint/telemetry: the L7 request metrics with Istio's names and labels, the TCP metrics for tunnels proxied as
// TCP, the per-request access log, and trace-context header propagation.
export {
  REQUEST_LABEL_NAMES, DURATION_BUCKETS_MS, BYTES_BUCKETS, RESPONSE_FLAGS,
  formatResponseFlags, serviceLabels, requestLabels, requestMetrics, RequestMetrics,
  type RequestLabelName, type RequestLabels, type RequestFacts, type RequestValues, type ResponseFlag,
} from './metrics.ts';
export { TCP_LABEL_NAMES, tcpLabels, TcpMetrics, type TcpFacts, type TcpOutcome, type TcpConnection } from './tcp.ts';
export { accessLogRecord, connectionLogRecord, writeAccessLog, type AccessLogFacts, type ConnectionLogFacts, type PeerFacts } from './accesslog.ts';
export { traceHeaders, parseTraceparent, parseB3Single, parseB3Multi, type TraceHeaders, type TraceOptions } from './trace.ts';
