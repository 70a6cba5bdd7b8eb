// `meshctl waypoint apply|generate|list|status|delete`: waypoints as istioctl manages them — a Gateway of class
// istio-waypoint with one HBONE listener on 15008, which the controller turns into a Deployment and Service and marks
// Programmed once a replica is ready. Works against any cluster the kubeconfig points at. Parsing and printing are
// pure (parseWaypoint, waypointGateway, listTable, statusText); the rest is a few API calls.
import type { KubeConfig } from '@kubernetes/client-node';
import { call, raw, statusError } from '../kube/client.ts';
import { formatColumns, toYaml } from '../output.ts';
import { kubeFlags, str, bool, UsageError, type FlagSpec, type Parsed } from '../args.ts';
import { MeshError } from '../../shared/errors.ts';
import { DATAPLANE_MODE, GATEWAY_NAME, HBONE_PORT, USE_WAYPOINT, USE_WAYPOINT_NAMESPACE, WAYPOINT_CLASS, WAYPOINT_FOR } from '../../shared/ambient/keys.ts';

export interface Out { write(s: string): void }

export const waypointFlags: FlagSpec = {
  ...kubeFlags,
  name: { type: 'string' },
  for: { type: 'string' },
  'enroll-namespace': { type: 'boolean' },
  overwrite: { type: 'boolean' },
  revision: { type: 'string', short: 'r' },
  wait: { type: 'boolean', short: 'w' },
  'no-wait': { type: 'boolean' },
  timeout: { type: 'string' },
  'all-namespaces': { type: 'boolean', short: 'A' },
  all: { type: 'boolean' },
};

export const waypointUsage = `  waypoint apply [-n NS] [--name N] [--for service|workload|all|none] [--enroll-namespace [--overwrite]]
                 [-r REV] [--no-wait] [--timeout 90s]
                                 create or update a waypoint (a Gateway of class istio-waypoint); waits until Programmed
  waypoint generate [-n NS] [--name N] [--for …] [-r REV]
                                 print that Gateway as YAML
  waypoint list [-n NS | -A]     waypoints with revision, traffic type and whether they are programmed
  waypoint status [-n NS] [--name N]
                                 conditions, address and pods
  waypoint delete [-n NS] [NAME… | --name N | --all]
                                 delete waypoints, and the namespace label that pointed at them
`;

const TRAFFIC = ['service', 'workload', 'all', 'none'] as const;
type Traffic = (typeof TRAFFIC)[number];
const DEFAULT_NAME = 'waypoint';
const DEFAULT_TIMEOUT_MS = 90_000;

export type WaypointRequest =
  | { verb: 'apply'; namespace: string; name: string; for?: Traffic; revision?: string; enrollNamespace: boolean; overwrite: boolean; wait: boolean; timeoutMs: number }
  | { verb: 'generate'; namespace: string; name: string; for?: Traffic; revision?: string }
  | { verb: 'list'; namespace: string; allNamespaces: boolean }
  | { verb: 'status'; namespace: string; name?: string }
  | { verb: 'delete'; namespace: string; names: string[] | 'all' };

// Which flags each verb takes (besides -n and --kubeconfig).
const VERB_FLAGS: Record<WaypointRequest['verb'], string[]> = {
  apply: ['name', 'for', 'enroll-namespace', 'overwrite', 'revision', 'wait', 'no-wait', 'timeout'],
  generate: ['name', 'for', 'revision'],
  list: ['all-namespaces'],
  status: ['name'],
  delete: ['name', 'all'],
};

/** `90`, `90s`, `2m`, `500ms` → milliseconds. */
export function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(s.trim());
  if (!m) throw new UsageError(`--timeout takes a duration like 90s or 2m (got ${s})`);
  const n = Number(m[1]);
  return Math.round(m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000);
}

function checkName(name: string): string {
  if (name === 'none') throw new UsageError("'none' is reserved (it opts a namespace or service out of waypoints); choose another --name");
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 63) {
    throw new UsageError(`invalid waypoint name ${JSON.stringify(name)}: use lower-case letters, digits and '-' (at most 63)`);
  }
  return name;
}

