// Kubelet glue: registers the Node, watches the pods bound to it (field selector spec.nodeName),
// and keeps one PodWorker per pod uid: created for new pods, terminated for pods deleted (or
// marked for deletion, then removed with grace 0) or gone on resync.
import { CoreV1Api, ListWatch, Watch, type V1Pod } from '@kubernetes/client-node';
import { logger } from '../../shared/log.ts';
import { errorMessage } from '../../shared/errors.ts';
import { knownImages, resolveImage } from '../images/index.ts';
import type { ImageCatalogue, Kubelet, KubeletOptions, PodLogOptions } from './types.ts';
import type { EnvLookup } from './env.ts';
import { defaultRunner } from './runner.ts';
import { defaultProber } from './prober.ts';
import { PodWorker, type WorkerDeps } from './worker.ts';
import { cachedData, volumeApi, findMount } from './volume-api.ts';
import { recorderFor } from './host-paths.ts';
import { join } from 'node:path';
import { mergePatch, registerNode } from './node.ts';
import { openPodLogs } from './logs.ts';
import type { Readable } from 'node:stream';

export const defaultCatalogue: ImageCatalogue = { resolve: resolveImage, known: knownImages };

const resyncMs = 30_000;
const watchRestartMs = 1000;

export async function startKubelet(opts: KubeletOptions): Promise<Kubelet> {
  const log = (opts.logger ?? logger('kubelet')).child({ node: opts.nodeName });
  const core = opts.kubeconfig.makeApiClient(CoreV1Api);
  const nodeInput = { nodeName: opts.nodeName, ip: opts.node.ip, podCidr: opts.node.podCidr, labels: opts.node.labels };
  const heartbeat = await registerNode(opts.kubeconfig, nodeInput);
  const heartbeatTimer = setInterval(() => { heartbeat().catch((err) => log.warn({ err: errorMessage(err) }, 'node heartbeat failed')); }, opts.heartbeatMs ?? 10_000);

  const envLookup: EnvLookup = {
    async data(kind, namespace, name) {
      try {
        if (kind === 'ConfigMap') return (await core.readNamespacedConfigMap({ name, namespace })).data ?? {};
        const s = await core.readNamespacedSecret({ name, namespace });
        const out: Record<string, string> = { ...s.stringData };
        for (const [k, v] of Object.entries(s.data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
        return out;
      } catch (err) {
        if ((err as { code?: number }).code === 404) return undefined;
        throw err;
      }
    },
  };

  const workerDeps: WorkerDeps = {
    network: opts.network,
    runner: opts.runner ?? defaultRunner,
    prober: opts.prober ?? defaultProber,
    catalogue: opts.imageCatalogue ?? defaultCatalogue,
    envLookup,
    logsDir: opts.logsDir,
    log,
    async publish(pod: V1Pod, status: unknown) {
      await core.patchNamespacedPodStatus({ name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? 'default', body: { status } }, mergePatch);
    },
    volumes: opts.stateDir === undefined ? undefined : {
      api: cachedData(volumeApi(opts.kubeconfig), Math.max(0, (opts.volumePollMs ?? 5000) - 500)), podsDir: join(opts.stateDir, 'pods'), record: recorderFor(opts.stateDir), mountBin: findMount(), pollMs: opts.volumePollMs,
    },
  };

  /** Live workers by pod uid. */
  const workers = new Map<string, PodWorker>();
  /** Workers being terminated, by pod uid (so a resync does not restart them). */
  const terminating = new Map<string, Promise<void>>();
  let stopped = false;

  const terminateWorker = (uid: string, graceOverrideMs?: number): Promise<void> => {
    const existing = terminating.get(uid);
    if (existing) return existing;
    const w = workers.get(uid);
    if (!w) return Promise.resolve();
    workers.delete(uid);
    const p = w.terminate(graceOverrideMs).finally(() => terminating.delete(uid));
    terminating.set(uid, p);
    return p;
  };

  const fieldSelector = `spec.nodeName=${opts.nodeName}`;
  const informer = new ListWatch<V1Pod>('/api/v1/pods', new Watch(opts.kubeconfig),
    () => core.listPodForAllNamespaces({ fieldSelector }), false, undefined, fieldSelector);

  const sync = (): void => {
    if (stopped) return;
    const seen = new Set<string>();
    for (const pod of informer.list()) {
      const uid = pod.metadata?.uid;
      if (!uid || pod.spec?.nodeName !== opts.nodeName) continue;
      seen.add(uid);
      if (pod.metadata?.deletionTimestamp) {
        const graceS = pod.metadata.deletionGracePeriodSeconds;
        void terminateWorker(uid, graceS === undefined ? undefined : graceS * 1000).then(() =>
          core.deleteNamespacedPod({ name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? 'default', gracePeriodSeconds: 0 }).catch(() => {}));
        continue;
      }
      const w = workers.get(uid);
      if (w) { w.update(pod); continue; }
      if (terminating.has(uid)) continue;
      if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue; // finished before a restart
      const worker = new PodWorker(pod, workerDeps);
      workers.set(uid, worker);
      worker.start();
    }
    for (const uid of [...workers.keys()]) if (!seen.has(uid)) void terminateWorker(uid);
  };

  let syncQueued = false;
  const scheduleSync = (): void => {
    if (syncQueued) return;
    syncQueued = true;
    queueMicrotask(() => { syncQueued = false; sync(); });
  };
  let restartTimer: NodeJS.Timeout | undefined;
  informer.on('add', scheduleSync);
  informer.on('update', scheduleSync);
  informer.on('delete', scheduleSync);
  informer.on('error', (err) => {
    if (stopped) return;
    log.warn({ err: errorMessage(err) }, 'pod watch failed; restarting');
    restartTimer = setTimeout(() => { informer.start().then(scheduleSync, () => {}); }, watchRestartMs);
  });
  await informer.start();
  sync();
  const resyncTimer = setInterval(sync, resyncMs);
  log.info('kubelet started');

  return {
    async stop(stopOpts?: { killPods?: boolean }) {
      stopped = true;
      clearInterval(heartbeatTimer);
      clearInterval(resyncTimer);
      clearTimeout(restartTimer);
      await informer.stop();
      if (stopOpts?.killPods) {
        await Promise.all([...workers.keys()].map((uid) => terminateWorker(uid)));
      } else {
        for (const w of workers.values()) w.detach();
      }
      await Promise.all(terminating.values());
      log.info('kubelet stopped');
    },
    podLogs(namespace: string, pod: string, logOpts: PodLogOptions = {}): Readable | undefined {
      const w = [...workers.values()].find((x) => x.namespace === namespace && x.name === pod);
      const live = w ? { dir: w.logDir, containers: w.containerNames(), alive: () => workers.get(w.uid) === w } : undefined;
      return openPodLogs(opts.logsDir, namespace, pod, logOpts, live);
    },
  };
}
