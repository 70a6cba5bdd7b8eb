// Reading manifests for `apply -f` / `delete -f`: a file, a directory (its .yaml/.yml/.json files,
// sorted, not recursive — like kubectl) or stdin (`-`). Multi-document YAML and `kind: List` are
// flattened. Parse errors name the file and the document so the user can find them.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { MeshError } from '../shared/errors.ts';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; generateName?: string; namespace?: string; labels?: Record<string, string>; [k: string]: unknown };
  [k: string]: unknown;
}

export class ManifestError extends MeshError {
  constructor(message: string) {
    super('MESHCTL_BAD_MANIFEST', message);
  }
}

/** Parse one text (YAML or JSON, possibly multi-document) into objects. Pure. */
export function parseManifests(text: string, source: string): KubeObject[] {
  const out: KubeObject[] = [];
  const docs = parseAllDocuments(text);
  docs.forEach((doc, i) => {
    const where = `${source} (document ${i + 1})`;
    if (doc.errors.length > 0) throw new ManifestError(`cannot parse ${where}: ${doc.errors[0]!.message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return; // empty document, e.g. a trailing `---`
    if (typeof value !== 'object' || Array.isArray(value)) throw new ManifestError(`${where} is not an object`);
    const obj = value as Record<string, unknown>;
    if (obj.kind === 'List' && Array.isArray(obj.items)) {
      for (const item of obj.items) out.push(checkObject(item, where));
      return;
    }
    out.push(checkObject(obj, where));
  });
  return out;
}

function checkObject(value: unknown, where: string): KubeObject {
  const o = value as Partial<KubeObject>;
  if (typeof o !== 'object' || o === null) throw new ManifestError(`${where} is not an object`);
  if (typeof o.apiVersion !== 'string' || o.apiVersion === '') throw new ManifestError(`${where}: apiVersion is missing`);
  if (typeof o.kind !== 'string' || o.kind === '') throw new ManifestError(`${where}: kind is missing`);
  if (typeof o.metadata !== 'object' || o.metadata === null || (!o.metadata.name && !o.metadata.generateName)) {
    throw new ManifestError(`${where}: metadata.name is missing`);
  }
  return o as KubeObject;
}

/** Read FILE, DIR or `-` (stdin). */
export function readManifests(path: string, stdin: () => string = () => readFileSync(0, 'utf8')): KubeObject[] {
  if (path === '-') return parseManifests(stdin(), 'stdin');
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new ManifestError(`${path} does not exist`);
  }
  if (st.isDirectory()) {
    const files = readdirSync(path).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
    return files.flatMap((f) => parseManifests(readFileSync(join(path, f), 'utf8'), join(path, f)));
  }
  return parseManifests(readFileSync(path, 'utf8'), path);
}