function traffic(p: Parsed): Traffic | undefined {
  const t = str(p, 'for');
  if (t === undefined) return undefined;
  if (!(TRAFFIC as readonly string[]).includes(t)) throw new UsageError(`--for takes ${TRAFFIC.join(', ')} (got ${t})`);
  return t as Traffic;
}

/** The request a `meshctl waypoint …` command line makes (pure). */
export function parseWaypoint(p: Parsed): WaypointRequest {
  const [verb, ...args] = p.positionals;
  if (!verb || !(verb in VERB_FLAGS)) {
    throw new UsageError(`waypoint takes one of ${Object.keys(VERB_FLAGS).join(', ')}${verb ? ` (got ${verb})` : ''}; see meshctl --help`);
  }
  const v = verb as WaypointRequest['verb'];
  for (const [flag, value] of Object.entries(p.flags)) {
    if (value === undefined || flag === 'namespace' || flag === 'kubeconfig') continue;
    if (!VERB_FLAGS[v].includes(flag)) throw new UsageError(`waypoint ${v} does not take --${flag}`);
  }
  if (v !== 'delete' && args.length) throw new UsageError(`waypoint ${v} takes no arguments (got ${args.join(' ')}); name the waypoint with --name`);
  const namespace = str(p, 'namespace') ?? 'default';
  const name = checkName(str(p, 'name') ?? DEFAULT_NAME);
  const revision = str(p, 'revision');
  switch (v) {
    case 'apply': {
      if (bool(p, 'wait') && bool(p, 'no-wait')) throw new UsageError('--wait and --no-wait contradict each other');
      if (bool(p, 'overwrite') && !bool(p, 'enroll-namespace')) throw new UsageError('--overwrite only applies with --enroll-namespace');
      const t = str(p, 'timeout');
      return {
        verb: v, namespace, name, for: traffic(p), revision, enrollNamespace: bool(p, 'enroll-namespace'), overwrite: bool(p, 'overwrite'),
        wait: !bool(p, 'no-wait'), timeoutMs: t === undefined ? DEFAULT_TIMEOUT_MS : parseDuration(t),
      };
    }
    case 'generate':
      return { verb: v, namespace, name, for: traffic(p), revision };
    case 'list':
      if (bool(p, 'all-namespaces') && str(p, 'namespace')) throw new UsageError('use either -n NS or -A');
      return { verb: v, namespace, allNamespaces: bool(p, 'all-namespaces') };
    case 'status':
      return { verb: v, namespace, ...(str(p, 'name') ? { name } : {}) };
    case 'delete': {
      if (bool(p, 'all')) {
        if (args.length || str(p, 'name')) throw new UsageError('--all deletes every waypoint of the namespace; do not name one too');
        return { verb: v, namespace, names: 'all' };
      }
      const names = [...args.map(checkName), ...(str(p, 'name') ? [name] : [])];
      return { verb: v, namespace, names: names.length ? names : [DEFAULT_NAME] };
    }
  }
}

type Obj = Record<string, any>;

/** The Gateway istioctl applies for a waypoint. */
export function waypointGateway(r: { namespace: string; name: string; for?: Traffic; revision?: string }): Obj {
  const labels: Record<string, string> = {};
  if (r.for) labels[WAYPOINT_FOR] = r.for;
  if (r.revision) labels['istio.io/rev'] = r.revision;
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: r.name, namespace: r.namespace, ...(Object.keys(labels).length ? { labels } : {}) },
    spec: { gatewayClassName: WAYPOINT_CLASS, listeners: [{ name: 'mesh', port: HBONE_PORT, protocol: 'HBONE' }] },
  };
}

const condition = (gw: Obj, type: string): Obj | undefined => (gw.status?.conditions ?? []).find((c: Obj) => c.type === type);
const isWaypoint = (gw: Obj): boolean => gw.spec?.gatewayClassName === WAYPOINT_CLASS;
const byNsName = (a: Obj, b: Obj): number => `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.metadata?.namespace}/${b.metadata?.name}`);

