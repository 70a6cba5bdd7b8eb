// Resolving what users type (`po`, `pods`, `deploy`, `authorizationpolicies`, `gateways.networking.istio.io`)
// into a resource of the API server, from its discovery documents. resolveResource is pure.
import type { KubeConfig } from '@kubernetes/client-node';
import { call, KubeError } from './client.ts';
import { MeshError } from '../../shared/errors.ts';

export interface ResourceInfo {
  group: string; // '' for core
  version: string;
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  namespaced: boolean;
}

export function apiVersionOf(r: Pick<ResourceInfo, 'group' | 'version'>): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

/** Collection path, e.g. /apis/apps/v1/namespaces/demo/deployments. */
export function collectionPath(r: ResourceInfo, namespace: string | undefined): string {
  const base = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  return r.namespaced && namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}/${r.plural}` : `${base}/${r.plural}`;
}

// When one name matches several groups (Gateway API and Istio both have `gateways`), prefer these.
const groupRank = ['', 'apps', 'discovery.k8s.io', 'gateway.networking.k8s.io', 'networking.istio.io', 'security.istio.io'];
function rank(g: string): number {
  const i = groupRank.indexOf(g);
  return i < 0 ? groupRank.length : i;
}

export function resolveResource(all: ResourceInfo[], typed: string): ResourceInfo {
  const want = typed.toLowerCase();
  const dot = want.indexOf('.');
  const [name, group] = dot > 0 ? [want.slice(0, dot), want.slice(dot + 1)] : [want, undefined];
  const matches = all.filter(
    (r) =>
      (group === undefined || r.group === group) &&
      (r.plural === name || r.singular === name || r.kind.toLowerCase() === name || r.shortNames.includes(name)),
  );
  if (matches.length === 0) {
    throw new MeshError('MESHCTL_UNKNOWN_KIND', `the server doesn't have a resource type "${typed}"; list them with meshctl get --kinds`);
  }
  matches.sort((a, b) => rank(a.group) - rank(b.group));
  return matches[0]!;
}

/** Every resource the server serves, preferred version of each group. */
export async function discover(kc: KubeConfig): Promise<ResourceInfo[]> {
  const out: ResourceInfo[] = [];
  const core = await call(kc, 'GET', '/api/v1');
  out.push(...fromList('', 'v1', core));
  const groups = await call(kc, 'GET', '/apis');
  const lists = await Promise.all(
    (groups.groups ?? []).map(async (g: any) => {
      const v = g.preferredVersion?.version ?? g.versions?.[0]?.version;
      return fromList(g.name, v, await call(kc, 'GET', `/apis/${g.name}/${v}`));
    }),
  );
  for (const l of lists) out.push(...l);
  return out;
}

/** The resource for an object's apiVersion + kind (for apply/delete -f). */
export async function resourceFor(kc: KubeConfig, apiVersion: string, kind: string): Promise<ResourceInfo> {
  const slash = apiVersion.indexOf('/');
  const [group, version] = slash < 0 ? ['', apiVersion] : [apiVersion.slice(0, slash), apiVersion.slice(slash + 1)];
  const path = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
  let list;
  try {
    list = await call(kc, 'GET', path);
  } catch (err) {
    if (err instanceof KubeError && err.status === 404) {
      throw new MeshError('MESHCTL_UNKNOWN_KIND', `the server does not serve ${apiVersion}; is the CRD installed?`);
    }
    throw err;
  }
  const r = fromList(group, version, list).find((x) => x.kind === kind);
  if (!r) throw new MeshError('MESHCTL_UNKNOWN_KIND', `the server has no kind ${kind} in ${apiVersion}`);
  return r;
}

function fromList(group: string, version: string, list: any): ResourceInfo[] {
  return (list.resources ?? [])
    .filter((r: any) => !String(r.name).includes('/'))
    .map((r: any) => ({
      group,
      version,
      kind: r.kind,
      plural: r.name,
      singular: r.singularName || String(r.kind).toLowerCase(),
      shortNames: r.shortNames ?? [],
      namespaced: Boolean(r.namespaced),
    }));
}
