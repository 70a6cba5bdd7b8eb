// Owns reading untrusted spec JSON: small typed readers that throw PolicyInvalidError naming the
// field path, and the parsers shared by both kinds (selector, targetRefs). Unknown fields are
// rejected rather than ignored, because an ignored misspelt field would widen an ALLOW policy.

import { PolicyInvalidError } from './errors.ts';
import { isLabelKey, isLabelValue } from './values.ts';

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function readObj(v: unknown, field: string, known: readonly string[]): Obj {
  if (!isObj(v)) throw new PolicyInvalidError(field, `must be an object, got ${describe(v)}`);
  for (const k of Object.keys(v)) {
    if (!known.includes(k)) {
      throw new PolicyInvalidError(`${field}.${k}`, `unknown field; expected one of ${known.join(', ')}`);
    }
  }
  return v;
}

export function readStrings(v: unknown, field: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new PolicyInvalidError(field, `must be a list of strings, got ${describe(v)}`);
  return v.map((s, i) => {
    if (typeof s !== 'string') throw new PolicyInvalidError(`${field}[${i}]`, `must be a string, got ${describe(s)}`);
    if (s === '') throw new PolicyInvalidError(`${field}[${i}]`, 'must not be empty');
    return s;
  });
}

export function readList(v: unknown, field: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new PolicyInvalidError(field, `must be a list, got ${describe(v)}`);
  return v;
}

export function readEnum<T extends string>(v: unknown, field: string, values: readonly T[], dflt: T): T {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
    throw new PolicyInvalidError(field, `unknown value ${JSON.stringify(v)}; expected one of ${values.join(', ')}`);
  }
  return v as T;
}

/** `selector: { matchLabels }` → labels, or undefined when absent. */
export function readSelector(v: unknown, field: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  const sel = readObj(v, field, ['matchLabels']);
  const labels: Record<string, string> = {};
  if (sel.matchLabels === undefined || sel.matchLabels === null) return labels;
  if (!isObj(sel.matchLabels)) {
    throw new PolicyInvalidError(`${field}.matchLabels`, `must be a map of label to value, got ${describe(sel.matchLabels)}`);
  }
  for (const [k, val] of Object.entries(sel.matchLabels)) {
    if (!isLabelKey(k)) {
      throw new PolicyInvalidError(`${field}.matchLabels`, `invalid label key ${JSON.stringify(k)}; use [prefix/]name with alphanumerics, '-', '_', '.' (name at most 63 characters)`);
    }
    if (typeof val !== 'string' || !isLabelValue(val)) {
      throw new PolicyInvalidError(`${field}.matchLabels.${k}`, `invalid label value ${JSON.stringify(val)}; use at most 63 alphanumerics, '-', '_', '.' (no wildcards)`);
    }
    labels[k] = val;
  }
  return labels;
}

/** Whether `targetRef`/`targetRefs` are set (after checking their shape); these bind to waypoints. */
export function readTargetRefs(spec: Obj): boolean {
  const refs: unknown[] = [];
  if (spec.targetRef !== undefined && spec.targetRef !== null) refs.push(spec.targetRef);
  refs.push(...readList(spec.targetRefs, 'spec.targetRefs'));
  refs.forEach((r, i) => {
    const f = spec.targetRef !== undefined && spec.targetRef !== null && i === 0 ? 'spec.targetRef' : `spec.targetRefs[${i}]`;
    const ref = readObj(r, f, ['group', 'kind', 'name', 'namespace']);
    if (typeof ref.kind !== 'string' || ref.kind === '') throw new PolicyInvalidError(`${f}.kind`, 'must be a non-empty string');
    if (typeof ref.name !== 'string' || ref.name === '') throw new PolicyInvalidError(`${f}.name`, 'must be a non-empty string');
  });
  return refs.length > 0;
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}