/** `waypoint list` output (pure). The traffic type shown is the effective one: unlabelled waypoints serve Services. */
export function listTable(gateways: Obj[], allNamespaces: boolean): string {
  const wps = gateways.filter(isWaypoint).sort(byNsName);
  if (!wps.length) return 'No waypoints found.';
  const header = ['NAME', 'REVISION', 'TRAFFIC TYPE', 'PROGRAMMED'];
  const rows = wps.map((gw) => [
    gw.metadata?.name ?? '', gw.metadata?.labels?.['istio.io/rev'] || 'default', gw.metadata?.labels?.[WAYPOINT_FOR] || 'service',
    condition(gw, 'Programmed')?.status ?? 'Unknown',
  ]);
  if (allNamespaces) {
    header.unshift('NAMESPACE');
    rows.forEach((r, i) => r.unshift(wps[i]!.metadata?.namespace ?? ''));
  }
  return formatColumns(header, rows);
}

function podReady(p: Obj): string {
  const cs: Obj[] = p.status?.containerStatuses ?? [];
  const total = p.spec?.containers?.length ?? cs.length;
  return `${cs.filter((c) => c.ready).length}/${total}`;
}

function podStatus(p: Obj): string {
  if (p.metadata?.deletionTimestamp) return 'Terminating';
  const cs: Obj[] = p.status?.containerStatuses ?? [];
  return cs.map((c) => c.state?.waiting?.reason ?? c.state?.terminated?.reason).find(Boolean) ?? p.status?.phase ?? 'Pending';
}

const indent = (s: string, by = '    '): string => s.split('\n').map((l) => by + l).join('\n');

/** `waypoint status` output for one waypoint (pure). */
export function statusText(gw: Obj, pods: Obj[], usedBy: string[] = []): string {
  const ns = gw.metadata?.namespace ?? '';
  const name = gw.metadata?.name ?? '';
  const lines = [`waypoint ${ns}/${name}`];
  const addr = (gw.status?.addresses ?? []).map((a: Obj) => a.value).join(', ');
  lines.push(`  Address:      ${addr ? `${addr} (port ${HBONE_PORT})` : '<none> (not ready yet)'}`);
  lines.push(`  Traffic type: ${gw.metadata?.labels?.[WAYPOINT_FOR] || 'service'}`);
  if (usedBy.length) lines.push(`  Used by:      ${usedBy.join(', ')}`);
  const conds: Obj[] = gw.status?.conditions ?? [];
  lines.push('  Conditions:');
  lines.push(conds.length
    ? indent(formatColumns(['TYPE', 'STATUS', 'REASON', 'MESSAGE'], conds.map((c) => [c.type, c.status, c.reason ?? '', c.message ?? ''])))
    : '    <none> (is the controller running?)');
  lines.push('  Pods:');
  const sorted = [...pods].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  lines.push(sorted.length
    ? indent(formatColumns(['NAME', 'READY', 'STATUS', 'RESTARTS', 'IP', 'NODE'], sorted.map((p) => [
      p.metadata?.name ?? '', podReady(p), podStatus(p),
      String((p.status?.containerStatuses ?? []).reduce((n: number, c: Obj) => n + (c.restartCount ?? 0), 0)),
      p.status?.podIP ?? '<none>', p.spec?.nodeName ?? '<none>',
    ])))
    : '    <none>');
  return lines.join('\n');
}

const gatewaysPath = (ns?: string): string => ns
  ? `/apis/gateway.networking.k8s.io/v1/namespaces/${encodeURIComponent(ns)}/gateways`
  : '/apis/gateway.networking.k8s.io/v1/gateways';
const namespacePath = (ns: string): string => `/api/v1/namespaces/${encodeURIComponent(ns)}`;

async function getNamespace(kc: KubeConfig, ns: string): Promise<Obj> {
  const r = await raw(kc, 'GET', namespacePath(ns));
  if (r.status === 404) throw new MeshError('MESHCTL_NO_NAMESPACE', `namespace ${ns} not found; create it first (meshctl apply -f, or kubectl create namespace ${ns})`);
  if (r.status >= 300) throw statusError(r.status, r.body);
  return r.json();
}

async function listGateways(kc: KubeConfig, ns: string | undefined): Promise<Obj[]> {
  const r = await raw(kc, 'GET', gatewaysPath(ns));
  if (r.status === 404) throw new MeshError('MESHCTL_NO_GATEWAY_API', 'the cluster does not serve gateway.networking.k8s.io/v1 Gateways; install the Gateway API CRDs first');
  if (r.status >= 300) throw statusError(r.status, r.body);
  return r.json().items ?? [];
}

