// Authorization: which identity may the caller get? By default its own. A node proxy (ztunnel) may impersonate
// a service account, but only one that has a pod on the node the proxy's own pod runs on (Istio's node authorizer).
// `decide` is pure; `nodePodsLookup` reads the pods from the Kubernetes API.
import type { V1Pod } from '@kubernetes/client-node';
import { isNotFound, type KubeClient } from '../../shared/kube/client.ts';
import { apiUnavailable, permissionDenied } from './errors.ts';
import { parseSpiffeId, sameServiceAccount, spiffeId, type ServiceAccountRef, type SpiffeId } from './identity.ts';
import type { Caller } from './authn.ts';

export type Decision =
  | { kind: 'self'; identity: SpiffeId; sa: ServiceAccountRef }
  | { kind: 'impersonate'; identity: SpiffeId; sa: ServiceAccountRef }
  | { kind: 'deny'; reason: string };

/** Step 1 (no API reads): is the request its own identity, a candidate impersonation, or refused outright? */
export function decide(caller: Caller, requested: string | undefined, trustDomain: string, nodeProxies: ServiceAccountRef[]): Decision {
  const own = spiffeId(trustDomain, caller);
  if (!requested || requested === own) return { kind: 'self', identity: own, sa: caller };
  const parsed = parseSpiffeId(requested);
  if (!parsed) return { kind: 'deny', reason: `impersonated identity "${requested}" is not a spiffe://<trust-domain>/ns/<ns>/sa/<sa> id` };
  if (parsed.trustDomain !== trustDomain) return { kind: 'deny', reason: `impersonated identity "${requested}" is outside trust domain ${trustDomain}` };
  if (!nodeProxies.some((p) => sameServiceAccount(p, caller))) {
    return { kind: 'deny', reason: `${caller.namespace}/${caller.serviceAccount} may only request its own identity ${own}, not ${requested}; only node proxies may impersonate` };
  }
  if (!caller.pod) return { kind: 'deny', reason: `node proxy token is not bound to a pod, so its node is unknown; use a pod-bound (projected) token to impersonate ${requested}` };
  return { kind: 'impersonate', identity: requested as SpiffeId, sa: parsed.sa };
}

/** Step 2 (pure): given the pods on the proxy's node, may it impersonate `target`? */
export function hasPodOnNode(podsOnNode: Pick<V1Pod, 'metadata' | 'spec'>[], target: ServiceAccountRef): boolean {
  return podsOnNode.some((p) => p.metadata?.namespace === target.namespace && (p.spec?.serviceAccountName || 'default') === target.serviceAccount);
}

export interface NodeLookup {
  /** Node of the caller's pod; throws PERMISSION_DENIED if the pod is gone, replaced or unscheduled. */
  nodeOf(namespace: string, pod: { name: string; uid: string }): Promise<string>;
  podsOn(node: string): Promise<V1Pod[]>;
}

export function apiNodeLookup(kube: KubeClient): NodeLookup {
  return {
    async nodeOf(namespace, pod) {
      let p: V1Pod;
      try {
        p = await kube.get<V1Pod>(`/api/v1/namespaces/${namespace}/pods/${pod.name}`);
      } catch (err) {
        if (isNotFound(err)) throw permissionDenied(`caller pod ${namespace}/${pod.name} no longer exists`);
        throw apiUnavailable(`cannot read caller pod ${namespace}/${pod.name}: ${(err as Error).message}`, err);
      }
      if (p.metadata?.uid !== pod.uid) throw permissionDenied(`caller pod ${namespace}/${pod.name} was replaced (uid ${p.metadata?.uid}, token bound to ${pod.uid})`);
      if (!p.spec?.nodeName) throw permissionDenied(`caller pod ${namespace}/${pod.name} is not scheduled to a node`);
      return p.spec.nodeName;
    },
    async podsOn(node) {
      try {
        return (await kube.list<V1Pod>('/api/v1/pods', { fieldSelector: `spec.nodeName=${node}` })).items;
      } catch (err) {
        throw apiUnavailable(`cannot list pods on node ${node}: ${(err as Error).message}`, err);
      }
    },
  };
}

/** Full check: the identity the certificate is for, or a PERMISSION_DENIED error. */
export async function authorize(caller: Caller, requested: string | undefined, trustDomain: string, nodeProxies: ServiceAccountRef[], lookup: NodeLookup): Promise<SpiffeId> {
  const d = decide(caller, requested, trustDomain, nodeProxies);
  if (d.kind === 'deny') throw permissionDenied(d.reason);
  if (d.kind === 'self') return d.identity;
  const node = await lookup.nodeOf(caller.namespace, caller.pod!);
  if (!hasPodOnNode(await lookup.podsOn(node), d.sa)) {
    throw permissionDenied(`node proxy on ${node} may not impersonate ${d.identity}: service account ${d.sa.namespace}/${d.sa.serviceAccount} has no pod on ${node}`);
  }
  return d.identity;
}
