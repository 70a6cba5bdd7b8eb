// `meshctl ztunnel-config workloads|services|policies [-o json]`: what the controller serves to ztunnels.
// Until ztunnel exists this reads the controller's debug endpoint (local cluster: found in the daemon's
// status; elsewhere: --controller URL, e.g. a port-forward to istiod's 15014).
import { clusterPaths } from '../../localcluster/paths.ts';
import { readStatus } from '../../localcluster/control.ts';
import { formatColumns, toJson } from '../output.ts';
import { UsageError } from '../args.ts';
import { MeshError } from '../../shared/errors.ts';

type Row = Record<string, any>;

async function fetchJson(url: string): Promise<any> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new MeshError('MESHCTL_CONTROLLER_UNREACHABLE', `cannot reach the controller at ${url}: ${(err as Error).message}; is the cluster up (meshctl status)?`);
  }
  if (!res.ok) throw new MeshError('MESHCTL_CONTROLLER_ERROR', `the controller answered ${res.status} for ${url}`);
  return await res.json();
}

/** Table rows for each view (pure). */
export function workloadRows(addresses: Row[]): string[][] {
  return addresses
    .filter((a) => a.address?.workload)
    .map((a) => a.address.workload)
    .map((w) => [w.namespace ?? '', w.name ?? '', (w.addresses ?? []).join(','), w.node ?? '', w.waypoint ? 'yes' : 'None', w.tunnelProtocol ?? 'NONE'])
    .sort((x, y) => (x[0] + x[1]).localeCompare(y[0] + y[1]));
}

export function serviceRows(addresses: Row[]): string[][] {
  const endpoints = new Map<string, number>();
  for (const a of addresses) {
    for (const key of Object.keys(a.address?.workload?.services ?? {})) endpoints.set(key, (endpoints.get(key) ?? 0) + 1);
  }
  return addresses
    .filter((a) => a.address?.service)
    .map((a) => a.address.service)
    .map((s) => [s.namespace ?? '', s.name ?? '', (s.addresses ?? []).map((x: Row) => x.address).join(','), s.waypoint ? 'yes' : 'None', String(endpoints.get(`${s.namespace}/${s.hostname}`) ?? 0)])
    .sort((x, y) => (x[0] + x[1]).localeCompare(y[0] + y[1]));
}

export function policyRows(authorizations: Row[]): string[][] {
  return authorizations
    .map((a) => a.authorization)
    .map((p) => [p.namespace ?? '', p.name ?? '', p.action ?? 'ALLOW', p.scope ?? 'GLOBAL', String((p.rules ?? []).length)])
    .sort((x, y) => (x[0] + x[1]).localeCompare(y[0] + y[1]));
}

export async function ztunnelConfig(view: string | undefined, output: string | undefined, controller: string | undefined): Promise<void> {
  const base = controller ?? readStatus(clusterPaths())?.controllerDebugUrl;
  if (!base) throw new MeshError('MESHCTL_NO_CONTROLLER', 'no controller found: start the local cluster (meshctl up) or pass --controller http://HOST:15014');
  if (output && output !== 'json') throw new UsageError('-o takes json');
  const views: Record<string, { path: string; header: string[]; rows: (d: Row[]) => string[][] }> = {
    workloads: { path: '/debug/addresses', header: ['NAMESPACE', 'NAME', 'IP', 'NODE', 'WAYPOINT', 'PROTOCOL'], rows: workloadRows },
    services: { path: '/debug/addresses', header: ['NAMESPACE', 'NAME', 'SERVICE VIP', 'WAYPOINT', 'ENDPOINTS'], rows: serviceRows },
    policies: { path: '/debug/authorizations', header: ['NAMESPACE', 'NAME', 'ACTION', 'SCOPE', 'RULES'], rows: policyRows },
  };
  const v = view ? views[view] : undefined;
  if (!v) throw new UsageError(`ztunnel-config takes one of ${Object.keys(views).join(', ')} (certificates and connections come with ztunnel)`);
  const data = (await fetchJson(base + v.path)) as Row[];
  if (output === 'json') {
    const key = view === 'policies' ? 'authorization' : 'address';
    const pick = view === 'workloads' ? 'workload' : view === 'services' ? 'service' : undefined;
    const items = data.map((d) => (pick ? d[key]?.[pick] : d[key])).filter(Boolean);
    process.stdout.write(`${toJson(items)}\n`);
    return;
  }
  process.stdout.write(`${formatColumns(v.header, v.rows(data))}\n`);
}
