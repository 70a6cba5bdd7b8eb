// Informers for a set of kinds: one Informer (list, then watch with resume; informer.ts) per kind, the same code
// path for the local cluster and a real one. `synced` resolves once every informer has listed (a first list that
// fails is retried with backoff, e.g. while the API server is still starting); a dropped watch resumes from its
// resourceVersion, and a re-list reports only differences, so consumers that compare what they derive see no storm.
// Used by the mesh controller, ztunnel's node agent and the local cluster daemon.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log.ts';
import { errorMessage } from '../errors.ts';
import type { KubeClient } from './client.ts';
import { BACKOFF_MAX_MS, BACKOFF_START_MS, Informer } from './informer.ts';
import type { KubernetesObject } from '@kubernetes/client-node';

export type EventType = 'add' | 'update' | 'delete';

/** What the watches hand to consumers: plain JSON objects with Kubernetes metadata (client-node's type, erased at run time). */
export type KubeObject = KubernetesObject;

export interface WatchedKind {
  /** Stable key used by the consumer, e.g. `Pod`, `AuthorizationPolicy`. */
  kind: string;
  /** Collection path, e.g. `/api/v1/pods` or `/apis/security.istio.io/v1/authorizationpolicies`. */
  path: string;
  /** Watch only matching objects. */
  fieldSelector?: string;
  labelSelector?: string;
}

export interface Watches {
  /** Resolves once every informer has completed its first list. */
  synced: Promise<void>;
  list(kind: string): readonly KubeObject[];
  /** One cached object by name (and namespace, for namespaced kinds). */
  get(kind: string, name: string, namespace?: string): KubeObject | undefined;
  stop(): Promise<void>;
}

export function startWatches(
  client: KubeClient,
  kinds: WatchedKind[],
  onEvent: (kind: string, type: EventType, obj: KubeObject) => void,
  log: Logger,
): Watches {
  const informers = new Map<string, Informer<KubeObject>>();
  const stopped = new AbortController();
  const starts: Array<Promise<void>> = [];
  for (const w of kinds) {
    const inf = new Informer<KubeObject>(client, w.path, {
      ...(w.fieldSelector ? { fieldSelector: w.fieldSelector } : {}),
      ...(w.labelSelector ? { labelSelector: w.labelSelector } : {}),
      log,
    });
    informers.set(w.kind, inf);
    // Watch failures are logged and retried by the informer itself.
    for (const type of ['add', 'update', 'delete'] as const) inf.on(type, (obj) => onEvent(w.kind, type, obj));
    starts.push((async () => {
      for (let backoff = BACKOFF_START_MS; ; backoff = Math.min(backoff * 2, BACKOFF_MAX_MS)) {
        try {
          return await inf.start();
        } catch (err) {
          if (stopped.signal.aborted) return;
          log.warn({ kind: w.kind, err: errorMessage(err), retryMs: backoff }, 'first list failed; retrying');
          await sleep(backoff, undefined, { signal: stopped.signal }).catch(() => {});
          if (stopped.signal.aborted) return;
        }
      }
    })());
  }
  return {
    synced: Promise.all(starts).then(() => undefined),
    list: (kind) => informers.get(kind)?.list() ?? [],
    get: (kind, name, namespace) => informers.get(kind)?.get(name, namespace),
    async stop() {
      stopped.abort();
      await Promise.all([...informers.values()].map((i) => i.stop()));
    },
  };
}
