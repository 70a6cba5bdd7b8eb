// Writes the controller's verdicts into the status of the objects they are about, when this replica leads:
// conditions on Istio kinds and our own (ZtunnelAccepted from the L4 conversion, WaypointAccepted / Accepted from
// the waypoint compiler: one object can carry several, so the writer keeps every condition it owns per object and
// writes them together), and `status.parents` on Gateway API routes. The latest state of every object is kept so a
// replica that becomes leader can write it all; a failed write is logged and retried on the next change.
import type { KubeClient } from '../shared/kube/client.ts';
import type { Logger } from '../shared/log.ts';
import { errorMessage } from '../shared/errors.ts';
import { GATEWAY_ROUTE_KINDS } from './waypoint/routes/model.ts';

const KINDS: Record<string, { group: string; version: string; plural: string }> = {
  AuthorizationPolicy: { group: 'security.istio.io', version: 'v1', plural: 'authorizationpolicies' },
  PeerAuthentication: { group: 'security.istio.io', version: 'v1', plural: 'peerauthentications' },
  RequestAuthentication: { group: 'security.istio.io', version: 'v1', plural: 'requestauthentications' },
  ServiceEntry: { group: 'networking.istio.io', version: 'v1', plural: 'serviceentries' },
  WorkloadEntry: { group: 'networking.istio.io', version: 'v1', plural: 'workloadentries' },
  VirtualService: { group: 'networking.istio.io', version: 'v1', plural: 'virtualservices' },
  DestinationRule: { group: 'networking.istio.io', version: 'v1', plural: 'destinationrules' },
  HTTPRoute: { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes' },
  GRPCRoute: { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'grpcroutes' },
  TCPRoute: { group: 'gateway.networking.k8s.io', version: 'v1alpha2', plural: 'tcproutes' },
  HTTPLocalRateLimitPolicy: { group: 'policy.ambient-mesh.io', version: 'v1alpha1', plural: 'httplocalratelimitpolicies' },
};

/** Verdict reasons about a route's references: ResolvedRefs=False with that reason, while the route stays Accepted. */
const REF_REASONS = new Set(['BackendNotFound', 'RefNotPermitted']);
/** Istio's controller name on Gateway API statuses, so tools that look for it find us. */
export const GATEWAY_CONTROLLER_NAME = 'istio.io/gateway-controller';

export interface Verdict {
  kind: string;
  namespace: string;
  name: string;
  generation?: number;
  /** Condition type: ZtunnelAccepted, WaypointAccepted, Accepted. */
  condition: string;
  accepted: boolean;
  reason: string;
  message: string;
}

interface Condition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

export interface StatusWriter {
  record(vs: readonly Verdict[], leader: boolean): void;
  writeAll(): void;
}

export function createStatusWriter(kube: KubeClient, log: Logger): StatusWriter {
  const objects = new Map<string, { kind: string; namespace: string; name: string; conditions: Map<string, Condition> }>();

  const write = async (key: string): Promise<void> => {
    const o = objects.get(key);
    const k = o && KINDS[o.kind];
    if (!o || !k) return;
    const conditions = [...o.conditions.values()];
    const path = `/apis/${k.group}/${k.version}/namespaces/${o.namespace}/${k.plural}/${o.name}`;
    let status: Record<string, unknown> = { conditions };
    if (GATEWAY_ROUTE_KINDS.has(o.kind)) {
      // Gateway API: one entry per parent (the Services the route attaches to), each with Accepted and ResolvedRefs.
      const cur = await kube.get<{ spec?: { parentRefs?: unknown[] } }>(path);
      const c = conditions[0];
      const refs = c !== undefined && REF_REASONS.has(c.reason);
      const resolved: Condition | undefined = c && {
        ...c, type: 'ResolvedRefs',
        status: refs ? 'False' : 'True',
        reason: refs ? c.reason : 'ResolvedRefs',
        message: refs ? c.message : '',
      };
      const accepted: Condition | undefined = c && (refs ? { ...c, status: 'True', reason: 'Accepted', message: '' } : { ...c, type: 'Accepted' });
      status = { parents: (cur.spec?.parentRefs ?? []).map((parentRef) => ({ parentRef, controllerName: GATEWAY_CONTROLLER_NAME, conditions: [accepted, resolved].filter(Boolean) })) };
    }
    await kube.patch(`${path}/status`, { status }, 'merge');
  };
  const writeLogged = (key: string): void => {
    write(key).catch((err: unknown) => log.warn({ object: key, err: errorMessage(err) }, 'cannot write status'));
  };

  return {
    record(vs, leader) {
      const touched = new Set<string>();
      for (const v of vs) {
        const key = `${v.kind}/${v.namespace}/${v.name}`;
        let o = objects.get(key);
        if (!o) objects.set(key, (o = { kind: v.kind, namespace: v.namespace, name: v.name, conditions: new Map() }));
        const status = v.accepted ? 'True' : 'False';
        const prev = o.conditions.get(v.condition);
        o.conditions.set(v.condition, {
          type: v.condition, status, reason: v.reason, message: v.message,
          ...(v.generation !== undefined ? { observedGeneration: v.generation } : {}),
          lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : new Date().toISOString(),
        });
        touched.add(key);
      }
      if (leader) for (const key of touched) writeLogged(key);
    },
    writeAll() {
      for (const key of objects.keys()) writeLogged(key);
    },
  };
}
