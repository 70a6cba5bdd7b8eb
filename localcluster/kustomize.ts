// A small kustomize: renders deploy/ (and overlays of it) into the objects `kubectl kustomize` would print, so
// `meshctl up` installs the mesh from the same manifests as a real cluster without needing kubectl. Supported:
// resources (files, folders with a kustomization), components, images, replicas, and patches (JSON 6902 op lists,
// or strategic-merge documents, inline or from a file, with an optional target). Anything else is refused with
// KUSTOMIZE_UNSUPPORTED rather than silently ignored; render such an overlay with `kubectl kustomize` instead.
// Differential test against kubectl: kustomize.test.ts.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { MeshError } from '../shared/errors.ts';

export class KustomizeError extends MeshError {
  constructor(code: 'KUSTOMIZE_UNSUPPORTED' | 'KUSTOMIZE_INVALID', message: string) {
    super(code, message);
  }
}

export interface KObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  [k: string]: unknown;
}

interface Target { group?: string; version?: string; kind?: string; name?: string; namespace?: string }
interface Kustomization {
  apiVersion?: string;
  kind?: string;
  resources?: string[];
  components?: string[];
  images?: { name: string; newName?: string; newTag?: string; digest?: string }[];
  replicas?: { name: string; count: number }[];
  patches?: { path?: string; patch?: string; target?: Target }[];
}

const KNOWN_FIELDS = new Set(['apiVersion', 'kind', 'resources', 'components', 'images', 'replicas', 'patches']);
const FILE_NAMES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

/** Render the kustomization in `dir`, in kustomize's (legacy) output order. */
export function kustomize(dir: string): KObject[] {
  return sortLegacy(build(resolve(dir), 'Kustomization'));
}

function readKustomization(dir: string, expectKind: 'Kustomization' | 'Component'): Kustomization {
  const file = FILE_NAMES.map((f) => join(dir, f)).find((f) => existsSync(f));
  if (!file) throw new KustomizeError('KUSTOMIZE_INVALID', `${dir}: no kustomization.yaml`);
  const k = (parse(readFileSync(file, 'utf8')) ?? {}) as Kustomization;
  for (const field of Object.keys(k)) {
    if (!KNOWN_FIELDS.has(field)) {
      throw new KustomizeError('KUSTOMIZE_UNSUPPORTED', `${file}: field ${field} is not supported by the built-in renderer; render with \`kubectl kustomize\` and apply its output`);
    }
  }
  const kind = k.kind ?? 'Kustomization';
  if (kind !== expectKind) throw new KustomizeError('KUSTOMIZE_INVALID', `${file}: kind ${kind} where a ${expectKind} was expected`);
  return k;
}

function build(dir: string, kind: 'Kustomization' | 'Component', inherited: KObject[] = []): KObject[] {
  const k = readKustomization(dir, kind);
  let objs = [...inherited];
  for (const r of k.resources ?? []) {
    const path = resolve(dir, r);
    if (!existsSync(path)) throw new KustomizeError('KUSTOMIZE_INVALID', `${dir}: resource ${r} does not exist (remote resources are not supported)`);
    const added = statSync(path).isDirectory() ? build(path, 'Kustomization') : readObjects(path);
    for (const o of added) {
      if (objs.some((x) => sameId(x, o))) throw new KustomizeError('KUSTOMIZE_INVALID', `${dir}: ${idOf(o)} is defined twice`);
      objs.push(o);
    }
  }
  // A component sees (and transforms) everything accumulated so far, as kustomize applies it.
  for (const c of k.components ?? []) objs = build(resolve(dir, c), 'Component', objs);
  for (const p of k.patches ?? []) objs = applyPatch(objs, p, dir);
  for (const r of k.replicas ?? []) {
    for (const o of objs) {
      if (o.metadata.name === r.name && ['Deployment', 'ReplicaSet', 'StatefulSet'].includes(o.kind)) {
        (o.spec as Record<string, unknown>).replicas = r.count;
      }
    }
  }
  for (const img of k.images ?? []) for (const o of objs) setImages(o, img);
  return objs;
}

function readObjects(file: string): KObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as KObject | null)
    .filter((o): o is KObject => !!o && typeof o === 'object')
    .map((o) => {
      if (!o.apiVersion || !o.kind || !o.metadata?.name) throw new KustomizeError('KUSTOMIZE_INVALID', `${file}: an object without apiVersion, kind or metadata.name`);
      return o;
    });
}

const groupOf = (o: KObject): string => (o.apiVersion.includes('/') ? o.apiVersion.split('/')[0]! : '');
const versionOf = (o: KObject): string => o.apiVersion.split('/').at(-1)!;
const idOf = (o: KObject): string => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
const sameId = (a: KObject, b: KObject): boolean => a.apiVersion === b.apiVersion && a.kind === b.kind && a.metadata.name === b.metadata.name && a.metadata.namespace === b.metadata.namespace;

