// The kinds the mesh controller watches (issue 3: core, discovery, Istio and Gateway API), for
// shared/kube/watch.ts's informers.
import type { WatchedKind } from '../../shared/kube/watch.ts';

export { startWatches, type EventType, type Watches, type WatchedKind } from '../../shared/kube/watch.ts';

const crd = (kind: string, group: string, version: string, plural: string): WatchedKind => ({ kind, path: `/apis/${group}/${version}/${plural}` });

/** The kinds the controller derives from: core, discovery, Istio, Gateway API, and our rate-limit policy. */
export function meshKinds(): WatchedKind[] {
  return [
    { kind: 'Namespace', path: '/api/v1/namespaces' },
    { kind: 'Pod', path: '/api/v1/pods' },
    { kind: 'Service', path: '/api/v1/services' },
    { kind: 'EndpointSlice', path: '/apis/discovery.k8s.io/v1/endpointslices' },
    { kind: 'Node', path: '/api/v1/nodes' },
    { kind: 'ServiceAccount', path: '/api/v1/serviceaccounts' },
    crd('AuthorizationPolicy', 'security.istio.io', 'v1', 'authorizationpolicies'),
    crd('PeerAuthentication', 'security.istio.io', 'v1', 'peerauthentications'),
    crd('RequestAuthentication', 'security.istio.io', 'v1', 'requestauthentications'),
    crd('ServiceEntry', 'networking.istio.io', 'v1', 'serviceentries'),
    crd('WorkloadEntry', 'networking.istio.io', 'v1', 'workloadentries'),
    crd('VirtualService', 'networking.istio.io', 'v1', 'virtualservices'),
    crd('DestinationRule', 'networking.istio.io', 'v1', 'destinationrules'),
    crd('Gateway', 'gateway.networking.k8s.io', 'v1', 'gateways'),
    crd('GatewayClass', 'gateway.networking.k8s.io', 'v1', 'gatewayclasses'),
    crd('HTTPRoute', 'gateway.networking.k8s.io', 'v1', 'httproutes'),
    crd('GRPCRoute', 'gateway.networking.k8s.io', 'v1', 'grpcroutes'),
    crd('TCPRoute', 'gateway.networking.k8s.io', 'v1alpha2', 'tcproutes'),
    crd('HTTPLocalRateLimitPolicy', 'policy.ambient-mesh.io', 'v1alpha1', 'httplocalratelimitpolicies'),
  ];
}
