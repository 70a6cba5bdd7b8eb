// `meshctl demo`: the main job. Starts the local cluster, deploys the sample apps, sends traffic
// between them through Service names and prints who talked to whom.
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { clusterPaths } from '../../localcluster/paths.ts';
import { up, readConfig } from '../../localcluster/control.ts';
import { podNetnsName } from '../../localcluster/network/index.ts';
import { loadKubeConfig, call } from '../kube/client.ts';
import { apply } from './objects.ts';
import { formatColumns } from '../output.ts';
import { MeshError } from '../../shared/errors.ts';

const manifests = join(dirname(fileURLToPath(import.meta.url)), '../demo/apps.yaml');
const say = (l: string) => process.stderr.write(`• ${l}\n`);

interface PodInfo { name: string; ip: string; node: string; uid: string; ready: boolean }

async function pods(kc: ReturnType<typeof loadKubeConfig>, app: string): Promise<PodInfo[]> {
  const list = await call(kc, 'GET', `/api/v1/namespaces/demo/pods?labelSelector=app%3D${app}`);
  return (list.items ?? []).map((p: any) => ({
    name: p.metadata.name,
    uid: p.metadata.uid,
    ip: p.status?.podIP ?? '',
    node: p.spec?.nodeName ?? '',
    ready: (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'),
  }));
}

export async function demo(): Promise<number> {
  const p = clusterPaths();
  await up(p, { nodes: 2, progress: say });
  const kc = loadKubeConfig(p.kubeconfig, p.kubeconfig);
  const cid = readConfig(p)!.clusterId;
  say('deploying the sample apps (namespace demo)');
  await apply(kc, manifests, undefined, { write: (s) => say(s.trim()) });
  const deadline = Date.now() + 120_000;
  let all: Record<string, PodInfo[]>;
  for (;;) {
    all = { echo: await pods(kc, 'echo'), 'tcp-echo': await pods(kc, 'tcp-echo'), client: await pods(kc, 'client') };
    if (Object.values(all).every((l) => l.length > 0 && l.every((x) => x.ready))) break;
    if (Date.now() > deadline) throw new MeshError('DEMO_NOT_READY', 'the demo pods did not become ready in 120s; see meshctl get pods -n demo');
    await sleep(500);
  }
  const client = all.client![0]!;
  const inClient = (argv: string[]) => spawnSync('ip', ['netns', 'exec', podNetnsName(cid, client.uid), ...argv], { encoding: 'utf8', timeout: 10_000 });
  say(`sending traffic from ${client.name} (${client.ip} on ${client.node})`);
  const rows: string[][] = [];
  const byIp = new Map([...all.echo!, ...all['tcp-echo']!].map((x) => [x.ip, x]));
  for (let i = 0; i < 6; i++) {
    const r = inClient(['curl', '-sS', '--max-time', '5', 'http://echo.demo/hello']);
    let server = '?';
    let seen = '?';
    try {
      const body = JSON.parse(r.stdout) as { remoteAddress?: string; localAddress?: string; hostname?: string };
      server = byIp.get((body.localAddress ?? '').replace(/^::ffff:/, ''))?.name ?? body.hostname ?? '?';
      seen = (body.remoteAddress ?? '?').replace(/^::ffff:/, '');
    } catch {}
    rows.push([`${client.name} (${client.node})`, 'http://echo.demo/hello', server, seen, r.status === 0 ? 'ok' : `failed: ${r.stderr.trim()}`]);
  }
  const tcp = inClient(['python3', '-c', "import socket;s=socket.create_connection(('tcp-echo.demo',9000),5);s.sendall(b'world\\n');print(s.recv(100).decode().strip())"]);
  rows.push([`${client.name} (${client.node})`, 'tcp://tcp-echo.demo:9000', all['tcp-echo']![0]!.name, '-', tcp.status === 0 ? `ok: "${tcp.stdout.trim()}"` : `failed: ${tcp.stderr.trim()}`]);
  process.stdout.write(`\n${formatColumns(['FROM', 'TO', 'SERVED BY', 'SERVER SAW CLIENT IP', 'RESULT'], rows)}\n`);
  process.stdout.write('\nTraffic is plain TCP for now: the mesh (ztunnel, mTLS) is not installed yet.\n');
  process.stdout.write(`Explore: npx meshctl get pods -n demo -o wide; npx meshctl exec -n demo ${client.name} -- curl -s http://echo.demo/; npx meshctl down\n`);
  return rows.every((r) => r[4]!.startsWith('ok')) ? 0 : 1;
}
