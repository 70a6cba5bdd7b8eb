// The table of every kind the API server serves: one line per kind. Everything else (routing, discovery,
// OpenAPI, printing, admission) is derived from it. The first version listed is the storage version.
export interface KindInfo {
  group: string; // '' for core
  versions: string[];
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  status: boolean; // has a status subresource
  printer: string; // column set in table.ts ('default' = NAME AGE)
  categories?: string[];
}

type Row = [group: string, versions: string, kind: string, plural: string, namespaced: boolean, shortNames: string, status: boolean, printer?: string];

const ISTIO_NET = 'v1,v1beta1,v1alpha3';
const ISTIO_SEC = 'v1,v1beta1';
const GW = 'v1,v1beta1';

const ROWS: Row[] = [
  ['', 'v1', 'Namespace', 'namespaces', false, 'ns', true, 'namespace'],
  ['', 'v1', 'Pod', 'pods', true, 'po', true, 'pod'],
  ['', 'v1', 'Service', 'services', true, 'svc', true, 'service'],
  ['', 'v1', 'ServiceAccount', 'serviceaccounts', true, 'sa', false, 'serviceaccount'],
  ['', 'v1', 'Node', 'nodes', false, 'no', true, 'node'],
  ['', 'v1', 'ConfigMap', 'configmaps', true, 'cm', false, 'configmap'],
  ['', 'v1', 'Secret', 'secrets', true, '', false, 'secret'],
  ['', 'v1', 'Event', 'events', true, 'ev', false, 'event'],
  ['discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices', true, '', false, 'endpointslice'],
  ['apps', 'v1', 'Deployment', 'deployments', true, 'deploy', true, 'deployment'],
  ['apps', 'v1', 'DaemonSet', 'daemonsets', true, 'ds', true, 'daemonset'],
  ['apps', 'v1', 'ReplicaSet', 'replicasets', true, 'rs', true, 'replicaset'],
  ['coordination.k8s.io', 'v1', 'Lease', 'leases', true, '', false, 'lease'],
  ['policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets', true, 'pdb', true],
  ['rbac.authorization.k8s.io', 'v1', 'Role', 'roles', true, '', false],
  ['rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings', true, '', false],
  ['rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', false, '', false],
  ['rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', false, '', false],
  ['apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions', false, 'crd,crds', true],
  ['networking.istio.io', ISTIO_NET, 'VirtualService', 'virtualservices', true, 'vs', true],
  ['networking.istio.io', ISTIO_NET, 'DestinationRule', 'destinationrules', true, 'dr', true],
  ['networking.istio.io', ISTIO_NET, 'ServiceEntry', 'serviceentries', true, 'se', true],
  ['networking.istio.io', ISTIO_NET, 'WorkloadEntry', 'workloadentries', true, 'we', true],
  ['networking.istio.io', ISTIO_NET, 'Gateway', 'gateways', true, 'gw', true],
  ['networking.istio.io', ISTIO_NET, 'Sidecar', 'sidecars', true, '', true],
  ['security.istio.io', ISTIO_SEC, 'AuthorizationPolicy', 'authorizationpolicies', true, 'ap', true],
  ['security.istio.io', ISTIO_SEC, 'PeerAuthentication', 'peerauthentications', true, 'pa', true],
  ['security.istio.io', ISTIO_SEC, 'RequestAuthentication', 'requestauthentications', true, 'ra', true],
  ['gateway.networking.k8s.io', GW, 'Gateway', 'gateways', true, 'gtw', true],
  ['gateway.networking.k8s.io', GW, 'GatewayClass', 'gatewayclasses', false, 'gc', true],
  ['gateway.networking.k8s.io', GW, 'HTTPRoute', 'httproutes', true, '', true],
  ['gateway.networking.k8s.io', GW, 'GRPCRoute', 'grpcroutes', true, '', true],
  ['gateway.networking.k8s.io', 'v1beta1', 'ReferenceGrant', 'referencegrants', true, 'refgrant', false],
  ['gateway.networking.k8s.io', 'v1alpha2', 'TCPRoute', 'tcproutes', true, '', true],
  ['policy.ambient-mesh.io', 'v1alpha1', 'HTTPLocalRateLimitPolicy', 'httplocalratelimitpolicies', true, '', true],
];

