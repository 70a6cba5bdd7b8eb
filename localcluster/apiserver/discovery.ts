// Discovery documents derived from the kind table: /version, /api, /api/v1, /apis, /apis/<g>, /apis/<g>/<v>,
// and a minimal OpenAPI v3 (per group-version paths with the fieldValidation parameter, so kubectl validates
// server-side instead of downloading schemas) and an empty-schema OpenAPI v2 (pure).
import { KINDS, VIRTUAL, groupVersions, apiVersionOf, type KindInfo } from './kinds.ts';

type Obj = Record<string, any>;

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function versionInfo(): Obj {
  return {
    major: '1', minor: '32', gitVersion: 'v1.32.0-localcluster', gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean', buildDate: '2026-01-01T00:00:00Z', goVersion: 'go1.23.0', compiler: 'gc',
    platform: `linux/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}

export function apiVersions(serverAddress: string): Obj {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function resourcesOf(k: KindInfo): Obj[] {
  const main: Obj = {
    name: k.plural, singularName: k.singular, namespaced: k.namespaced, kind: k.kind, verbs: VERBS,
    ...(k.shortNames.length ? { shortNames: k.shortNames } : {}),
    ...(k.categories ? { categories: k.categories } : k.group === '' || k.group === 'apps' ? { categories: ['all'] } : {}),
  };
  if (['ConfigMap', 'Secret', 'ServiceAccount', 'Node', 'Namespace', 'Event', 'EndpointSlice', 'Lease'].includes(k.kind) || k.group.startsWith('rbac')) {
    delete main.categories;
  }
  const out = [main];
  if (k.status) out.push({ name: `${k.plural}/status`, singularName: '', namespaced: k.namespaced, kind: k.kind, verbs: ['get', 'patch', 'update'] });
  if (k.group === '' && k.kind === 'Pod') {
    out.push({ name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] });
    out.push({ name: 'pods/binding', singularName: '', namespaced: true, kind: 'Binding', verbs: ['create'] });
  }
  if (k.group === 'apps' && (k.kind === 'Deployment' || k.kind === 'ReplicaSet')) {
    out.push({ name: `${k.plural}/scale`, singularName: '', namespaced: true, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] });
  }
  if (k.group === '' && k.kind === 'ServiceAccount') {
    out.push({ name: 'serviceaccounts/token', singularName: '', namespaced: true, group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] });
  }
  return out;
}

/** APIResourceList for one group-version, or undefined if not served. */
export function resourceList(group: string, version: string): Obj | undefined {
  const resources: Obj[] = [];
  for (const k of KINDS) if (k.group === group && k.versions.includes(version)) resources.push(...resourcesOf(k));
  for (const v of VIRTUAL) {
    if (v.group === group && v.version === version) resources.push({ name: v.plural, singularName: '', namespaced: false, kind: v.kind, verbs: v.verbs });
  }
  if (!resources.length) return undefined;
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(group, version), resources };
}

function groupDoc(name: string, versions: string[]): Obj {
  const vs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: vs, preferredVersion: vs[0] };
}

export function apiGroupList(): Obj {
  const groups: Obj[] = [];
  for (const [g, vs] of groupVersions()) if (g !== '') groups.push(groupDoc(g, vs));
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

export function apiGroup(name: string): Obj | undefined {
  const vs = groupVersions().get(name);
  return name && vs ? { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(name, vs) } : undefined;
}

// ---- OpenAPI ----

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : 'api/v1';
}

export function openApiV3Index(): Obj {
  const paths: Record<string, Obj> = {};
  for (const [g, vs] of groupVersions()) {
    for (const v of vs) {
      const p = gvPath(g, v);
      paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${v}${g.length}` };
    }
  }
  return { paths };
}

const PARAMS = ['dryRun', 'fieldManager', 'fieldValidation', 'force', 'pretty'].map((name) => ({
  name, in: 'query', schema: { type: name === 'force' ? 'boolean' : 'string' }, uniqueItems: true,
}));

/** OpenAPI v3 document for `api/v1` or `apis/<g>/<v>`: operations only, schemas as free-form objects. */
export function openApiV3Doc(path: string): Obj | undefined {
  const m = path.match(/^(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/);
  if (!m) return undefined;
  const group = m[2] ?? '';
  const version = m[1] ?? m[3]!;
  const kinds = KINDS.filter((k) => k.group === group && k.versions.includes(version));
  const virtual = VIRTUAL.filter((v) => v.group === group && v.version === version);
  if (!kinds.length && !virtual.length) return undefined;
  const paths: Record<string, Obj> = {};
  const schemas: Record<string, Obj> = {};
  const base = '/' + gvPath(group, version);
  for (const k of kinds) {
    const gvk = [{ group, version, kind: k.kind }];
    const schemaName = `${(group || 'io.k8s.api.core').split('.').reverse().join('.')}.${version}.${k.kind}`;
    schemas[schemaName] = { type: 'object', 'x-kubernetes-group-version-kind': gvk, 'x-kubernetes-preserve-unknown-fields': true };
    const op = (action: string): Obj => ({
      operationId: `${action}${k.kind}`, parameters: PARAMS, 'x-kubernetes-action': action, 'x-kubernetes-group-version-kind': gvk[0],
      requestBody: { content: { 'application/json': { schema: { $ref: `#/components/schemas/${schemaName}` } } } },
      responses: { '200': { description: 'OK' } },
    });
    const coll = k.namespaced ? `${base}/namespaces/{namespace}/${k.plural}` : `${base}/${k.plural}`;
    paths[coll] = { post: op('post'), get: { ...op('list'), requestBody: undefined } };
    paths[`${coll}/{name}`] = { get: { ...op('get'), requestBody: undefined }, put: op('put'), patch: op('patch'), delete: op('delete') };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths, components: { schemas } };
}

export function openApiV2(): Obj {
  return { swagger: '2.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths: {}, definitions: {} };
}
