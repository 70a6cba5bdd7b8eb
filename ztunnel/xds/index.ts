// Face of ztunnel/xds: the delta ADS client that keeps an XdsState in step with the control plane, and the pure
// protocol pieces (node id, requests, response decoding, backoff) it is built from.
export { startXdsClient } from './client.ts';
export type { XdsClient, XdsClientOptions, XdsClientDump, XdsTypeDump } from './client.ts';
export { ztunnelNodeId, nodeMessage, initialRequest, ackRequest, nackRequest, decodeResponse, backoffDelay, DEFAULT_BACKOFF, SUBSCRIBED_TYPES } from './protocol.ts';
export type { XdsNode, Backoff, DecodedResponse } from './protocol.ts';
export { XdsClosedError, XdsInvalidResponseError } from './errors.ts';
