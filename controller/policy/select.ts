// Owns which policies a Workload lists in `authorizationPolicies` (Istio's buildWorkloadPolicies):
// the WORKLOAD_SELECTOR AuthorizationPolicies of its namespace or the root namespace whose selector
// matches its labels (sorted), then the PeerAuthentication-derived names. NAMESPACE and GLOBAL
// policies are never listed: ztunnel applies them by scope.

import { convertAuthorizationPolicy, authorizationPolicySelector } from './authorization-policy.ts';
import { peerAuthenticationPoliciesForWorkload } from './peer-authentication.ts';
import type { ConvertOptions, PolicyResource } from './types.ts';
import { DEFAULT_ROOT_NAMESPACE } from './types.ts';
import { selects } from './values.ts';

export interface WorkloadPolicies {
  authorizationPolicies?: readonly PolicyResource[];
  peerAuthentications?: readonly PolicyResource[];
}

export function policiesForWorkload(
  workloadLabels: Readonly<Record<string, string>>,
  namespace: string,
  policies: WorkloadPolicies,
  opts: ConvertOptions = {},
): string[] {
  const rootNamespace = opts.rootNamespace ?? DEFAULT_ROOT_NAMESPACE;
  const names: string[] = [];
  for (const ap of policies.authorizationPolicies ?? []) {
    const ns = ap.metadata?.namespace;
    if (ns !== namespace && ns !== rootNamespace) continue;
    const selector = authorizationPolicySelector(ap);
    if (selector === undefined || !selects(selector, workloadLabels)) continue;
    const { authorization, resourceName } = convertAuthorizationPolicy(ap, { ...opts, rootNamespace });
    if (authorization?.scope === 'WORKLOAD_SELECTOR' && resourceName) names.push(resourceName);
  }
  names.sort();
  return [...names, ...peerAuthenticationPoliciesForWorkload(workloadLabels, namespace, policies.peerAuthentications ?? [], { rootNamespace })];
}
