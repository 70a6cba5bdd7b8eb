// Validation and pruning of custom resources against the structural OpenAPI v3 schema of their installed
// CustomResourceDefinition, as the Kubernetes API server does it: types, enum, required, numeric bounds, lengths,
// item counts, patterns, int-or-string, maps (additionalProperties), x-kubernetes-preserve-unknown-fields, and pruning
// of fields the schema does not declare (or, with fieldValidation=Strict, rejecting them). Not evaluated: CEL rules
// (x-kubernetes-validations), `format`, oneOf/anyOf/allOf/not, list-type uniqueness. Pure.
import type { Cause } from './status.ts';

export interface Schema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  required?: string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  pattern?: string;
  nullable?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
}

export interface SchemaResult {
  /** The object with undeclared fields removed (a new object; the input is not modified). */
  pruned: unknown;
  /** Violations, in document order; empty when valid. */
  causes: Cause[];
  /** Paths of the fields that were pruned. */
  unknown: string[];
}

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function typeOfValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v));

class Walker {
  readonly causes: Cause[] = [];
  readonly unknown: string[] = [];

  private bad(field: string, reason: string, message: string): void {
    this.causes.push({ field, reason, message });
  }

  walk(v: unknown, s: Schema, path: string): unknown {
    if (v === null) {
      if (s.nullable || s['x-kubernetes-preserve-unknown-fields']) return v;
      if (s.type) this.bad(path, 'FieldValueTypeInvalid', `Invalid value: "null": ${path} in body must be of type ${s.type}: "null"`);
      return v;
    }
    if (s['x-kubernetes-int-or-string']) {
      if (typeof v !== 'string' && !(typeof v === 'number' && Number.isInteger(v))) {
        this.bad(path, 'FieldValueTypeInvalid', `Invalid value: "${typeOfValue(v)}": ${path} in body must be of type integer or string: "${typeOfValue(v)}"`);
      }
      return v;
    }
    const got = typeOfValue(v);
    if (s.type && !(got === s.type || (s.type === 'number' && got === 'integer'))) {
      this.bad(path, 'FieldValueTypeInvalid', `Invalid value: "${got}": ${path} in body must be of type ${s.type}: "${got}"`);
      return v;
    }
    if (s.enum && !s.enum.some((e) => e === v)) {
      this.bad(path, 'FieldValueNotSupported', `Unsupported value: ${show(v)}: supported values: ${s.enum.map((e) => show(e)).join(', ')}`);
    }
    if (typeof v === 'number') this.number(v, s, path);
    if (typeof v === 'string') this.string(v, s, path);
    if (Array.isArray(v)) return this.array(v, s, path);
    if (isObj(v)) return this.object(v, s, path);
    return v;
  }

  private number(v: number, s: Schema, path: string): void {
    if (s.minimum !== undefined && (s.exclusiveMinimum ? v <= s.minimum : v < s.minimum)) {
      this.bad(path, 'FieldValueInvalid', `Invalid value: ${v}: ${path} in body should be greater than ${s.exclusiveMinimum ? '' : 'or equal to '}${s.minimum}`);
    }
    if (s.maximum !== undefined && (s.exclusiveMaximum ? v >= s.maximum : v > s.maximum)) {
      this.bad(path, 'FieldValueInvalid', `Invalid value: ${v}: ${path} in body should be less than ${s.exclusiveMaximum ? '' : 'or equal to '}${s.maximum}`);
    }
  }

  private string(v: string, s: Schema, path: string): void {
    const len = [...v].length;
    if (s.minLength !== undefined && len < s.minLength) {
      this.bad(path, 'FieldValueInvalid', `Invalid value: ${show(v)}: ${path} in body should be at least ${s.minLength} chars long`);
    }
    if (s.maxLength !== undefined && len > s.maxLength) {
      this.bad(path, 'FieldValueTooLong', `Too long: may not be more than ${s.maxLength} bytes`);
    }
    if (s.pattern !== undefined && !new RegExp(s.pattern, 'u').test(v)) {
      this.bad(path, 'FieldValueInvalid', `Invalid value: ${show(v)}: ${path} in body should match '${s.pattern}'`);
    }
  }

  private array(v: unknown[], s: Schema, path: string): unknown[] {
    if (s.minItems !== undefined && v.length < s.minItems) {
      this.bad(path, 'FieldValueInvalid', `Invalid value: ${v.length}: ${path} in body should have at least ${s.minItems} items`);
    }
    if (s.maxItems !== undefined && v.length > s.maxItems) {
      this.bad(path, 'FieldValueTooMany', `Too many: ${v.length}: must have at most ${s.maxItems} items`);
    }
    return s.items ? v.map((item, i) => this.walk(item, s.items!, `${path}[${i}]`)) : v;
  }

  private object(v: Json, s: Schema, path: string): Json {
    const n = Object.keys(v).length;
    if (s.minProperties !== undefined && n < s.minProperties) {
      this.bad(path, 'FieldValueInvalid', `Invalid value: ${n}: ${path} in body should have at least ${s.minProperties} properties`);
    }
    if (s.maxProperties !== undefined && n > s.maxProperties) {
      this.bad(path, 'FieldValueTooMany', `Too many: ${n}: must have at most ${s.maxProperties} items`);
    }
    for (const r of s.required ?? []) {
      if (v[r] === undefined) this.bad(path ? `${path}.${r}` : r, 'FieldValueRequired', 'Required value');
    }
    const out: Json = {};
    const preserve = s['x-kubernetes-preserve-unknown-fields'] === true || s['x-kubernetes-embedded-resource'] === true;
    for (const [k, val] of Object.entries(v)) {
      if (val === undefined) continue; // not a JSON value: absent
      const at = path ? `${path}.${k}` : k;
      const declared = s.properties?.[k] ?? (isObj(s.additionalProperties) ? s.additionalProperties : undefined);
      if (declared) out[k] = this.walk(val, declared, at);
      else if (preserve || s.additionalProperties === true) out[k] = val;
      else this.unknown.push(at); // pruned
    }
    return out;
  }
}

/**
 * Validate and prune `obj` (a whole custom resource) against the version's `openAPIV3Schema`. apiVersion, kind and
 * metadata are the API server's business (checked elsewhere) and pass through untouched.
 */
export function validateCustomResource(obj: Json, schema: Schema): SchemaResult {
  const w = new Walker();
  const { apiVersion, kind, metadata, ...rest } = obj;
  const body = w.walk(rest, schema, '') as Json;
  const pruned = { ...(apiVersion !== undefined ? { apiVersion } : {}), ...(kind !== undefined ? { kind } : {}), ...(metadata !== undefined ? { metadata } : {}), ...body };
  return { pruned, causes: w.causes, unknown: w.unknown };
}

/** The openAPIV3Schema of `version` in a CustomResourceDefinition, or undefined when it has none. */
export function schemaOf(crd: Json, version: string): Schema | undefined {
  const versions = (crd.spec as Json | undefined)?.versions;
  if (!Array.isArray(versions)) return undefined;
  const v = versions.find((x) => isObj(x) && x.name === version) as Json | undefined;
  return ((v?.schema as Json | undefined)?.openAPIV3Schema as Schema | undefined) ?? undefined;
}
