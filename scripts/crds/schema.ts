// Small builders for structural OpenAPI v3 schemas and CustomResourceDefinitions, so the CRDs in deploy/crds are
// written once, compactly, and generated (scripts/gen-crds.ts). Every node gets a type (or int-or-string /
// preserve-unknown-fields), which is what makes a schema structural.

export type Schema = Record<string, unknown>;

const d = (description?: string): Schema => (description ? { description } : {});

export const str = (description?: string, extra: Schema = {}): Schema => ({ type: 'string', ...d(description), ...extra });
export const bool = (description?: string): Schema => ({ type: 'boolean', ...d(description) });
export const num = (description?: string, extra: Schema = {}): Schema => ({ type: 'number', format: 'double', ...d(description), ...extra });
export const int32 = (description?: string, extra: Schema = {}): Schema => ({ type: 'integer', format: 'int32', ...d(description), ...extra });
export const uint32 = (description?: string, extra: Schema = {}): Schema =>
  ({ type: 'integer', minimum: 0, maximum: 4294967295, ...d(description), ...extra });
export const int64 = (description?: string, extra: Schema = {}): Schema => ({ type: 'integer', format: 'int64', ...d(description), ...extra });
export const port = (description?: string): Schema => ({ type: 'integer', minimum: 0, maximum: 4294967295, ...d(description) });
export const enumOf = (values: readonly string[], description?: string): Schema => ({ type: 'string', enum: [...values], ...d(description) });
export const intOrString = (description?: string): Schema => ({ 'x-kubernetes-int-or-string': true, ...d(description) });
/** Istio's `google.protobuf.Duration` as JSON: `1s`, `0.5s`, `100ms`. */
export const duration = (description?: string): Schema => str(description);
export const arr = (items: Schema, description?: string, extra: Schema = {}): Schema => ({ type: 'array', items, ...d(description), ...extra });
export const strs = (description?: string, extra: Schema = {}): Schema => arr(str(), description, extra);
export const map = (values: Schema, description?: string): Schema => ({ type: 'object', additionalProperties: values, ...d(description) });
export const strMap = (description?: string): Schema => map(str(), description);
/** An object whose fields the mesh does not read: kept as sent, not validated. */
export const opaque = (description?: string): Schema => ({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true, ...d(description) });

export function obj(properties: Record<string, Schema>, description?: string, extra: { required?: string[] } & Schema = {}): Schema {
  return { type: 'object', ...d(description), properties, ...extra };
}

/** Istio's StringMatch: one of exact, prefix or regex. */
export const stringMatch = (description?: string): Schema => obj({
  exact: str('Exact string match.'),
  prefix: str('Prefix-based match.'),
  regex: str('RE2 style regex-based match.'),
}, description, { maxProperties: 1 });

export interface CrdSpec {
  group: string;
  kind: string;
  plural: string;
  singular?: string;
  shortNames?: string[];
  categories?: string[];
  scope?: 'Namespaced' | 'Cluster';
  /** Served versions, the storage version first. */
  versions: string[];
  /** Versions served but deprecated (warned about by the API server). */
  deprecated?: string[];
  description: string;
  spec: Schema;
  /** Status schema; default: preserved as written (Istio's CRDs do the same). */
  status?: Schema;
  printerColumns?: { name: string; type: string; jsonPath: string; description?: string }[];
  labels?: Record<string, string>;
  /** Whether status is a subresource (default true). */
  statusSubresource?: boolean;
  annotations?: Record<string, string>;
}

export function crd(c: CrdSpec): Schema {
  const schema = {
    openAPIV3Schema: {
      type: 'object',
      description: c.description,
      properties: {
        apiVersion: { type: 'string' },
        kind: { type: 'string' },
        metadata: { type: 'object' },
        spec: c.spec,
        ...(c.statusSubresource === false ? {} : { status: c.status ?? opaque() }),
      },
      required: ['spec'],
    },
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${c.plural}.${c.group}`,
      labels: { 'app.kubernetes.io/part-of': 'ambient-mesh', ...c.labels },
      ...(c.annotations ? { annotations: c.annotations } : {}),
    },
    spec: {
      group: c.group,
      scope: c.scope ?? 'Namespaced',
      names: {
        kind: c.kind,
        listKind: `${c.kind}List`,
        plural: c.plural,
        singular: c.singular ?? c.kind.toLowerCase(),
        ...(c.shortNames?.length ? { shortNames: c.shortNames } : {}),
        ...(c.categories?.length ? { categories: c.categories } : {}),
      },
      versions: c.versions.map((name, i) => ({
        name,
        served: true,
        storage: i === 0,
        ...(c.deprecated?.includes(name) ? { deprecated: true } : {}),
        ...(c.statusSubresource === false ? {} : { subresources: { status: {} } }),
        ...(c.printerColumns ? { additionalPrinterColumns: c.printerColumns } : {}),
        schema,
      })),
    },
  };
}
