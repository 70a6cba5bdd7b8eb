// `meshctl demo`: the main job. Starts the local cluster (with ztunnel on every node), deploys the sample apps,
// sends traffic between them as plain TCP, enrols their namespace in the ambient mesh without restarting them, sends
// the same traffic again — now HBONE mTLS — and applies an L4 DENY policy. Then it adds a waypoint for the reviews
// Service with a 90/10 canary and an L7 policy (GET only) and prints the observed split and verdicts. It prints who
// talked to whom, with which verified identity, allowed or denied, from the destination ztunnel's access log.
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { clusterPaths } from '../../localcluster/paths.ts';
import { up, readConfig } from '../../localcluster/control.ts';
import { podNetnsName } from '../../localcluster/network/index.ts';
import { loadKubeConfig, call, raw } from '../kube/client.ts';
import { apply } from './objects.ts';
import { formatColumns } from '../output.ts';
import { MeshError } from '../../shared/errors.ts';

const manifests = join(dirname(fileURLToPath(import.meta.url)), '../demo/apps.yaml');
const policy = join(dirname(fileURLToPath(import.meta.url)), '../demo/deny-tcp-echo.yaml');
const l7 = join(dirname(fileURLToPath(import.meta.url)), '../demo/waypoint.yaml');
const say = (l: string) => process.stderr.write(`• ${l}\n`);

interface PodInfo { name: string; ip: string; node: string; uid: string; ready: boolean; restarts: number }
type Kube = ReturnType<typeof loadKubeConfig>;

