// Informers with resume: one @kubernetes/client-node informer per kind, the same code path for the local
// cluster and a real one. `synced` resolves once every informer has listed; a dropped watch is restarted
// with backoff (client-node re-lists and reports only differences, so consumers that compare what they
// derive see no storm). Used by the mesh controller and by the local cluster daemon.
import { ListWatch, Watch, type KubeConfig, type KubernetesObject, type KubernetesListObject, type Informer, type ObjectCache } from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import { errorMessage } from '../errors.ts';

export type EventType = 'add' | 'update' | 'delete';

export interface WatchedKind {
  /** Stable key used by the consumer, e.g. `Pod`, `AuthorizationPolicy`. */
  kind: string;
  path: string;
  list: () => Promise<KubernetesListObject<KubernetesObject>>;
  /** Watch only matching objects (the list function must apply the same selector). */
  fieldSelector?: string;
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
    // ListWatch directly (makeInformer has no field selector parameter); not auto-started.
    const inf = new ListWatch<KubernetesObject>(w.path, new Watch(kc), w.list, false, undefined, w.fieldSelector);
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
