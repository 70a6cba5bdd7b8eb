// Shared informer caches for the controller manager: one list+watch per kind, restarted after
// watch errors, with a change callback.
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../../shared/log.ts';
import { errorMessage } from '../../shared/errors.ts';

export interface Cache<T> {
  list(): T[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

const restartMs = 1000;

export function makeCache<T extends KubernetesObject>(kc: KubeConfig, path: string, listFn: () => Promise<KubernetesListObject<T>>, onChange: () => void, log: Logger): Cache<T> {
  const lw = new ListWatch<T>(path, new Watch(kc), listFn, false);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  lw.on('add', onChange);
  lw.on('update', onChange);
  lw.on('delete', onChange);
  lw.on('error', (err) => {
    if (stopped) return;
    log.warn({ path, err: errorMessage(err) }, 'watch failed; restarting');
    timer = setTimeout(() => { lw.start().then(onChange, () => {}); }, restartMs);
  });
  return {
    list: () => [...lw.list()],
    start: () => lw.start(),
    async stop() { stopped = true; clearTimeout(timer); await lw.stop(); },
  };
}