// gateway.networking.k8s.io serves every kind at v1alpha2 too (ReferenceGrant is also v1 in newer releases).
function versionsOf(row: Row): string[] {
  const vs = row[1].split(',');
  if (row[0] === 'gateway.networking.k8s.io' && !vs.includes('v1alpha2')) vs.push('v1alpha2');
  return vs;
}

export const KINDS: readonly KindInfo[] = ROWS.map((r) => ({
  group: r[0], versions: versionsOf(r), kind: r[2], plural: r[3], singular: r[2].toLowerCase(),
  namespaced: r[4], shortNames: r[5] ? r[5].split(',') : [], status: r[6], printer: r[7] ?? 'default',
  ...(r[0].endsWith('istio.io') ? { categories: ['istio-io', r[0].split('.')[0] + '-istio-io'] } : {}),
  ...(r[0] === 'gateway.networking.k8s.io' ? { categories: ['gateway-api'] } : {}),
}));

/** Groups the server implements itself; every other group's kinds are custom resources (they may have a CRD). */
export const BUILTIN_GROUPS: ReadonlySet<string> = new Set(['', 'apps', 'discovery.k8s.io', 'coordination.k8s.io', 'policy', 'rbac.authorization.k8s.io', 'apiextensions.k8s.io']);

/** Resources that exist only as verbs (no storage): served in discovery, handled in http.ts. */
export const VIRTUAL = [
  { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenReview', plural: 'tokenreviews', verbs: ['create'] },
  { group: 'authentication.k8s.io', version: 'v1', kind: 'SelfSubjectReview', plural: 'selfsubjectreviews', verbs: ['create'] },
  { group: 'authorization.k8s.io', version: 'v1', kind: 'SelfSubjectAccessReview', plural: 'selfsubjectaccessreviews', verbs: ['create'] },
  { group: 'authorization.k8s.io', version: 'v1', kind: 'SubjectAccessReview', plural: 'subjectaccessreviews', verbs: ['create'] },
];

// Index: `group/version/plural` → kind, the router's lookup.
const byGVR = new Map<string, KindInfo>();
// Index: `group/kind` → kind, for objects addressed by apiVersion + kind (POST bodies, ownerReferences).
const byGK = new Map<string, KindInfo>();
for (const k of KINDS) {
  for (const v of k.versions) byGVR.set(`${k.group}/${v}/${k.plural}`, k);
  byGK.set(`${k.group}/${k.kind}`, k);
}

export function kindByResource(group: string, version: string, plural: string): KindInfo | undefined {
  return byGVR.get(`${group}/${version}/${plural}`);
}

export function kindByGroupKind(group: string, kind: string): KindInfo | undefined {
  return byGK.get(`${group}/${kind}`);
}

/** `apps/v1` → ['apps', 'v1']; `v1` → ['', 'v1']. */
export function splitApiVersion(apiVersion: string): [group: string, version: string] {
  const i = apiVersion.indexOf('/');
  return i < 0 ? ['', apiVersion] : [apiVersion.slice(0, i), apiVersion.slice(i + 1)];
}

export function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

/** Key of the stored collection of a kind (shared by all its versions). */
export function resourceKey(k: KindInfo): string {
  return `${k.group}/${k.plural}`;
}

/** Group → versions served, in preference order (the group's first kind's order). */
export function groupVersions(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const k of KINDS) {
    const vs = out.get(k.group) ?? [];
    for (const v of k.versions) if (!vs.includes(v)) vs.push(v);
    out.set(k.group, vs);
  }
  for (const v of VIRTUAL) {
    const vs = out.get(v.group) ?? [];
    if (!vs.includes(v.version)) vs.push(v.version);
    out.set(v.group, vs);
  }
  return out;
}
