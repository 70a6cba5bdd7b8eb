// Keeps ConfigMap istio-ca-root-cert (key root-cert.pem) in every namespace, as istiod's namespace controller does:
// created when a namespace appears, restored when a user deletes or edits it. Only the leader writes (so two
// replicas do not fight); a replica that becomes leader re-checks every namespace. `rootCertAction` is the pure
// decision; the rest is two informers (namespaces; ConfigMaps of that one name) and a retrying work queue.
import type { V1ConfigMap, V1Namespace } from '@kubernetes/client-node';
import type { KubeClient } from '../../shared/kube/client.ts';
import { startWatches } from '../../shared/kube/watch.ts';
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
  kube: KubeClient;
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
    for (const ns of watches.list('Namespace')) if (ns.metadata?.name) dirty.add(ns.metadata.name);
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
        const action = rootCertAction(watches.get('Namespace', name) as V1Namespace | undefined, watches.get('ConfigMap', ROOT_CONFIGMAP, name) as V1ConfigMap | undefined, o.rootCertPem);
        if (action === 'none') continue;
        try {
          await publishRootCert(o.kube, name, o.rootCertPem);
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

  // Deleting or editing the ConfigMap brings it back; its own creation is checked too (cheap: usually 'none').
  const watches = startWatches(o.kube, [
    { kind: 'Namespace', path: '/api/v1/namespaces' },
    { kind: 'ConfigMap', path: '/api/v1/configmaps', fieldSelector: `metadata.name=${ROOT_CONFIGMAP}` },
  ], (kind, type, obj) => {
    if (kind === 'Namespace' && type !== 'delete') mark(obj.metadata?.name);
    else if (kind === 'ConfigMap') mark(obj.metadata?.namespace);
  }, o.log.child({ part: 'root-cert-watch' }));

  const leadership = followLeadership(o.isLeader, (now) => {
    leader = now;
    if (leader) markAll();
    else dirty.clear();
  }, o.leaderPollMs);

  watches.synced.then(() => {
    synced = true;
    leadership.recheck();
  }, (err: unknown) => o.log.warn({ err: errorMessage(err) }, 'root cert informers failed to start'));

  return {
    async stop() {
      stopped = true;
      leadership.stop();
      clearTimeout(retryTimer);
      await watches.stop();
    },
  };
}
