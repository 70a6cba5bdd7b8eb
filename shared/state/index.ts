// Face of shared/state: the proxies' xDS state store (XdsState, a StateView with documented indexes), the
// pure lookups it rests on, and the config-dump projection.
export { XdsState } from './store.ts';
export type { StateChange, AddressUpsert, AuthorizationUpsert, ResourceKind } from './store.ts';
export { InvalidResourceError } from './errors.ts';
export { addressProblem, authorizationProblem } from './validate.ts';
export { targetPort, scopeOf, serviceKeyOf } from './lookups.ts';
export type { StateDump, WorkloadDump, ServiceDump, PolicyDump, EndpointDump, GatewayDump } from './dump.ts';
export type * from './types.ts';
export { workloadIdentity, DEFAULT_SERVICE_ACCOUNT, DEFAULT_TRUST_DOMAIN } from './identity.ts';