export interface WaypointIo {
  out: Out;
  err: Out;
  sleep(ms: number): Promise<void>;
}

const defaultIo: WaypointIo = {
  out: { write: (s) => void process.stdout.write(s) },
  err: { write: (s) => void process.stderr.write(s) },
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

async function apply(kc: KubeConfig, r: Extract<WaypointRequest, { verb: 'apply' }>, io: WaypointIo): Promise<number> {
  const nsObj = await getNamespace(kc, r.namespace);
  const labels: Record<string, string> = nsObj.metadata?.labels ?? {};
  const enrolled = labels[USE_WAYPOINT];
  if (r.enrollNamespace) {
    if (enrolled && enrolled !== r.name && !r.overwrite) {
      throw new MeshError('MESHCTL_WAYPOINT_ENROLLED', `namespace ${r.namespace} already uses waypoint ${enrolled} (label ${USE_WAYPOINT}); add --overwrite to switch it to ${r.name}`);
    }
    if (labels[DATAPLANE_MODE] !== 'ambient') {
      io.err.write(`warning: namespace ${r.namespace} is not in the ambient mesh; consider: meshctl label namespace ${r.namespace} ${DATAPLANE_MODE}=ambient\n`);
    }
  }
  const gw = waypointGateway(r);
  const path = `${gatewaysPath(r.namespace)}/${encodeURIComponent(r.name)}`;
  const res = await raw(kc, 'PATCH', `${path}?fieldManager=meshctl&force=true`, { body: gw, contentType: 'application/apply-patch+yaml' });
  if (res.status === 404) throw new MeshError('MESHCTL_NO_GATEWAY_API', 'the cluster does not serve gateway.networking.k8s.io/v1 Gateways; install the Gateway API CRDs before applying a waypoint');
  if (res.status >= 300) throw statusError(res.status, res.body);
  io.out.write(`waypoint ${r.namespace}/${r.name} applied\n`);

  if (r.wait) {
    const deadline = Date.now() + r.timeoutMs;
    for (;;) {
      const now = await call(kc, 'GET', path);
      const programmed = condition(now, 'Programmed');
      if (programmed?.status === 'True') break;
      if (Date.now() >= deadline) {
        const why = programmed ? `${programmed.reason}: ${programmed.message}` : 'the controller has not written its status (is it running?)';
        throw new MeshError('MESHCTL_WAYPOINT_TIMEOUT', `timed out after ${r.timeoutMs < 1000 ? `${r.timeoutMs}ms` : `${Math.round(r.timeoutMs / 1000)}s`} waiting for waypoint ${r.namespace}/${r.name} to be programmed; ${why}; see meshctl waypoint status -n ${r.namespace} --name ${r.name}`);
      }
      await io.sleep(Math.min(500, Math.max(0, deadline - Date.now())));
    }
    io.out.write(`waypoint ${r.namespace}/${r.name} is ready\n`);
  }

  if (r.enrollNamespace) {
    // The waypoint lives in this namespace, so a pointer to another namespace's waypoint goes.
    const patch: Record<string, string | null> = { [USE_WAYPOINT]: r.name };
    if (labels[USE_WAYPOINT_NAMESPACE] !== undefined) patch[USE_WAYPOINT_NAMESPACE] = null;
    await call(kc, 'PATCH', namespacePath(r.namespace), { body: { metadata: { labels: patch } }, contentType: 'application/merge-patch+json' });
    io.out.write(`namespace ${r.namespace} labeled with "${USE_WAYPOINT}: ${r.name}"\n`);
  }
  return 0;
}

/** Whether the namespace's use-waypoint label points at this waypoint (in its own namespace). */
function pointsAt(nsObj: Obj, name: string): boolean {
  const l = nsObj.metadata?.labels ?? {};
  return l[USE_WAYPOINT] === name && (!l[USE_WAYPOINT_NAMESPACE] || l[USE_WAYPOINT_NAMESPACE] === nsObj.metadata?.name);
}

async function remove(kc: KubeConfig, r: Extract<WaypointRequest, { verb: 'delete' }>, io: WaypointIo): Promise<number> {
  const nsObj = await getNamespace(kc, r.namespace);
  const names = r.names === 'all' ? (await listGateways(kc, r.namespace)).filter(isWaypoint).map((g) => g.metadata.name as string).sort() : r.names;
  if (r.names === 'all' && !names.length) io.out.write(`No waypoints found in namespace ${r.namespace}.\n`);
  let failures = 0;
  const deleted: string[] = [];
  for (const name of names) {
    const path = `${gatewaysPath(r.namespace)}/${encodeURIComponent(name)}`;
    const got = await raw(kc, 'GET', path);
    if (got.status === 404 || (got.status < 300 && !isWaypoint(got.json()))) {
      io.err.write(`waypoint ${r.namespace}/${name} not found\n`);
      failures++;
      continue;
    }
    if (got.status >= 300) throw statusError(got.status, got.body);
    const res = await raw(kc, 'DELETE', path);
    if (res.status === 404) {
      io.err.write(`waypoint ${r.namespace}/${name} not found\n`);
      failures++;
      continue;
    }
    if (res.status >= 300) throw statusError(res.status, res.body);
    io.out.write(`waypoint ${r.namespace}/${name} deleted\n`);
    deleted.push(name);
  }
  const used = deleted.find((n) => pointsAt(nsObj, n));
  if (used) {
    const patch: Record<string, null> = { [USE_WAYPOINT]: null };
    if (nsObj.metadata?.labels?.[USE_WAYPOINT_NAMESPACE] !== undefined) patch[USE_WAYPOINT_NAMESPACE] = null;
    await call(kc, 'PATCH', namespacePath(r.namespace), { body: { metadata: { labels: patch } }, contentType: 'application/merge-patch+json' });
    io.out.write(`namespace ${r.namespace}: removed label ${USE_WAYPOINT} (it pointed at ${used})\n`);
  }
  return failures ? 1 : 0;
}

async function status(kc: KubeConfig, r: Extract<WaypointRequest, { verb: 'status' }>, io: WaypointIo): Promise<number> {
  const nsObj = await getNamespace(kc, r.namespace);
  let gws: Obj[];
  if (r.name) {
    const got = await raw(kc, 'GET', `${gatewaysPath(r.namespace)}/${encodeURIComponent(r.name)}`);
    if (got.status === 404 || (got.status < 300 && !isWaypoint(got.json()))) {
      throw new MeshError('MESHCTL_NO_WAYPOINT', `waypoint ${r.namespace}/${r.name} not found; list them with meshctl waypoint list -n ${r.namespace}`);
    }
    if (got.status >= 300) throw statusError(got.status, got.body);
    gws = [got.json()];
  } else {
    gws = (await listGateways(kc, r.namespace)).filter(isWaypoint).sort(byNsName);
    if (!gws.length) {
      io.out.write('No waypoints found.\n');
      return 0;
    }
  }
  const blocks: string[] = [];
  for (const gw of gws) {
    const name = gw.metadata.name as string;
    const pods = await call(kc, 'GET', `/api/v1/namespaces/${encodeURIComponent(r.namespace)}/pods?labelSelector=${encodeURIComponent(`${GATEWAY_NAME}=${name}`)}`);
    blocks.push(statusText(gw, pods.items ?? [], pointsAt(nsObj, name) ? [`namespace ${r.namespace}`] : []));
  }
  io.out.write(`${blocks.join('\n\n')}\n`);
  return 0;
}

/** Run `meshctl waypoint …`; `kube` is called only when the verb needs the cluster. */
export async function runWaypoint(kube: () => KubeConfig, p: Parsed, io: WaypointIo = defaultIo): Promise<number> {
  const r = parseWaypoint(p);
  switch (r.verb) {
    case 'generate':
      io.out.write(toYaml(waypointGateway(r)));
      return 0;
    case 'apply':
      return apply(kube(), r, io);
    case 'list':
      io.out.write(`${listTable(await listGateways(kube(), r.allNamespaces ? undefined : r.namespace), r.allNamespaces)}\n`);
      return 0;
    case 'status':
      return status(kube(), r, io);
    case 'delete':
      return remove(kube(), r, io);
  }
}
