// Local cluster lifecycle commands: up, down, status, kubeconfig.
import { existsSync } from 'node:fs';
import { clusterPaths } from '../../localcluster/paths.ts';
import { up, down, runningDaemon, readConfig, readStatus } from '../../localcluster/control.ts';
import { POD_NETNS_MODES, type PodNetnsMode } from '../../localcluster/network/index.ts';
import { loadKubeConfig } from '../kube/client.ts';
import { get } from './objects.ts';
import { UsageError } from '../args.ts';

const say = (l: string) => process.stderr.write(`• ${l}\n`);
const isPodNetnsMode = (s: string): s is PodNetnsMode => (POD_NETNS_MODES as readonly string[]).includes(s);

export async function clusterUp(nodes: number, podNetns: string = 'named'): Promise<void> {
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 20) throw new UsageError('--nodes takes a number from 1 to 20');
  if (!isPodNetnsMode(podNetns)) throw new UsageError(`--pod-netns takes ${POD_NETNS_MODES.join(' or ')}`);
  const p = clusterPaths();
  const started = Date.now();
  const st = await up(p, { nodes, podNetns, progress: say });
  say(`cluster ready in ${((Date.now() - started) / 1000).toFixed(1)}s (${readConfig(p)?.nodes ?? nodes} nodes, API ${st.apiUrl ?? '?'})`);
  process.stdout.write(`kubeconfig: ${p.kubeconfig}\n`);
}

export async function clusterDown(): Promise<void> {
  await down(clusterPaths(), say);
  say('local cluster removed');
}

export async function clusterStatus(): Promise<number> {
  const p = clusterPaths();
  const pid = runningDaemon(p);
  if (!pid) {
    process.stdout.write('local cluster: not running (start it with meshctl up)\n');
    return 1;
  }
  const st = readStatus(p);
  const cfg = readConfig(p);
  process.stdout.write(`local cluster: ${st?.ready ? 'ready' : `starting (${st?.phase ?? '?'})`}, id ${cfg?.clusterId}, daemon pid ${pid}, API ${st?.apiUrl ?? '?'}\n\n`);
  if (!st?.ready) return 1;
  const kc = loadKubeConfig(p.kubeconfig, p.kubeconfig);
  const out = { write: (s: string) => void process.stdout.write(s) };
  await get(kc, { kind: 'nodes', allNamespaces: false, output: 'wide' }, out);
  process.stdout.write('\n');
  await get(kc, { kind: 'pods', allNamespaces: true, output: 'wide' }, out);
  return 0;
}

export function kubeconfigPath(): number {
  const p = clusterPaths();
  if (!existsSync(p.kubeconfig)) {
    process.stderr.write('no local cluster yet; run meshctl up\n');
    return 1;
  }
  process.stdout.write(`${p.kubeconfig}\n`);
  return 0;
}
