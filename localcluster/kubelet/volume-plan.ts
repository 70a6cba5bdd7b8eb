// Pure: what each of a pod's volumes is, and which files a file-backed volume holds. configMap, secret,
// downwardAPI and projected volumes all become a list of projected sources rendered by the atomic writer;
// emptyDir is a per-pod directory; hostPath is the host's own path. The service-account volume Kubernetes'
// admission would add (`kube-api-access-*`) is added here unless automountServiceAccountToken is false.
import type { V1Container, V1KeyToPath, V1Pod, V1Volume } from '@kubernetes/client-node';
import { fieldRefValue } from './env.ts';

export const SA_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
export const SA_VOLUME_NAME = 'kube-api-access-local';
/** Kubernetes' default for the automounted token (a little over an hour, so refreshes are spread). */
export const SA_TOKEN_SECONDS = 3607;
/** Kubernetes' default for a projected serviceAccountToken without expirationSeconds. */
export const DEFAULT_TOKEN_SECONDS = 3600;
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';

export type ProjectedSource =
  | { type: 'configMap' | 'secret'; name: string; items?: V1KeyToPath[]; optional: boolean }
  /** audience undefined = the API server's default audience. */
  | { type: 'token'; path: string; audience?: string; expirationSeconds: number }
  | { type: 'downward'; items: { path: string; fieldPath: string; mode?: number }[] };

export type VolumePlan =
  | { name: string; kind: 'emptyDir' }
  | { name: string; kind: 'hostPath'; path: string; hostType: string }
  | { name: string; kind: 'files'; sources: ProjectedSource[]; defaultMode: number };

export type VolumePlanResult = { ok: true; volumes: VolumePlan[] } | { ok: false; message: string };

const hasSaMount = (c: V1Container): boolean => (c.volumeMounts ?? []).some((m) => m.mountPath.replace(/\/+$/, '') === SA_MOUNT_PATH);

export function automountsToken(pod: V1Pod): boolean {
  return pod.spec?.automountServiceAccountToken !== false;
}

/** The pod's containers with the service-account mount Kubernetes' admission would add. */
export function containersWithSaMount(pod: V1Pod, containers: V1Container[]): V1Container[] {
  if (!automountsToken(pod)) return containers;
  return containers.map((c) => hasSaMount(c) ? c : { ...c, volumeMounts: [...(c.volumeMounts ?? []), { name: SA_VOLUME_NAME, mountPath: SA_MOUNT_PATH, readOnly: true }] });
}

function fromVolume(v: V1Volume): VolumePlan | string {
  const mode = (m: number | undefined): number => m ?? 0o644;
  if (v.emptyDir) return { name: v.name, kind: 'emptyDir' };
  if (v.hostPath) return { name: v.name, kind: 'hostPath', path: v.hostPath.path, hostType: v.hostPath.type ?? '' };
  if (v.configMap) return { name: v.name, kind: 'files', defaultMode: mode(v.configMap.defaultMode), sources: [{ type: 'configMap', name: v.configMap.name ?? '', items: v.configMap.items, optional: v.configMap.optional === true }] };
  if (v.secret) return { name: v.name, kind: 'files', defaultMode: mode(v.secret.defaultMode), sources: [{ type: 'secret', name: v.secret.secretName ?? '', items: v.secret.items, optional: v.secret.optional === true }] };
  if (v.downwardAPI) {
    const items = (v.downwardAPI.items ?? []).map((i) => ({ path: i.path, fieldPath: i.fieldRef?.fieldPath ?? '', mode: i.mode }));
    return { name: v.name, kind: 'files', defaultMode: mode(v.downwardAPI.defaultMode), sources: [{ type: 'downward', items }] };
  }
  if (v.projected) {
    const sources: ProjectedSource[] = [];
    for (const s of v.projected.sources ?? []) {
      if (s.configMap) sources.push({ type: 'configMap', name: s.configMap.name ?? '', items: s.configMap.items, optional: s.configMap.optional === true });
      else if (s.secret) sources.push({ type: 'secret', name: s.secret.name ?? '', items: s.secret.items, optional: s.secret.optional === true });
      else if (s.downwardAPI) sources.push({ type: 'downward', items: (s.downwardAPI.items ?? []).map((i) => ({ path: i.path, fieldPath: i.fieldRef?.fieldPath ?? '', mode: i.mode })) });
      else if (s.serviceAccountToken) {
        sources.push({ type: 'token', path: s.serviceAccountToken.path, audience: s.serviceAccountToken.audience || undefined, expirationSeconds: s.serviceAccountToken.expirationSeconds ?? DEFAULT_TOKEN_SECONDS });
      } else return `volume ${v.name}: unsupported projected source ${Object.keys(s).join(',')} (supported: configMap, secret, downwardAPI, serviceAccountToken)`;
    }
    return { name: v.name, kind: 'files', defaultMode: mode(v.projected.defaultMode), sources };
  }
  const kinds = Object.keys(v).filter((k) => k !== 'name');
  return `volume ${v.name}: unsupported volume type ${kinds.join(',') || '(none)'} (supported: projected, configMap, secret, downwardAPI, emptyDir, hostPath)`;
}

