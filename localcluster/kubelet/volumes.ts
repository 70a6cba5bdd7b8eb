// One pod's volumes on disk, under <stateDir>/pods/<uid>/volumes/<name>: file-backed volumes (projected,
// configMap, secret, downwardAPI, the automounted service-account volume) published with the atomic writer and
// re-rendered every poll (≤ 5 s) so ConfigMap/Secret/label changes show up; tokens reissued at 80% of their
// life; emptyDir a plain directory (removed with the pod); hostPath checked or created (recorded) on the host.
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../../shared/log.ts';
import { errorMessage } from '../../shared/errors.ts';
import { KubeletError } from './errors.ts';
import { writeAtomic } from './atomic-writer.ts';
import { ensureHostPath, type Recorder } from './host-paths.ts';
import { nextDelayMs, TokenCache, type IssuedToken, type TokenSpec } from './token-refresh.ts';
import { dataKey, planVolumes, renderFiles, ROOT_CA_CONFIGMAP, type VolumePlan } from './volume-plan.ts';

/** What volumes need from the API server (kubelet.ts wires client-node; tests pass fakes). */
export interface VolumeApi {
  /** ConfigMap data (+ binaryData) or Secret data, decoded; undefined when the object does not exist. */
  data(kind: 'ConfigMap' | 'Secret', namespace: string, name: string): Promise<Record<string, Buffer> | undefined>;
  /** TokenRequest for `serviceAccount`, bound to the pod (so the token names it). */
  token(namespace: string, serviceAccount: string, req: TokenSpec & { pod: { name: string; uid: string } }): Promise<IssuedToken>;
  /** The API server's CA (PEM), served as kube-root-ca.crt when no such ConfigMap exists. */
  clusterCA(): string | undefined;
}

export interface PodVolumesDeps {
  api: VolumeApi;
  /** <stateDir>/pods: one directory per pod uid. */
  podsDir: string;
  record: Recorder;
  log: Logger;
  /** ConfigMap/Secret re-read period (default 5 s). */
  pollMs?: number;
}

export const volumeErr = (message: string): KubeletError => new KubeletError('KUBELET_VOLUME_SETUP', message);

export function podDir(podsDir: string, uid: string): string {
  return join(podsDir, uid);
}

export class PodVolumes {
  readonly plan: VolumePlan[];
  readonly #deps: PodVolumesDeps;
  readonly #dir: string;
  readonly #tokens: TokenCache;
  #pod: V1Pod;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  /** Throws KUBELET_VOLUME_SETUP for a volume type that is not supported. */
  constructor(pod: V1Pod, deps: PodVolumesDeps) {
    this.#pod = pod;
    this.#deps = deps;
    this.#dir = podDir(deps.podsDir, pod.metadata?.uid ?? '');
    const plan = planVolumes(pod);
    if (!plan.ok) throw volumeErr(plan.message);
    this.plan = plan.volumes;
    const ns = pod.metadata?.namespace ?? 'default';
    const sa = pod.spec?.serviceAccountName || 'default';
    const bound = { name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' };
    this.#tokens = new TokenCache((spec) => deps.api.token(ns, sa, { ...spec, pod: bound }));
  }

  /** Host directory backing a volume. */
  dirOf(v: VolumePlan): string {
    return v.kind === 'hostPath' ? v.path : join(this.#dir, 'volumes', v.name);
  }

  /** Latest pod object (labels/annotations for downward API files). */
  update(pod: V1Pod): void { this.#pod = pod; }

  /** Materialise every volume; throws KUBELET_VOLUME_SETUP naming the first that cannot be (the caller retries). */
  async setup(): Promise<void> {
    const errors = await this.sync();
    if (errors.length > 0) throw volumeErr(errors[0]!);
  }

  /** Re-render everything; returns one message per volume that failed (it keeps its previous content). */
  async sync(): Promise<string[]> {
    const errors: string[] = [];
    for (const v of this.plan) {
      try {
        await this.#syncOne(v);
      } catch (err) {
        errors.push(errorMessage(err));
      }
    }
    return errors;
  }

  async #syncOne(v: VolumePlan): Promise<void> {
    if (v.kind === 'emptyDir') {
      mkdirSync(this.dirOf(v), { recursive: true, mode: 0o777 });
      return;
    }
    if (v.kind === 'hostPath') {
      checkHostPath(v.path, v.hostType, this.#deps.record);
      return;
    }
    const ns = this.#pod.metadata?.namespace ?? 'default';
    const data = new Map<string, Record<string, Buffer> | undefined>();
    const tokens = new Map<string, string>();
    for (const s of v.sources) {
      if (s.type === 'configMap' || s.type === 'secret') {
        let d = await this.#deps.api.data(s.type === 'configMap' ? 'ConfigMap' : 'Secret', ns, s.name);
        if (d === undefined && s.type === 'configMap' && s.name === ROOT_CA_CONFIGMAP) {
          // nothing publishes kube-root-ca.crt locally yet: serve the API server's CA, which is what it holds
          const ca = this.#deps.api.clusterCA();
          if (ca) d = { 'ca.crt': Buffer.from(ca) };
        }
        data.set(dataKey(s.type, s.name), d);
      } else if (s.type === 'token') {
        tokens.set(s.path, await this.#tokens.get(`${v.name}/${s.path}`, { audience: s.audience, expirationSeconds: s.expirationSeconds }));
      }
    }
    const r = renderFiles(v, { pod: this.#pod, data, tokens });
    if (!r.ok) throw volumeErr(r.message);
    if (this.#stopped) return; // removed meanwhile: do not recreate the pod's directory
    if (writeAtomic(this.dirOf(v), r.files)) this.#deps.log.debug({ volume: v.name }, 'volume updated');
  }

  /** Keep file-backed volumes fresh until `stop`. */
  start(): void {
    const hasFiles = this.plan.some((v) => v.kind === 'files');
    if (!hasFiles || this.#stopped) return;
    const pollMs = this.#deps.pollMs ?? 5000;
    const tick = async (): Promise<void> => {
      const errors = await this.sync();
      for (const e of errors) this.#deps.log.warn({ err: e }, 'volume refresh failed; keeping the previous content');
      if (this.#stopped) return;
      this.#timer = setTimeout(() => void tick(), nextDelayMs(Date.now(), pollMs, this.#tokens.nextRefreshAt()));
    };
    this.#timer = setTimeout(() => void tick(), nextDelayMs(Date.now(), pollMs, this.#tokens.nextRefreshAt()));
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /** Stop refreshing and delete the pod's directory (emptyDirs included; hostPaths are the host's). */
  remove(): void {
    this.stop();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** hostPath `type` semantics: the *OrCreate types create (recorded); the others only check. */
export function checkHostPath(path: string, hostType: string, record: Recorder): void {
  if (hostType === 'DirectoryOrCreate') { ensureHostPath(path, 'dir', record); return; }
  if (hostType === 'FileOrCreate') { ensureHostPath(path, 'file', record); return; }
  if (hostType === '') return;
  let st;
  try { st = statSync(path); } catch { throw volumeErr(`hostPath ${path} does not exist (type ${hostType})`); }
  const ok = hostType === 'Directory' ? st.isDirectory() : hostType === 'File' ? st.isFile() : hostType === 'Socket' ? st.isSocket()
    : hostType === 'CharDevice' ? st.isCharacterDevice() : hostType === 'BlockDevice' ? st.isBlockDevice() : false;
  if (!ok) throw volumeErr(`hostPath ${path} is not a ${hostType}`);
}
