// `meshctl ztunnel-config workloads|services|policies|certificates|connections|pods [--node N] [-o json]`: what one
// ztunnel holds, read from its admin endpoint (localhost:15000/config_dump inside the ztunnel pod's namespace —
// the only place it listens, as Istio's ztunnel). `--controller URL` reads the controller's debug endpoint instead (what it
// serves to every ztunnel; workloads/services/policies only), e.g. through a port-forward to istiod's 15014.
import { clusterPaths } from '../../localcluster/paths.ts';
import { readConfig, readStatus } from '../../localcluster/control.ts';
import type { KubeConfig } from '@kubernetes/client-node';
import { podNetnsRef } from '../../localcluster/network/index.ts';
import { call } from '../kube/client.ts';
import { httpGet } from '../../shared/netsock/index.ts';
import { formatColumns, toJson } from '../output.ts';
import { UsageError } from '../args.ts';
import { MeshError } from '../../shared/errors.ts';

type Row = Record<string, any>;
const byNsName = (x: string[], y: string[]): number => (x[0]! + '/' + x[1]).localeCompare(y[0]! + '/' + y[1]);

/** Table rows for each view of a ztunnel config dump (pure). */
export const views: Record<string, { header: string[]; items: (d: Row) => Row[]; row: (x: Row) => string[] }> = {
  workloads: {
    header: ['NAMESPACE', 'NAME', 'IP', 'NODE', 'WAYPOINT', 'PROTOCOL'],
    items: (d) => d.workloads ?? [],
    row: (w) => [w.namespace, w.name, (w.workloadIps ?? []).join(','), w.node ?? '', w.waypoint ? w.waypoint.destination : 'None', w.protocol],
  },
  services: {
    header: ['NAMESPACE', 'NAME', 'SERVICE VIP', 'WAYPOINT', 'ENDPOINTS'],
    items: (d) => d.services ?? [],
    row: (s) => [s.namespace, s.name, (s.vips ?? []).map((v: string) => v.replace(/^\//, '')).join(','), s.waypoint ? s.waypoint.destination : 'None', String(Object.keys(s.endpoints ?? {}).length)],
  },
  policies: {
    header: ['NAMESPACE', 'NAME', 'ACTION', 'SCOPE', 'RULES'],
    items: (d) => d.policies ?? [],
    row: (p) => [p.namespace, p.name, p.action, p.scope, String((p.rules ?? []).length)],
  },
  certificates: {
    header: ['IDENTITY', 'STATE', 'SERIAL', 'NOT BEFORE', 'NOT AFTER'],
    items: (d) => d.certificates ?? [],
    row: (c) => [c.identity, c.state, c.serial ?? '', c.notBefore ?? '', c.notAfter ?? ''],
  },
  connections: {
    header: ['POOL KEY (SOURCE IP|SOURCE|DESTINATION|ADDRESS)', 'PEER IDENTITY', 'STREAMS', 'AGE'],
    items: (d) => d.connections ?? [],
    row: (c) => [c.key, c.peerIdentity ?? '', String(c.activeStreams), `${Math.round((c.ageMs ?? 0) / 1000)}s`],
  },
  pods: {
    header: ['NAMESPACE', 'NAME', 'IP', 'NETNS', 'LIVE CONNECTIONS'],
    items: (d) => d.capturedPods ?? [],
    row: (p) => [p.namespace, p.name, p.ip, p.netns, String(p.liveConnections)],
  },
};

export function rowsOf(view: string, dump: Row): string[][] {
  const v = views[view]!;
  return v.items(dump).map(v.row).sort(byNsName);
}

async function ztunnelDump(node: string, kc: KubeConfig): Promise<Row> {
  const p = clusterPaths();
  const cfg = readConfig(p);
  if (!cfg || !readStatus(p)?.ready) throw new MeshError('MESHCTL_NO_CLUSTER', 'no local cluster is running: start it with `meshctl up` (or pass --controller URL)');
  const index = Number(node.replace(/^node-/, ''));
  if (!Number.isInteger(index) || index < 1 || index > cfg.nodes) throw new UsageError(`--node takes node-1 … node-${cfg.nodes}`);
  // ztunnel runs in its own pod namespace (deploy/base/ztunnel.yaml); its admin port listens on that namespace's
  // loopback. During a rollout two ztunnels may share the node: the ready one answers.
  const list = await call(kc, 'GET', `/api/v1/namespaces/istio-system/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${node}`)}`);
  const zt = (list.items as Row[]).filter((x) => String(x.metadata?.name).startsWith('ztunnel-'))
    .sort((a, b) => Number(isReady(b)) - Number(isReady(a)))[0];
  const ref = zt && podNetnsRef(p.dir, cfg.clusterId, zt.metadata.uid);
  if (!ref) throw new MeshError('MESHCTL_ZTUNNEL_UNREACHABLE', `no ztunnel pod runs on ${node}; see meshctl get pods -n istio-system`);
  let r;
  try {
    r = await httpGet({ netns: typeof ref === 'string' ? ref : ref.path, host: '127.0.0.1', port: 15000, path: '/config_dump' });
  } catch (err) {
    throw new MeshError('MESHCTL_ZTUNNEL_UNREACHABLE', `cannot reach the admin port of ${zt.metadata.name} on ${node}: ${(err as Error).message}; see meshctl get pods -n istio-system`);
  }
  if (r.status !== 200) throw new MeshError('MESHCTL_ZTUNNEL_ERROR', `ztunnel on ${node} answered ${r.status}: ${r.body.slice(0, 200)}`);
  return JSON.parse(r.body) as Row;
}

const isReady = (pod: Row): boolean => (pod.status?.conditions ?? []).some((c: Row) => c.type === 'Ready' && c.status === 'True');

/** The controller's debug view, reshaped like a ztunnel config dump (workloads, services, policies). */
async function controllerDump(base: string): Promise<Row> {
  const get = async (path: string): Promise<Row[]> => {
    let res: Response;
    try {
      res = await fetch(base + path, { signal: AbortSignal.timeout(10_000) });
    } catch (err) {
      throw new MeshError('MESHCTL_CONTROLLER_UNREACHABLE', `cannot reach the controller at ${base}: ${(err as Error).message}`);
    }
    if (!res.ok) throw new MeshError('MESHCTL_CONTROLLER_ERROR', `the controller answered ${res.status} for ${base + path}`);
    return (await res.json()) as Row[];
  };
  const addresses = await get('/debug/addresses');
  const endpoints = new Map<string, Record<string, unknown>>();
  for (const a of addresses) for (const key of Object.keys(a.address?.workload?.services ?? {})) endpoints.set(key, { ...endpoints.get(key), [a.address.workload.uid]: {} });
  return {
    workloads: addresses.filter((a) => a.address?.workload).map((a) => ({ ...a.address.workload, workloadIps: a.address.workload.addresses ?? [], protocol: a.address.workload.tunnelProtocol === 'HBONE' ? 'HBONE' : 'TCP', waypoint: a.address.workload.waypoint ? { destination: 'yes' } : undefined })),
    services: addresses.filter((a) => a.address?.service).map((a) => ({ ...a.address.service, vips: (a.address.service.addresses ?? []).map((x: Row) => x.address), endpoints: endpoints.get(`${a.address.service.namespace}/${a.address.service.hostname}`) ?? {}, waypoint: a.address.service.waypoint ? { destination: 'yes' } : undefined })),
    policies: (await get('/debug/authorizations')).map((a) => ({ ...a.authorization, action: a.authorization.action ?? 'ALLOW', scope: a.authorization.scope ?? 'GLOBAL' })),
  };
}

export async function ztunnelConfig(view: string | undefined, output: string | undefined, controller: string | undefined, node: string | undefined,
  kube: () => KubeConfig): Promise<void> {
  if (output && output !== 'json') throw new UsageError('-o takes json');
  if (!view || !views[view]) throw new UsageError(`ztunnel-config takes one of ${Object.keys(views).join(', ')}`);
  if (controller && !['workloads', 'services', 'policies'].includes(view)) throw new UsageError(`--controller serves workloads, services and policies; ${view} come from a ztunnel (--node)`);
  const dump = controller ? await controllerDump(controller) : await ztunnelDump(node ?? 'node-1', kube());
  if (output === 'json') {
    process.stdout.write(`${toJson(views[view].items(dump))}\n`);
    return;
  }
  process.stdout.write(`${formatColumns(views[view].header, rowsOf(view, dump))}\n`);
}
