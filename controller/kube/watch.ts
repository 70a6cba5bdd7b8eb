// Informers for everything the controller derives from: one @kubernetes/client-node informer per kind,
// the same code path for the local cluster and a real one. `synced` resolves once every informer has
// listed; a dropped watch is restarted with backoff (client-node re-lists and reports only differences,
// and the index compares projected resources, so a resume does not cause a push storm).
import { CoreV1Api, DiscoveryV1Api, CustomObjectsApi, makeInformer, type KubeConfig, type KubernetesObject, type KubernetesListObject, type Informer, type ObjectCache } from '@kubernetes/client-node';
import type { Logger } from '../../shared/log.ts';
import { errorMessage } from '../../shared/errors.ts';

export type EventType = 'add' | 'update' | 'delete';

export interface WatchedKind {
  /** Stable key used by the index, e.g. `Pod`, `AuthorizationPolicy`. */
  kind: string;
  path: string;
  list: () => Promise<KubernetesListObject<KubernetesObject>>;
}

function crd(kc: KubeConfig, kind: string, group: string, version: string, plural: string): WatchedKind {
  const api = kc.makeApiClient(CustomObjectsApi);
  return {
    kind,
    path: `/apis/${group}/${version}/${plural}`,
    list: async () => (await api.listClusterCustomObject({ group, version, plural })) as KubernetesListObject<KubernetesObject>,
  };
}

/** The kinds issue 3 names: core, discovery, Istio and Gateway API. */
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
  ];
}

export interface Watches {
  /** Resolves once every informer has completed its first list. */
  synced: Promise<void>;
  list(kind: string): readonly KubernetesObject[];
  stop(): Promise<void>;
}

export function startWatches(
  kc: KubeConfig,
  kinds: WatchedKind[],
  onEvent: (kind: string, type: EventType, obj: KubernetesObject) => void,
  log: Logger,
): Watches {
  const informers = new Map<string, Informer<KubernetesObject> & ObjectCache<KubernetesObject>>();
  let stopped = false;
  const starts: Array<Promise<void>> = [];
  for (const w of kinds) {
    const inf = makeInformer<KubernetesObject>(kc, w.path, w.list);
    informers.set(w.kind, inf);
    for (const type of ['add', 'update', 'delete'] as const) inf.on(type, (obj) => onEvent(w.kind, type, obj));
    let backoff = 500;
    inf.on('error', (err: unknown) => {
      if (stopped) return;
      log.warn({ kind: w.kind, err: errorMessage(err), retryMs: backoff }, 'watch dropped; resuming');
      setTimeout(() => {
        if (!stopped) inf.start().then(() => (backoff = 500), () => {});
      }, backoff);
      backoff = Math.min(backoff * 2, 30_000);
    });
    starts.push(inf.start());
  }
  return {
    synced: Promise.all(starts).then(() => undefined),
    list: (kind) => informers.get(kind)?.list() ?? [],
    async stop() {
      stopped = true;
      await Promise.all([...informers.values()].map((i) => i.stop()));
    },
  };
}
