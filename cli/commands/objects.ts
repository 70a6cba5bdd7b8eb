// Plain Kubernetes object handling: apply, delete, get, label. Works against any cluster the
// kubeconfig points at (the local one or a real one).
import type { KubeConfig } from '@kubernetes/client-node';
import { call, raw, statusError, KubeError } from '../kube/client.ts';
import { discover, resolveResource, resourceFor, collectionPath, apiVersionOf, type ResourceInfo } from '../kube/discovery.ts';
import { readManifests, type KubeObject } from '../manifests.ts';
import { formatTable, formatColumns, toJson, toYaml, type Table } from '../output.ts';
import { UsageError } from '../args.ts';

export interface Out { write(s: string): void }

function displayKind(r: ResourceInfo): string {
  return r.group === '' ? r.kind.toLowerCase() : `${r.kind.toLowerCase()}.${r.group}`;
}

function namespaceFor(r: ResourceInfo, obj: KubeObject, flagNs: string | undefined): string | undefined {
  if (!r.namespaced) return undefined;
  const own = obj.metadata.namespace;
  if (own && flagNs && own !== flagNs) {
    throw new UsageError(`the namespace of ${obj.kind}/${obj.metadata.name} (${own}) does not match -n ${flagNs}`);
  }
  return own ?? flagNs ?? 'default';
}

// Namespaces (and CRDs) go first so the objects inside them can be created in the same apply.
function applyOrder(objs: KubeObject[]): KubeObject[] {
  const first = (o: KubeObject) => (o.kind === 'Namespace' || o.kind === 'CustomResourceDefinition' ? 0 : 1);
  return [...objs].sort((a, b) => first(a) - first(b));
}

/** Server-side apply of every object; prints `kind/name created|configured|unchanged`. */
export async function apply(kc: KubeConfig, file: string, flagNs: string | undefined, out: Out, dryRun = false): Promise<void> {
  for (const obj of applyOrder(readManifests(file))) {
    const r = await resourceFor(kc, obj.apiVersion, obj.kind);
    const ns = namespaceFor(r, obj, flagNs);
    const body = { ...obj, metadata: { ...obj.metadata, ...(ns ? { namespace: ns } : {}) } };
    const path = `${collectionPath(r, ns)}/${encodeURIComponent(obj.metadata.name!)}`;
    const before = await raw(kc, 'GET', path);
    const q = `?fieldManager=meshctl&force=true${dryRun ? '&dryRun=All' : ''}`;
    const after = await call(kc, 'PATCH', path + q, { body, contentType: 'application/apply-patch+yaml' });
    const verb = before.status === 404 ? 'created' : before.status === 200 && before.json().metadata?.resourceVersion === after?.metadata?.resourceVersion ? 'unchanged' : 'configured';
    out.write(`${displayKind(r)}/${obj.metadata.name} ${verb}${dryRun ? ' (server dry run)' : ''}\n`);
  }
}

export async function deleteFromFile(kc: KubeConfig, file: string, flagNs: string | undefined, out: Out, ignoreNotFound: boolean): Promise<number> {
  let failures = 0;
  for (const obj of applyOrder(readManifests(file)).reverse()) {
    const r = await resourceFor(kc, obj.apiVersion, obj.kind);
    const ns = namespaceFor(r, obj, flagNs);
    const res = await raw(kc, 'DELETE', `${collectionPath(r, ns)}/${encodeURIComponent(obj.metadata.name!)}`);
    if (res.status === 404 && ignoreNotFound) continue;
    if (res.status >= 300) {
      const e = statusError(res.status, res.body);
      process.stderr.write(`Error from server (${e.reason ?? res.status}): ${e.message}\n`);
      failures++;
      continue;
    }
    out.write(`${displayKind(r)} "${obj.metadata.name}" deleted\n`);
  }
  return failures;
}

export interface GetOptions {
  kind: string;
  name?: string;
  namespace?: string;
  allNamespaces: boolean;
  output?: string; // yaml | json | wide | name
  selector?: string;
}

export async function get(kc: KubeConfig, o: GetOptions, out: Out): Promise<void> {
  const r = resolveResource(await discover(kc), o.kind);
  const ns = r.namespaced && !o.allNamespaces ? (o.namespace ?? 'default') : undefined;
  let path = collectionPath(r, ns);
  if (o.name) path += `/${encodeURIComponent(o.name)}`;
  const query = o.selector ? `?labelSelector=${encodeURIComponent(o.selector)}` : '';
  if (o.output === 'json' || o.output === 'yaml') {
    const body = await call(kc, 'GET', path + query);
    const doc = o.name ? body : { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items: (body.items ?? []).map((i: any) => ({ apiVersion: apiVersionOf(r), kind: r.kind, ...i })) };
    out.write(o.output === 'json' ? `${toJson(doc)}\n` : toYaml(doc));
    return;
  }
  if (o.output === 'name') {
    const body = await call(kc, 'GET', path + query);
    for (const i of o.name ? [body] : body.items ?? []) out.write(`${displayKind(r)}/${i.metadata.name}\n`);
    return;
  }
  if (o.output && o.output !== 'wide') throw new UsageError(`unknown output format ${o.output}; use yaml, json, wide or name`);
  const table = (await call(kc, 'GET', path + query, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' })) as Table | any;
  if (table?.kind !== 'Table') {
    const items = o.name ? [table] : table.items ?? [];
    out.write(`${formatColumns(['NAME'], items.map((i: any) => [i.metadata.name]))}\n`);
    return;
  }
  if (table.rows.length === 0) {
    process.stderr.write(ns ? `No resources found in ${ns} namespace.\n` : 'No resources found\n');
    return;
  }
  out.write(`${formatTable(table, { wide: o.output === 'wide', withNamespace: o.allNamespaces && r.namespaced })}\n`);
}

/** `label KIND NAME k=v k2-`: refuses to change an existing value without --overwrite, like kubectl. */
export async function label(kc: KubeConfig, kind: string, name: string, changes: string[], namespace: string | undefined, overwrite: boolean, out: Out): Promise<void> {
  if (changes.length === 0) throw new UsageError('label needs at least one key=value or key- argument');
  const r = resolveResource(await discover(kc), kind);
  const path = `${collectionPath(r, r.namespaced ? (namespace ?? 'default') : undefined)}/${encodeURIComponent(name)}`;
  const current = await call(kc, 'GET', path);
  const labels: Record<string, string | null> = {};
  for (const c of changes) {
    if (c.endsWith('-') && !c.includes('=')) {
      labels[c.slice(0, -1)] = null;
      continue;
    }
    const eq = c.indexOf('=');
    if (eq <= 0) throw new UsageError(`bad label ${c}; use key=value or key-`);
    const k = c.slice(0, eq);
    const v = c.slice(eq + 1);
    const had = current.metadata?.labels?.[k];
    if (had !== undefined && had !== v && !overwrite) {
      throw new KubeError(409, `'${k}' already has a value (${had}), and --overwrite is false`);
    }
    labels[k] = v;
  }
  await call(kc, 'PATCH', path, { body: { metadata: { labels } }, contentType: 'application/merge-patch+json' });
  out.write(`${displayKind(r)}/${name} labeled\n`);
}
