// Patch semantics (pure): JSON merge patch (RFC 7386), JSON patch (RFC 6902) and a simplified strategic merge
// patch. Simplifications of strategic merge: lists of objects merge by a fixed key per field name (below) rather
// than by OpenAPI patch metadata; `$patch: delete|replace` and `$deleteFromPrimitiveList/` are honoured;
// `$setElementOrder/` and `$retainKeys` are accepted and ignored; primitive lists are replaced (except finalizers,
// which merge as a set, like Kubernetes).
import { badRequest, ApiError } from './status.ts';

type Json = any;
const isObj = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function mergePatch(target: Json, patch: Json): Json {
  if (!isObj(patch)) return structuredClone(patch);
  const out: Record<string, Json> = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

// Field name → merge key for lists of objects (the common Kubernetes patchMergeKey tags).
const MERGE_KEYS: Record<string, string> = {
  containers: 'name', initContainers: 'name', ephemeralContainers: 'name', volumes: 'name', env: 'name',
  volumeMounts: 'mountPath', volumeDevices: 'devicePath', imagePullSecrets: 'name', hostAliases: 'ip',
  conditions: 'type', ownerReferences: 'uid', containerStatuses: 'name', initContainerStatuses: 'name',
  readinessGates: 'conditionType', topologySpreadConstraints: 'topologyKey', envFrom: '', tolerations: '',
};
const MERGE_SETS = new Set(['finalizers']);

function portKey(path: string[]): string {
  // Service ports merge by port; container ports by containerPort.
  return path.includes('containers') || path.includes('initContainers') ? 'containerPort' : 'port';
}

export function strategicMergePatch(target: Json, patch: Json, path: string[] = []): Json {
  if (!isObj(patch)) return structuredClone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _, ...rest } = patch;
    return structuredClone(rest);
  }
  if (patch.$patch === 'delete') return undefined;
  const out: Record<string, Json> = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      if (Array.isArray(out[field]) && Array.isArray(v)) out[field] = out[field].filter((x: Json) => !v.includes(x));
      continue;
    }
    if (v === null) { delete out[k]; continue; }
    if (Array.isArray(v)) {
      const key = k === 'ports' ? portKey(path) : MERGE_KEYS[k];
      if (MERGE_SETS.has(k) && Array.isArray(out[k])) {
        out[k] = [...out[k], ...v.filter((x: Json) => !out[k].includes(x))];
      } else if (key && Array.isArray(out[k]) && v.every(isObj)) {
        out[k] = mergeList(out[k], v, key, [...path, k]);
      } else {
        out[k] = structuredClone(v.filter((x: Json) => !(isObj(x) && x.$patch === 'delete')));
      }
      continue;
    }
    const merged = strategicMergePatch(out[k], v, [...path, k]);
    if (merged === undefined) delete out[k];
    else out[k] = merged;
  }
  return out;
}

function mergeList(base: Json[], patch: Record<string, Json>[], key: string, path: string[]): Json[] {
  const out = [...base];
  for (const item of patch) {
    if (item.$patch === 'replace') return patch.filter((p) => p.$patch !== 'replace').map((p) => structuredClone(p));
    const idx = out.findIndex((b) => isObj(b) && b[key] === item[key]);
    if (item.$patch === 'delete') { if (idx >= 0) out.splice(idx, 1); continue; }
    if (idx >= 0) out[idx] = strategicMergePatch(out[idx], item, path);
    else out.push(strategicMergePatch({}, item, path));
  }
  return out;
}

// ---- RFC 6902 JSON patch ----

function decodePointer(ptr: string): string[] {
  if (ptr === '') return [];
  if (!ptr.startsWith('/')) throw badRequest(`json patch: invalid path "${ptr}"; paths start with "/"`);
  return ptr.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: Json, segs: string[], ptr: string): Json {
  let cur = doc;
  for (const s of segs.slice(0, -1)) {
    cur = Array.isArray(cur) ? cur[Number(s)] : isObj(cur) ? cur[s] : undefined;
    if (cur === undefined) throw new ApiError('Invalid', `json patch: path "${ptr}" does not exist`);
  }
  return cur;
}

