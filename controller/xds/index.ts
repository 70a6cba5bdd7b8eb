// Face of controller/xds: the delta ADS server (store + pure protocol state + gRPC I/O + metrics).
export { createDeltaAds, startXdsServer } from './server.ts';
export type { DeltaAds, DeltaAdsOptions, AdsCall, AdsClientIdentity, ConnectedClient, XdsServer, XdsServerOptions } from './server.ts';
export { ResourceStore, resourceVersion } from './store.ts';
export type { ResourceUpsert, StoredResource } from './store.ts';
export { applyRequest, planResponse, markSent, initialTypeState, WILDCARD } from './state.ts';
export type { TypeState, TypeRequest, RequestOutcome, ResponsePlan, InFlight } from './state.ts';
export { metricType } from './metrics.ts';
export { XdsUnauthenticatedError } from './errors.ts';