function matches(o: KObject, t: Target): boolean {
  const re = (pattern: string | undefined, value: string): boolean => pattern === undefined || new RegExp(`^(?:${pattern})$`).test(value);
  return re(t.group, groupOf(o)) && re(t.version, versionOf(o)) && re(t.kind, o.kind) && re(t.name, o.metadata.name) && re(t.namespace, o.metadata.namespace ?? '');
}

function applyPatch(objs: KObject[], p: { path?: string; patch?: string; target?: Target }, dir: string): KObject[] {
  const text = p.patch ?? (p.path ? readFileSync(resolve(dir, p.path), 'utf8') : undefined);
  if (text === undefined) throw new KustomizeError('KUSTOMIZE_INVALID', `${dir}: a patch needs \`patch\` or \`path\``);
  const doc: unknown = parse(text);
  if (Array.isArray(doc)) {
    if (!p.target) throw new KustomizeError('KUSTOMIZE_INVALID', `${dir}: a JSON 6902 patch needs a target`);
    const hits = objs.filter((o) => matches(o, p.target!));
    if (!hits.length) throw new KustomizeError('KUSTOMIZE_INVALID', `${dir}: patch target ${JSON.stringify(p.target)} matches no object`);
    return objs.map((o) => (hits.includes(o) ? (applyJson6902(o, doc as JsonOp[]) as KObject) : o));
  }
  const smp = doc as KObject;
  const target: Target = p.target ?? { kind: smp.kind, name: smp.metadata?.name, ...(smp.metadata?.namespace ? { namespace: smp.metadata.namespace } : {}) };
  const hits = objs.filter((o) => matches(o, target));
  if (!hits.length) throw new KustomizeError('KUSTOMIZE_INVALID', `${dir}: strategic-merge patch for ${JSON.stringify(target)} matches no object`);
  return objs.map((o) => {
    if (!hits.includes(o)) return o;
    // With an explicit target the patch's own name/kind do not rename the object.
    const { metadata: { name: _n, namespace: _ns, ...meta } = {} as KObject['metadata'], apiVersion: _a, kind: _k, ...rest } = smp;
    return strategicMerge(o, { ...rest, ...(Object.keys(meta).length ? { metadata: meta } : {}) }) as KObject;
  });
}

// ---- JSON patch (RFC 6902): add, remove, replace, copy, move, test ----

