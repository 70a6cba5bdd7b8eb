// Face of controller/policy: AuthorizationPolicy and PeerAuthentication → istio.security.Authorization
// for ztunnel (L4), following Istio's ambient conversion. Pure functions; none throws: a bad
// resource yields `status.accepted: false` with reason `Invalid` and a message naming the field.
//
// Status reasons: `Accepted` (enforced as written), `UnsupportedValue` (AUDIT/CUSTOM: not enforced;
// or L7 attributes: enforced more restrictively — authorization is still present), `NotForZtunnel`
// (targetRefs, or a selector PeerAuthentication in the root namespace: nothing for ztunnel),
// `Invalid`. The lead writes it as the `ZtunnelAccepted` condition (status = accepted).
//
// Publishing: push every `authorization` under its `resourceName` (`<namespace>/<name>`), plus
// `staticStrictPolicy()` whenever any PeerAuthentication exists (as Istio does); list
// `policiesForWorkload(...)` as each Workload's `authorizationPolicies`.

export { convertAuthorizationPolicy, DRY_RUN_ANNOTATION } from './authorization-policy.ts';
export {
  convertPeerAuthentication, staticStrictPolicy, peerAuthenticationPoliciesForWorkload,
  STATIC_STRICT_POLICY_NAME, CONVERTED_PEER_AUTHENTICATION_PREFIX,
} from './peer-authentication.ts';
export type { PeerAuthenticationOptions } from './peer-authentication.ts';
export { policiesForWorkload } from './select.ts';
export type { WorkloadPolicies } from './select.ts';
export { PolicyInvalidError } from './errors.ts';
export type {
  Authorization, Rule, Clause, Match, StringMatch, Address, Scope, Action,
  PolicyResource, PolicyStatus, Conversion, ConvertOptions,
} from './types.ts';
export { DEFAULT_ROOT_NAMESPACE } from './types.ts';