/** Every volume of the pod (plus the automounted service-account volume), or why the pod cannot run. */
export function planVolumes(pod: V1Pod): VolumePlanResult {
  const volumes: VolumePlan[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    const p = fromVolume(v);
    if (typeof p === 'string') return { ok: false, message: p };
    volumes.push(p);
  }
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  if (automountsToken(pod) && all.some((c) => !hasSaMount(c)) && !volumes.some((v) => v.name === SA_VOLUME_NAME)) {
    volumes.push({
      name: SA_VOLUME_NAME, kind: 'files', defaultMode: 0o644, sources: [
        { type: 'token', path: 'token', expirationSeconds: SA_TOKEN_SECONDS },
        { type: 'configMap', name: ROOT_CA_CONFIGMAP, items: [{ key: 'ca.crt', path: 'ca.crt' }], optional: false },
        { type: 'downward', items: [{ path: 'namespace', fieldPath: 'metadata.namespace' }] },
      ],
    });
  }
  return { ok: true, volumes };
}

export interface RenderedFile { content: Buffer; mode: number }

/** Source data a render needs: ConfigMap/Secret data by "type/name" (undefined = absent), tokens by path. */
export interface RenderInput {
  pod: V1Pod;
  data: Map<string, Record<string, Buffer> | undefined>;
  tokens: Map<string, string>;
}

export const dataKey = (type: 'configMap' | 'secret', name: string): string => `${type}/${name}`;

/** Downward API file content (labels/annotations as Kubernetes formats them: sorted `k="v"` lines). */
export function downwardValue(pod: V1Pod, fieldPath: string): string | undefined {
  const fmt = (m: Record<string, string> | undefined): string => Object.keys(m ?? {}).sort().map((k) => `${k}=${JSON.stringify(m![k])}`).join('\n');
  if (fieldPath === 'metadata.labels') return fmt(pod.metadata?.labels);
  if (fieldPath === 'metadata.annotations') return fmt(pod.metadata?.annotations);
  return fieldRefValue(pod, fieldPath, '', '');
}

function safeRelPath(p: string): boolean {
  return p.length > 0 && !p.startsWith('/') && !p.split('/').some((s) => s === '..' || s === '' || s.startsWith('..'));
}

/** The files of a `files` volume, keyed by relative path; or why it cannot be rendered (e.g. a missing ConfigMap). */
export function renderFiles(v: Extract<VolumePlan, { kind: 'files' }>, input: RenderInput): { ok: true; files: Map<string, RenderedFile> } | { ok: false; message: string } {
  const files = new Map<string, RenderedFile>();
  const put = (p: string, content: Buffer, mode: number | undefined): string | undefined => {
    if (!safeRelPath(p)) return `volume ${v.name}: invalid path ${JSON.stringify(p)}`;
    files.set(p, { content, mode: mode ?? v.defaultMode });
    return undefined;
  };
  for (const s of v.sources) {
    if (s.type === 'token') {
      const tok = input.tokens.get(s.path);
      if (tok === undefined) return { ok: false, message: `volume ${v.name}: token ${s.path} not yet issued` };
      const err = put(s.path, Buffer.from(tok), undefined);
      if (err) return { ok: false, message: err };
    } else if (s.type === 'downward') {
      for (const i of s.items) {
        const val = downwardValue(input.pod, i.fieldPath);
        if (val === undefined) return { ok: false, message: `volume ${v.name}: unsupported downward API field ${i.fieldPath}` };
        const err = put(i.path, Buffer.from(val), i.mode);
        if (err) return { ok: false, message: err };
      }
    } else {
      const data = input.data.get(dataKey(s.type, s.name));
      const what = `${s.type === 'configMap' ? 'configmap' : 'secret'} ${input.pod.metadata?.namespace ?? 'default'}/${s.name}`;
      if (data === undefined) {
        if (s.optional) continue;
        return { ok: false, message: `volume ${v.name}: ${what} not found` };
      }
      const items: V1KeyToPath[] = s.items ?? Object.keys(data).sort().map((key) => ({ key, path: key }));
      for (const i of items) {
        const content = data[i.key];
        if (content === undefined) {
          if (s.optional) continue;
          return { ok: false, message: `volume ${v.name}: ${what} has no key ${i.key}` };
        }
        const err = put(i.path, content, i.mode);
        if (err) return { ok: false, message: err };
      }
    }
  }
  return { ok: true, files };
}