function getAt(doc: Json, ptr: string): Json {
  let cur = doc;
  for (const s of decodePointer(ptr)) {
    cur = Array.isArray(cur) ? cur[Number(s)] : isObj(cur) ? cur[s] : undefined;
    if (cur === undefined) throw new ApiError('Invalid', `json patch: path "${ptr}" does not exist`);
  }
  return cur;
}

function removeAt(doc: Json, ptr: string): Json {
  const segs = decodePointer(ptr);
  const parent = parentOf(doc, segs, ptr);
  const last = segs[segs.length - 1]!;
  if (Array.isArray(parent)) {
    const i = Number(last);
    if (!(i >= 0 && i < parent.length)) throw new ApiError('Invalid', `json patch: index ${last} out of range at "${ptr}"`);
    return parent.splice(i, 1)[0];
  }
  if (!isObj(parent) || !Object.hasOwn(parent, last)) throw new ApiError('Invalid', `json patch: path "${ptr}" does not exist`);
  const v = parent[last];
  delete parent[last];
  return v;
}

function addAt(doc: Json, ptr: string, value: Json, replace: boolean): Json {
  const segs = decodePointer(ptr);
  if (segs.length === 0) return structuredClone(value);
  const parent = parentOf(doc, segs, ptr);
  const last = segs[segs.length - 1]!;
  if (Array.isArray(parent)) {
    const i = last === '-' ? parent.length : Number(last);
    if (!(i >= 0 && i <= parent.length)) throw new ApiError('Invalid', `json patch: index ${last} out of range at "${ptr}"`);
    if (replace) parent[i] = structuredClone(value);
    else parent.splice(i, 0, structuredClone(value));
  } else if (isObj(parent)) {
    if (replace && !Object.hasOwn(parent, last)) throw new ApiError('Invalid', `json patch: cannot replace missing path "${ptr}"`);
    parent[last] = structuredClone(value);
  } else {
    throw new ApiError('Invalid', `json patch: parent of "${ptr}" is not an object or array`);
  }
  return doc;
}

export function jsonPatch(target: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw badRequest('json patch must be a JSON array of operations like [{"op":"replace","path":"/spec/x","value":1}]');
  let doc = structuredClone(target);
  for (const op of ops) {
    if (!isObj(op) || typeof op.path !== 'string') throw badRequest('json patch operation needs "op" and "path"');
    switch (op.op) {
      case 'add': doc = addAt(doc, op.path, op.value, false); break;
      case 'replace': doc = addAt(doc, op.path, op.value, true); break;
      case 'remove': removeAt(doc, op.path); break;
      case 'move': { const v = removeAt(doc, op.from); doc = addAt(doc, op.path, v, false); break; }
      case 'copy': doc = addAt(doc, op.path, getAt(doc, op.from), false); break;
      case 'test':
        if (JSON.stringify(getAt(doc, op.path)) !== JSON.stringify(op.value)) {
          throw new ApiError('Invalid', `json patch: test failed at "${op.path}"`);
        }
        break;
      default: throw badRequest(`json patch: unknown op "${String(op.op)}"; use add, remove, replace, move, copy or test`);
    }
  }
  return doc;
}

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

export function patchTypeOf(contentType: string): PatchType | undefined {
  const ct = contentType.split(';')[0]!.trim().toLowerCase();
  return ({
    'application/merge-patch+json': 'merge', 'application/json-patch+json': 'json',
    'application/strategic-merge-patch+json': 'strategic', 'application/apply-patch+yaml': 'apply',
    'application/apply-patch+cbor': undefined,
  } as Record<string, PatchType | undefined>)[ct];
}

export function applyPatch(type: PatchType, target: Json, patch: Json): Json {
  switch (type) {
    case 'merge': return mergePatch(target, patch);
    case 'json': return jsonPatch(target, patch);
    case 'strategic': case 'apply': return strategicMergePatch(target, patch);
  }
}
