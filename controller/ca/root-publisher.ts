// Keeps ConfigMap istio-ca-root-cert (key root-cert.pem) in every namespace, as istiod's namespace controller does:
// created when a namespace appears, restored when a user deletes or edits it. Only the leader writes (so two
// replicas do not fight); a replica that becomes leader re-checks every namespace. `rootCertAction` is the pure
// decision; the rest is two informers (namespaces; ConfigMaps of that one name) and a retrying work queue.
import { CoreV1Api, ListWatch, Watch, type KubeConfig, type KubernetesObject, type V1ConfigMap, type V1Namespace } from '@kubernetes/client-node';
import type { Logger } from '../../shared/log.ts';
import { errorMessage } from '../../shared/errors.ts';
import { followLeadership } from '../kube/leader.ts';
import { publishRootCert, ROOT_CONFIGMAP, ROOT_CONFIGMAP_KEY } from './root.ts';

/** Namespaces istiod leaves alone (its inject.IgnoredNamespaces). */
export const IGNORED_NAMESPACES: ReadonlySet<string> = new Set(['kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage']);

export type RootCertAction = 'create' | 'update' | 'none';

export function rootCertAction(ns: V1Namespace | undefined, cm: V1ConfigMap | undefined, rootCertPem: string): RootCertAction {
  const name = ns?.metadata?.name;
  if (!name || IGNORED_NAMESPACES.has(name)) return 'none';
  // Writes into a terminating namespace are refused; its contents are about to go anyway.
  if (ns.status?.phase === 'Terminating' || ns.metadata?.deletionTimestamp) return 'none';
  if (!cm) return 'create';
  return cm.data?.[ROOT_CONFIGMAP_KEY] === rootCertPem ? 'none' : 'update';
}

export interface RootCertPublisherOptions {
  kubeconfig: KubeConfig;
  rootCertPem: string;
  isLeader: () => boolean;
  log: Logger;
  /** How often leadership is checked (default 1000 ms). */
  leaderPollMs?: number;
}

export interface RootCertPublisher {
  stop(): Promise<void>;
}

const MIN_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;

export function startRootCertPublisher(o: RootCertPublisherOptions): RootCertPublisher {
  const api = o.kubeconfig.makeApiClient(CoreV1Api);
  const watch = new Watch(o.kubeconfig);
  const namespaces = new ListWatch<V1Namespace>('/api/v1/namespaces', watch, () => api.listNamespace(), false);
  const configMaps = new ListWatch<V1ConfigMap>('/api/v1/configmaps', watch,
    () => api.listConfigMapForAllNamespaces({ fieldSelector: `metadata.name=${ROOT_CONFIGMAP}` }), false, undefined, `metadata.name=${ROOT_CONFIGMAP}`);
  const dirty = new Set<string>();
  let stopped = false;
  let synced = false;
  let leader = false;
  let draining = false;
  let retryMs = MIN_RETRY_MS;
  let retryTimer: NodeJS.Timeout | undefined;

  const mark = (ns: string | undefined): void => {
    if (!ns || !leader) return;
    dirty.add(ns);
    void drain();
  };
  const markAll = (): void => {
    for (const ns of namespaces.list()) if (ns.metadata?.name) dirty.add(ns.metadata.name);
    void drain();
  };

  async function drain(): Promise<void> {
    if (draining || stopped || !synced || !leader) return;
    draining = true;
    let failed = false;
    try {
      while (dirty.size && leader && !stopped) {
        const name = dirty.values().next().value!;
        dirty.delete(name);
        const action = rootCertAction(namespaces.get(name), configMaps.get(ROOT_CONFIGMAP, name), o.rootCertPem);
        if (action === 'none') continue;
        try {
          await publishRootCert(o.kubeconfig, name, o.rootCertPem);
          o.log.info({ namespace: name, action }, 'published root certificate');
        } catch (err) {
          o.log.warn({ namespace: name, action, err: errorMessage(err), retryMs }, 'cannot publish root certificate; will retry');
          dirty.add(name);
          failed = true;
          break;
        }
      }
    } finally {
      draining = false;
    }
    if (failed && !stopped) {
      clearTimeout(retryTimer);
      retryTimer = setTimeout(() => void drain(), retryMs);
      retryTimer.unref();
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    } else {
      retryMs = MIN_RETRY_MS;
    }
  }

  const nsEvent = (obj: V1Namespace): void => mark(obj.metadata?.name);
  // Deleting or editing the ConfigMap brings it back; its own creation is checked too (cheap: usually 'none').
  const cmEvent = (obj: V1ConfigMap): void => mark(obj.metadata?.namespace);
  namespaces.on('add', nsEvent);
  namespaces.on('update', nsEvent);
  for (const verb of ['add', 'update', 'delete'] as const) configMaps.on(verb, cmEvent);
  for (const [kind, inf] of [['Namespace', namespaces], ['ConfigMap', configMaps]] as const) {
    let backoff = 500;
    (inf as ListWatch<KubernetesObject>).on('error', (err: unknown) => {
      if (stopped) return;
      o.log.warn({ kind, err: errorMessage(err), retryMs: backoff }, 'root cert watch dropped; resuming');
      setTimeout(() => {
        if (!stopped) (inf as ListWatch<KubernetesObject>).start().then(() => (backoff = 500), () => {});
      }, backoff).unref();
      backoff = Math.min(backoff * 2, 30_000);
    });
  }

  const leadership = followLeadership(o.isLeader, (now) => {
    leader = now;
    if (leader) markAll();
    else dirty.clear();
  }, o.leaderPollMs);

  Promise.all([namespaces.start(), configMaps.start()]).then(() => {
    synced = true;
    leadership.recheck();
  }, (err: unknown) => o.log.warn({ err: errorMessage(err) }, 'root cert informers failed to start; resuming'));

  return {
    async stop() {
      stopped = true;
      leadership.stop();
      clearTimeout(retryTimer);
      await Promise.all([namespaces.stop(), configMaps.stop()]);
    },
  };
}
