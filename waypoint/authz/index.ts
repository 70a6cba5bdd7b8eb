// Face of waypoint/authz: L7 AuthorizationPolicy evaluation for one request (pure; no I/O). The proxy calls
// authorizeRequest after request authentication (RequestInfo.auth set) and before routing; a denial is answered
// 403 `RBAC: access denied` (Envoy's body), and `policy`, `audited`, `dryRunDenied` go to the access log.

export { authorizeRequest, policyApplies, policyMatches, isSupportedConditionKey } from './evaluate.ts';
export type { AuthzResult } from './evaluate.ts';
export { normalizePath, isPathTemplate, MATCH_ONE_TEMPLATE, MATCH_ANY_TEMPLATE } from './match.ts';
