// The kinds the mesh controller watches (issue 3: core, discovery, Istio and Gateway API), for
// shared/kube/watch.ts's informers.
import { CoreV1Api, DiscoveryV1Api, CustomObjectsApi, type KubeConfig, type KubernetesObject, type KubernetesListObject } from '@kubernetes/client-node';
import type { WatchedKind } from '../../shared/kube/watch.ts';

export { startWatches, type EventType, type Watches, type WatchedKind } from '../../shared/kube/watch.ts';

function crd(kc: KubeConfig, kind: string, group: string, version: string, plural: string): WatchedKind {
  const api = kc.makeApiClient(CustomObjectsApi);
  return {
    kind,
    path: `/apis/${group}/${version}/${plural}`,
    list: async () => (await api.listClusterCustomObject({ group, version, plural })) as KubernetesListObject<KubernetesObject>,
  };
}

/** The kinds the controller derives from: core, discovery, Istio, Gateway API, and our rate-limit policy. */
export function meshKinds(kc: KubeConfig): WatchedKind[] {
  const core = kc.makeApiClient(CoreV1Api);
  const disc = kc.makeApiClient(DiscoveryV1Api);
  const k = (kind: string, path: string, list: () => Promise<any>): WatchedKind => ({ kind, path, list });
  return [
    k('Namespace', '/api/v1/namespaces', () => core.listNamespace()),
    k('Pod', '/api/v1/pods', () => core.listPodForAllNamespaces()),
    k('Service', '/api/v1/services', () => core.listServiceForAllNamespaces()),
    k('EndpointSlice', '/apis/discovery.k8s.io/v1/endpointslices', () => disc.listEndpointSliceForAllNamespaces()),
    k('Node', '/api/v1/nodes', () => core.listNode()),
    k('ServiceAccount', '/api/v1/serviceaccounts', () => core.listServiceAccountForAllNamespaces()),
    crd(kc, 'AuthorizationPolicy', 'security.istio.io', 'v1', 'authorizationpolicies'),
    crd(kc, 'PeerAuthentication', 'security.istio.io', 'v1', 'peerauthentications'),
    crd(kc, 'RequestAuthentication', 'security.istio.io', 'v1', 'requestauthentications'),
    crd(kc, 'ServiceEntry', 'networking.istio.io', 'v1', 'serviceentries'),
    crd(kc, 'WorkloadEntry', 'networking.istio.io', 'v1', 'workloadentries'),
    crd(kc, 'VirtualService', 'networking.istio.io', 'v1', 'virtualservices'),
    crd(kc, 'DestinationRule', 'networking.istio.io', 'v1', 'destinationrules'),
    crd(kc, 'Gateway', 'gateway.networking.k8s.io', 'v1', 'gateways'),
    crd(kc, 'GatewayClass', 'gateway.networking.k8s.io', 'v1', 'gatewayclasses'),
    crd(kc, 'HTTPRoute', 'gateway.networking.k8s.io', 'v1', 'httproutes'),
    crd(kc, 'GRPCRoute', 'gateway.networking.k8s.io', 'v1', 'grpcroutes'),
    crd(kc, 'TCPRoute', 'gateway.networking.k8s.io', 'v1alpha2', 'tcproutes'),
    crd(kc, 'HTTPLocalRateLimitPolicy', 'policy.ambient-mesh.io', 'v1alpha1', 'httplocalratelimitpolicies'),
  ];
}

