// Face of shared/xds: the delta ADS client that keeps the proxies' stores in step with the control plane, the
// subscriptions for an XdsState, and the pure protocol pieces (node id, requests, response decoding, backoff).
export { startXdsClient } from './client.ts';
export type { XdsClient, XdsClientOptions, XdsClientDump, XdsTypeDump, XdsSubscription } from './client.ts';
export { addressSubscription, authorizationSubscription, stateSubscriptions } from './state-subscriptions.ts';
export {
  ztunnelNodeId, nodeMessage, initialRequest, ackRequest, nackRequest, decodeResponse, decodeResource, responseResources,
  backoffDelay, DEFAULT_BACKOFF, SUBSCRIBED_TYPES,
} from './protocol.ts';
export type { XdsNode, Backoff, DecodedResponse, RawResource } from './protocol.ts';
export { XdsClosedError, XdsInvalidResponseError } from './errors.ts';
