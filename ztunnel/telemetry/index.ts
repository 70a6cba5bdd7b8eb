// ztunnel/telemetry: Istio-named TCP metrics and the per-connection access log.
export {
  ConnectionTelemetry, connectionLabels, connectionMetrics, LABEL_NAMES,
  type ConnectionFacts, type ConnectionMetrics, type ConnectionOutcome, type LabelName, type Reporter,
} from './connection.ts';
