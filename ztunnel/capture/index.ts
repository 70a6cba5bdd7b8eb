// capture: in-pod traffic capture for ztunnel's in-pod mode. Renders the nft rules and policy routing
// that send a pod's traffic to ztunnel's listeners inside the pod's network namespace (15001 outbound,
// 15006 inbound plaintext, 15008 HBONE reached directly, 15053 DNS), applies and releases them, reads
// the per-pod exclusion annotations, and finds a pod's network namespace from its IP.
export {
  renderPodRules, type PodRulesOptions,
  TABLE_FAMILY, TABLE_NAME, MARK_MASK, CONN_MARK, ROUTE_TABLE, RULE_PRIORITY,
} from './rules.ts';
export {
  parseCaptureAnnotations, type CaptureExclusions,
  EXCLUDE_INBOUND_PORTS, EXCLUDE_OUTBOUND_PORTS, EXCLUDE_OUTBOUND_IP_RANGES,
} from './annotations.ts';
export { capturePod, releasePod, isCaptured } from './capture.ts';
export { findPodNetns } from './netns.ts';
export {
  CaptureBadConfigError, CaptureFailedError, CaptureInspectFailedError, CaptureNetnsMissingError,
  CaptureReleaseFailedError, CaptureToolMissingError,
} from './errors.ts';