async function pods(kc: Kube, namespace: string, selector: string): Promise<PodInfo[]> {
  const list = await call(kc, 'GET', `/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(selector)}`);
  return (list.items ?? []).map((p: any) => ({
    name: p.metadata.name,
    uid: p.metadata.uid,
    ip: p.status?.podIP ?? '',
    node: p.spec?.nodeName ?? '',
    ready: (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'),
    restarts: (p.status?.containerStatuses ?? []).reduce((n: number, c: any) => n + (c.restartCount ?? 0), 0),
  }));
}

/** Access-log records of a ztunnel pod (JSON lines with ztunnel's field names). */
async function accessLog(kc: Kube, pod: string): Promise<Record<string, any>[]> {
  const text = (await raw(kc, 'GET', `/api/v1/namespaces/istio-system/pods/${pod}/log`, { accept: 'text/plain' })).body;
  return text.split('\n').flatMap((l) => {
    try {
      const o = JSON.parse(l);
      return o['dst.addr'] && o.direction === 'inbound' ? [o] : [];
    } catch {
      return [];
    }
  });
}

export async function demo(): Promise<number> {
  const p = clusterPaths();
  await up(p, { nodes: 2, progress: say });
  const kc = loadKubeConfig(p.kubeconfig, p.kubeconfig);
  const cid = readConfig(p)!.clusterId;
  say('deploying the sample apps (namespace demo, not in the mesh yet)');
  await apply(kc, manifests, undefined, { write: (s) => say(s.trim()) });
  const deadline = Date.now() + 120_000;
  let all: Record<string, PodInfo[]>;
  for (;;) {
    all = { echo: await pods(kc, 'demo', 'app=echo'), 'tcp-echo': await pods(kc, 'demo', 'app=tcp-echo'), client: await pods(kc, 'demo', 'app=client'), reviews: await pods(kc, 'demo', 'app=reviews') };
    if (Object.values(all).every((l) => l.length > 0 && l.every((x) => x.ready))) break;
    if (Date.now() > deadline) throw new MeshError('DEMO_NOT_READY', 'the demo pods did not become ready in 120s; see meshctl get pods -n demo');
    await sleep(500);
  }
  const client = all.client![0]!;
  const inClient = (argv: string[]) => spawnSync('ip', ['netns', 'exec', podNetnsName(cid, client.uid), ...argv], { encoding: 'utf8', timeout: 15_000 });
  const byIp = new Map([...all.echo!, ...all['tcp-echo']!].map((x) => [x.ip, x]));
  const ztunnel2 = (await pods(kc, 'istio-system', 'app=ztunnel')).find((z) => z.node === 'node-2');
  if (!ztunnel2) throw new MeshError('DEMO_NO_ZTUNNEL', 'no ztunnel pod on node-2; see meshctl get pods -n istio-system');

  const traffic = (phase: string): string[][] => {
    const rows: string[][] = [];
    for (let i = 0; i < 4; i++) {
      const r = inClient(['curl', '-sS', '--max-time', '5', 'http://echo.demo/hello']);
      let server = '?';
      let seen = '?';
      try {
        const body = JSON.parse(r.stdout) as { remoteAddress?: string; localAddress?: string; hostname?: string };
        server = byIp.get((body.localAddress ?? '').replace(/^::ffff:/, ''))?.name ?? body.hostname ?? '?';
        seen = (body.remoteAddress ?? '?').replace(/^::ffff:/, '');
      } catch {}
      rows.push([phase, `${client.name} (${client.node})`, 'http://echo.demo/hello', server, seen, r.status === 0 ? 'ok' : `failed: ${r.stderr.trim()}`]);
    }
    const tcp = inClient(['python3', '-c', "import socket;s=socket.create_connection(('tcp-echo.demo',9000),5);s.sendall(b'world\\n');print(s.recv(100).decode().strip())"]);
    rows.push([phase, `${client.name} (${client.node})`, 'tcp://tcp-echo.demo:9000', all['tcp-echo']![0]!.name, '-', tcp.status === 0 && tcp.stdout.trim() ? `ok: "${tcp.stdout.trim()}"` : `refused${tcp.stderr.includes('reset') || tcp.stderr.includes('closed') || !tcp.stdout.trim() ? ' (connection closed)' : `: ${tcp.stderr.trim().split('\n').pop()}`}`]);
    return rows;
  };

  say(`sending plain traffic from ${client.name} (${client.ip} on ${client.node})`);
  const rows = traffic('plain');

  say('enrolling namespace demo: kubectl label namespace demo istio.io/dataplane-mode=ambient');
  await call(kc, 'PATCH', '/api/v1/namespaces/demo', { body: { metadata: { labels: { 'istio.io/dataplane-mode': 'ambient' } } }, contentType: 'application/merge-patch+json' });
  const captured = (uid: string) => spawnSync('ip', ['netns', 'exec', podNetnsName(cid, uid), 'nft', 'list', 'table', 'inet', 'ztunnel'], { stdio: 'ignore' }).status === 0;
  const everyPod = [...all.echo!, ...all['tcp-echo']!, ...all.reviews!, client];
  const capDeadline = Date.now() + 30_000;
  while (!everyPod.every((x) => captured(x.uid))) {
    if (Date.now() > capDeadline) throw new MeshError('DEMO_NOT_CAPTURED', 'ztunnel did not capture the demo pods in 30 s; see meshctl logs -n istio-system <ztunnel pod>');
    await sleep(200);
  }
  const now = await pods(kc, 'demo', 'app');
  const restarted = everyPod.filter((x) => { const q = now.find((n) => n.uid === x.uid); return !q || q.restarts !== x.restarts; });
  say(`captured ${everyPod.length} running pods in place (same pods, ${restarted.length === 0 ? 'no restarts' : `${restarted.length} restarted!`})`);
  rows.push(...traffic('mesh (mTLS)'));

  say('applying an L4 policy: DENY connections from the client identity to tcp-echo');
  await apply(kc, policy, undefined, { write: (s) => say(s.trim()) });
  await sleep(1500);
  rows.push(...traffic('mesh + DENY'));

  const waypoint = await l7Step(kc, inClient);

  process.stdout.write(`\n${formatColumns(['PHASE', 'FROM', 'TO', 'SERVED BY', 'SERVER SAW CLIENT IP', 'RESULT'], rows)}\n`);
  process.stdout.write(`\nThrough the waypoint (L7): ${waypoint.lines.join('; ')}\n`);
  const records = await accessLog(kc, ztunnel2.name);
  const summary = new Map<string, number>();
  for (const r of records) {
    const key = [r['src.identity'] ?? '-', r['dst.workload'] ?? '?', r['dst.addr'], r['policy.allowed'] === false || r['error.code'] === 'ZT_POLICY_DENIED' ? 'denied' : r['error.code'] ? `failed (${r['error.code']})` : 'allowed'].join('\t');
    summary.set(key, (summary.get(key) ?? 0) + 1);
  }
  process.stdout.write(`\nWhat ztunnel on node-2 saw (its access log; identities verified by mTLS):\n${formatColumns(
    ['SOURCE IDENTITY', 'DESTINATION', 'ADDRESS', 'VERDICT', 'CONNECTIONS'],
    [...summary].map(([k, n]) => [...k.split('\t'), String(n)]),
  )}\n`);
  process.stdout.write(`\nExplore: npx meshctl ztunnel-config workloads --node node-2; npx meshctl ztunnel-config certificates --node node-1; npx meshctl logs -n istio-system ${ztunnel2.name}; npx meshctl down\n`);
  const ok = rows.every((r) => (r[0] === 'mesh + DENY' && r[2]!.startsWith('tcp://') ? !r[5]!.startsWith('ok') : r[5]!.startsWith('ok')));
  const mtls = records.some((r) => r['src.identity'] && !r['error.code']);
  return ok && mtls && restarted.length === 0 && waypoint.ok ? 0 : 1;
}

/**
 * The waypoint step: apply cli/demo/waypoint.yaml (Gateway, canary VirtualService, GET-only policy), bind the reviews
 * Service to the waypoint, wait until the Gateway is Programmed and the canary is in effect, then count 200 requests
 * by version and try a GET and a DELETE.
 */
async function l7Step(kc: Kube, inClient: (argv: string[]) => ReturnType<typeof spawnSync>): Promise<{ ok: boolean; lines: string[] }> {
  say('adding a waypoint for the reviews Service: a 90/10 canary (VirtualService) and an L7 policy (GET only)');
  await apply(kc, l7, undefined, { write: (s) => say(s.trim()) });
  await call(kc, 'PATCH', '/api/v1/namespaces/demo/services/reviews', { body: { metadata: { labels: { 'istio.io/use-waypoint': 'waypoint' } } }, contentType: 'application/merge-patch+json' });
  const url = 'http://reviews.demo:9080/';
  const count = (n: number): Record<string, number> => {
    const r = inClient(['curl', '-s', '--max-time', '20', ...Array.from({ length: n }, () => url)]);
    const out: Record<string, number> = {};
    for (const line of String(r.stdout).split('\n')) {
      try {
        const v = (JSON.parse(line) as { version?: string }).version ?? '?';
        out[v] = (out[v] ?? 0) + 1;
      } catch {}
    }
    return out;
  };
  const deadline = Date.now() + 90_000;
  for (;;) {
    const gw = await call(kc, 'GET', '/apis/gateway.networking.k8s.io/v1/namespaces/demo/gateways/waypoint');
    const programmed = (gw.status?.conditions ?? []).some((c: any) => c.type === 'Programmed' && c.status === 'True');
    // The policy answers DELETE with 403 only once the waypoint carries the traffic.
    if (programmed && String(inClient(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'DELETE', '--max-time', '5', url]).stdout) === '403') break;
    if (Date.now() > deadline) throw new MeshError('DEMO_NO_WAYPOINT', 'the waypoint did not take over the reviews traffic in 90 s; see meshctl waypoint status -n demo');
    await sleep(500);
  }
  say('waypoint demo/waypoint is programmed and carries the reviews traffic');
  const split = count(200);
  const code = (method: string): string => String(inClient(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', method, '--max-time', '5', url]).stdout);
  const get = code('GET');
  const del = code('DELETE');
  const total = Object.values(split).reduce((a, b) => a + b, 0);
  const v2 = ((split.v2 ?? 0) * 100) / Math.max(1, total);
  return {
    ok: total === 200 && v2 > 0 && v2 < 25 && get === '200' && del === '403',
    lines: [
      `canary 90/10 over ${total} requests: v1 ${split.v1 ?? 0}, v2 ${split.v2 ?? 0} (${v2.toFixed(1)}% v2)`,
      `GET → ${get} (allowed)`, `DELETE → ${del} (RBAC: access denied)`,
    ],
  };
}
