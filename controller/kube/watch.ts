// The kinds the mesh controller watches (issue 3: core, discovery, Istio and Gateway API), for
// shared/kube/watch.ts's informers.
import type { WatchedKind } from '../../shared/kube/watch.ts';

export { startWatches, type EventType, type Watches, type WatchedKind } from '../../shared/kube/watch.ts';

/** Custom resources of one API group and version, by kind → plural. */
const group = (name: string, version: string, plurals: Record<string, string>): WatchedKind[] =>
  Object.entries(plurals).map(([kind, plural]) => ({ kind, path: `/apis/${name}/${version}/${plural}` }));

/** The kinds the controller derives from: core, discovery, Istio, Gateway API, and our rate-limit policy. */
export function meshKinds(): WatchedKind[] {
  return [
    { kind: 'Namespace', path: '/api/v1/namespaces' },
    { kind: 'Pod', path: '/api/v1/pods' },
    { kind: 'Service', path: '/api/v1/services' },
    { kind: 'EndpointSlice', path: '/apis/discovery.k8s.io/v1/endpointslices' },
    { kind: 'Node', path: '/api/v1/nodes' },
    { kind: 'ServiceAccount', path: '/api/v1/serviceaccounts' },
    ...group('security.istio.io', 'v1', {
      AuthorizationPolicy: 'authorizationpolicies', PeerAuthentication: 'peerauthentications', RequestAuthentication: 'requestauthentications',
    }),
    ...group('networking.istio.io', 'v1', {
      ServiceEntry: 'serviceentries', WorkloadEntry: 'workloadentries', VirtualService: 'virtualservices', DestinationRule: 'destinationrules',
    }),
    ...group('gateway.networking.k8s.io', 'v1', { Gateway: 'gateways', GatewayClass: 'gatewayclasses', HTTPRoute: 'httproutes', GRPCRoute: 'grpcroutes' }),
    ...group('gateway.networking.k8s.io', 'v1alpha2', { TCPRoute: 'tcproutes' }),
    ...group('gateway.networking.k8s.io', 'v1beta1', { ReferenceGrant: 'referencegrants' }),
    ...group('policy.ambient-mesh.io', 'v1alpha1', { HTTPLocalRateLimitPolicy: 'httplocalratelimitpolicies' }),
  ];
}