interface JsonOp { op: string; path: string; value?: unknown; from?: string }

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new KustomizeError('KUSTOMIZE_INVALID', `JSON pointer ${path} must start with /`);
  return path.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function applyJson6902(obj: unknown, ops: JsonOp[]): unknown {
  let doc = structuredClone(obj);
  for (const op of ops) {
    const get = (path: string): unknown => pointer(path).reduce<unknown>((cur, key) => {
      if (cur === null || typeof cur !== 'object' || !(key in (cur as object))) throw new KustomizeError('KUSTOMIZE_INVALID', `patch ${op.op} ${op.path}: ${path} does not exist`);
      return (cur as Record<string, unknown>)[key];
    }, doc);
    const parentOf = (path: string): [Record<string, unknown> | unknown[], string] => {
      const keys = pointer(path);
      const last = keys.pop();
      if (last === undefined) throw new KustomizeError('KUSTOMIZE_INVALID', `patch ${op.op}: the root cannot be the target`);
      return [get('/' + keys.map((k) => k.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')) as Record<string, unknown>, last];
    };
    const put = (path: string, value: unknown, insert: boolean): void => {
      const [parent, key] = parentOf(path);
      if (Array.isArray(parent)) {
        const i = key === '-' ? parent.length : Number(key);
        if (!Number.isInteger(i) || i < 0 || i > parent.length) throw new KustomizeError('KUSTOMIZE_INVALID', `patch ${op.op} ${path}: index out of range`);
        parent.splice(i, insert ? 0 : 1, structuredClone(value));
      } else {
        if (!insert && !(key in parent)) throw new KustomizeError('KUSTOMIZE_INVALID', `patch ${op.op} ${path}: ${path} does not exist`);
        parent[key] = structuredClone(value);
      }
    };
    const remove = (path: string): void => {
      const [parent, key] = parentOf(path);
      get(path);
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete parent[key];
    };
    switch (op.op) {
      case 'add': if (op.path === '') doc = structuredClone(op.value); else put(op.path, op.value, true); break;
      case 'replace': if (op.path === '') doc = structuredClone(op.value); else put(op.path, op.value, false); break;
      case 'remove': remove(op.path); break;
      case 'copy': put(op.path, get(op.from!), true); break;
      case 'move': { const v = get(op.from!); remove(op.from!); put(op.path, v, true); break; }
      case 'test':
        if (JSON.stringify(get(op.path)) !== JSON.stringify(op.value)) throw new KustomizeError('KUSTOMIZE_INVALID', `patch test ${op.path} failed`);
        break;
      default: throw new KustomizeError('KUSTOMIZE_INVALID', `unknown JSON patch op ${op.op}`);
    }
  }
  return doc;
}

// ---- strategic merge: maps merge, lists of named maps merge by name (containers, env, volumes, ports, …),
// other lists are replaced; `null` deletes; `$patch: delete` on a named list item removes it. ----

const MERGE_KEYS: Record<string, string> = {
  containers: 'name', initContainers: 'name', env: 'name', volumes: 'name', volumeMounts: 'mountPath',
  ports: 'containerPort', tolerations: 'key', imagePullSecrets: 'name', envFrom: '',
};

export function strategicMerge(base: unknown, patch: unknown, field = ''): unknown {
  if (patch === null) return undefined;
  if (Array.isArray(patch)) {
    const key = MERGE_KEYS[field];
    if (!key || !Array.isArray(base)) return structuredClone(patch);
    // Service ports merge on port, container ports on containerPort.
    const k = field === 'ports' && (patch as Record<string, unknown>[]).some((p) => 'port' in p && !('containerPort' in p)) ? 'port' : key;
    // kustomize's order: the patch's items first (merged with their base counterpart), then the base items the
    // patch does not mention.
    const items = patch as Record<string, unknown>[];
    const mentioned = new Set(items.map((item) => item[k]));
    const out: Record<string, unknown>[] = [];
    for (const item of items) {
      if (item.$patch === 'delete') continue;
      const b = (base as Record<string, unknown>[]).find((x) => x[k] === item[k]);
      out.push(b ? strategicMerge(b, item) as Record<string, unknown> : structuredClone(item));
    }
    for (const b of base as Record<string, unknown>[]) if (!mentioned.has(b[k])) out.push(structuredClone(b));
    return out;
  }
  if (patch && typeof patch === 'object') {
    const out: Record<string, unknown> = base && typeof base === 'object' && !Array.isArray(base) ? structuredClone(base) as Record<string, unknown> : {};
    for (const [k, v] of Object.entries(patch)) {
      const merged = strategicMerge(out[k], v, k);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    }
    return out;
  }
  return patch;
}

// ---- images: every container and initContainer in a pod template (or pod) whose image name matches ----

function setImages(o: KObject, img: { name: string; newName?: string; newTag?: string; digest?: string }): void {
  const spec = (o.kind === 'Pod' ? o.spec : (o.spec as { template?: { spec?: unknown } } | undefined)?.template?.spec) as
    { containers?: { image?: string }[]; initContainers?: { image?: string }[] } | undefined;
  for (const c of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]) {
    if (!c.image) continue;
    const { name, tag, digest } = splitImage(c.image);
    if (name !== img.name) continue;
    const newName = img.newName ?? name;
    c.image = img.digest ? `${newName}@${img.digest}` : img.newTag ? `${newName}:${img.newTag}` : `${newName}${digest ? `@${digest}` : tag ? `:${tag}` : ''}`;
  }
}

function splitImage(image: string): { name: string; tag?: string; digest?: string } {
  const at = image.indexOf('@');
  const digest = at >= 0 ? image.slice(at + 1) : undefined;
  const ref = at >= 0 ? image.slice(0, at) : image;
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return { name: ref.slice(0, colon), tag: ref.slice(colon + 1), ...(digest ? { digest } : {}) };
  return { name: ref, ...(digest ? { digest } : {}) };
}

// kustomize's legacy order (api/resid/gvk.go): these kinds first in this order, the rest by kind name after them,
// ValidatingWebhookConfiguration last. Within a kind: namespace, then name.
const ORDER_FIRST = [
  'Namespace', 'ResourceQuota', 'StorageClass', 'CustomResourceDefinition', 'ServiceAccount', 'PodSecurityPolicy',
  'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding', 'ConfigMap', 'Secret', 'Endpoints', 'Service',
  'LimitRange', 'PriorityClass', 'PersistentVolume', 'PersistentVolumeClaim', 'Deployment', 'StatefulSet',
  'CronJob', 'PodDisruptionBudget',
];
const ORDER_LAST = ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'];

function sortLegacy(objs: KObject[]): KObject[] {
  const rank = (kind: string): number => {
    const f = ORDER_FIRST.indexOf(kind);
    if (f >= 0) return f;
    const l = ORDER_LAST.indexOf(kind);
    return l >= 0 ? 10_000 + l : 1000;
  };
  const key = (o: KObject): string => [o.apiVersion, o.metadata.namespace ?? '', o.metadata.name].join('\u0000');
  return objs.map((o, i) => ({ o, i })).sort((a, b) =>
    rank(a.o.kind) - rank(b.o.kind)
    || (rank(a.o.kind) === 1000 ? a.o.kind.localeCompare(b.o.kind) : 0)
    || key(a.o).localeCompare(key(b.o))
    || a.i - b.i).map((x) => x.o);
}

/** The directory `meshctl up` installs from. */
export const LOCAL_OVERLAY = resolve(dirname(new URL(import.meta.url).pathname), '../deploy/overlays/local');
