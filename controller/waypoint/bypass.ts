// "Only through the waypoint": for every Service bound to a waypoint, a DENY AuthorizationPolicy (synthetic, never
// stored in the API) on the Service's pods for any source that is not the waypoint, on the Service's target ports. It
// goes through the ordinary L4 conversion to ztunnel, so the destination's ztunnel refuses a client that reaches the
// pods directly (pod IP, or from outside the mesh) instead of through the waypoint that applies the L7 policy.
// In Istio the same protection needs a hand-written ALLOW policy, and users are caught by its absence.
//
// Opt out with the annotation `ambient-mesh.io/allow-waypoint-bypass: "true"` on the Service, its namespace or the
// waypoint Gateway.
import type { V1Namespace, V1Service } from '@kubernetes/client-node';
import type { Gateway } from '../ambient/inputs.ts';
import type { PolicyResource } from '../policy/types.ts';

export const ALLOW_BYPASS_ANNOTATION = 'ambient-mesh.io/allow-waypoint-bypass';
/** Marks the synthetic policies, so nothing tries to write their status. */
export const GENERATED_ANNOTATION = 'ambient-mesh.io/generated';

export type BypassPolicy = PolicyResource & { spec: Record<string, unknown> };

const optedOut = (annotations: Record<string, string> | undefined): boolean => annotations?.[ALLOW_BYPASS_ANNOTATION] === 'true';

export function bypassPolicies(
  inputs: ReadonlyArray<{ gateway: Gateway; services: readonly V1Service[] }>,
  o: { trustDomain: string; namespaces: (name: string) => V1Namespace | undefined },
): BypassPolicy[] {
  const out: BypassPolicy[] = [];
  for (const { gateway, services } of inputs) {
    if (optedOut(gateway.metadata?.annotations)) continue;
    const gwNs = gateway.metadata?.namespace ?? '';
    const gwName = gateway.metadata?.name ?? '';
    // The waypoint runs as the service account named after its Gateway (controller/waypoint/deploy/render.ts).
    const principal = `${o.trustDomain}/ns/${gwNs}/sa/${gwName}`;
    for (const s of services) {
      const ns = s.metadata?.namespace ?? '';
      const selector = s.spec?.selector;
      if (!selector || Object.keys(selector).length === 0) continue; // no pods to protect by selector
      if (optedOut(s.metadata?.annotations) || optedOut(o.namespaces(ns)?.metadata?.annotations)) continue;
      const targets = (s.spec?.ports ?? []).map((p) => (p.targetPort === undefined ? p.port : p.targetPort));
      const numeric = targets.every((t) => typeof t === 'number');
      out.push({
        metadata: { namespace: ns, name: `waypoint-only.${s.metadata?.name ?? ''}`, annotations: { [GENERATED_ANNOTATION]: `waypoint ${gwNs}/${gwName}` } },
        spec: {
          selector: { matchLabels: { ...selector } },
          action: 'DENY',
          rules: [{
            from: [{ source: { notPrincipals: [principal] } }],
            ...(numeric && targets.length ? { to: [{ operation: { ports: [...new Set(targets)].map(String) } }] } : {}),
          }],
        },
      });
    }
  }
  return out;
}
