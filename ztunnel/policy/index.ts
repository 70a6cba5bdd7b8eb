// ztunnel/policy: the L4 authorization verdict (pure), Istio ztunnel's semantics over istio.security.Authorization.
export { authorize, policyKey, policyMatches, type AuthzConnection, type Verdict } from './authorize.ts';
