// Test support for capture's privileged tests (not part of the folder's face): a small routed topology
// in fresh namespaces named zth5-<hex>-*, deleted in the test's t.after (also when it fails).
//
//   node  (lo: 10.100.0.11/32, ip_forward, proxy ARP on its veths)
//    ├─ veth z<hex>p ── pod  (eth0 10.244.1.5/32, default dev eth0)
//    └─ veth z<hex>q ── peer (eth0 10.244.2.7/32 and 10.244.3.7/32, default dev eth0)
//
// Pod interfaces are routed /32s as in localcluster/network; with proxy ARP on the node side a plain
// `default dev eth0` in the pod is enough (no gateway address needed). Every address exists only in
// these namespaces; nothing is added to the root namespace.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { eventually } from '../../test/support/eventually.ts';

export const POD_IP = '10.244.1.5';
export const PEER_IP = '10.244.2.7';
/** A second peer address outside the excluded range, for port-exclusion cases. */
export const PEER_IP2 = '10.244.3.7';
export const NODE_IP = '10.100.0.11';
export const POD_IP6 = 'fd44:1::5';
export const PEER_IP6 = 'fd44:2::7';
/** The node side of every veth, as the pods' IPv6 next hop (IPv6 has no proxy-ARP shortcut). */
const NODE_LL6 = 'fe80::1';

export interface Topology {
  id: string;
  node: string;
  pod: string;
  peer: string;
}

/** Runs a command (bounded to 10 s); throws with its stderr when it fails. */
export function sh(argv: string[], input?: string): string {
  const [cmd, ...args] = argv;
  const r = spawnSync(cmd!, args, { input, encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return r.stdout;
}

export function inNs(ns: string, argv: string[]): string {
  return sh(['ip', 'netns', 'exec', ns, ...argv]);
}

export function buildTopology(t: TestContext): Topology {
  const id = randomBytes(3).toString('hex');
  const topo: Topology = { id, node: `zth5-${id}-node`, pod: `zth5-${id}-pod`, peer: `zth5-${id}-peer` };
  const created: string[] = [];
  t.after(() => {
    for (const ns of created) spawnSync('ip', ['netns', 'del', ns], { timeout: 10_000 });
  });
  for (const ns of [topo.node, topo.pod, topo.peer]) {
    sh(['ip', 'netns', 'add', ns]);
    created.push(ns);
    sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }
  inNs(topo.node, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.default.proxy_arp=1',
    'net.ipv6.conf.all.forwarding=1']);
  // Strict reverse-path filtering in the pod, as many nodes set it: the capture must not need it off.
  inNs(topo.pod, ['sysctl', '-q', '-w', 'net.ipv4.conf.all.rp_filter=1', 'net.ipv4.conf.default.rp_filter=1']);
  // On lo: this kernel may lack the dummy driver, and the node answers ARP for any local address.
  sh(['ip', '-n', topo.node, 'addr', 'add', `${NODE_IP}/32`, 'dev', 'lo']);
  wire(topo.node, `z${id}p`, topo.pod, [POD_IP, POD_IP6]);
  wire(topo.node, `z${id}q`, topo.peer, [PEER_IP, PEER_IP2, PEER_IP6]);
  return topo;
}

/** A veth from the node into `target` (a netns name or a pid), with /32 addresses and routes. */
export function wire(node: string, hostVeth: string, target: string | number, ips: string[]): void {
  sh(['ip', '-n', node, 'link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', String(target)]);
  sh(['ip', '-n', node, 'link', 'set', hostVeth, 'up']);
  // Proxy ARP otherwise answers after a random delay of up to 0.8 s (per device: no netns default).
  inNs(node, ['sysctl', '-q', '-w', `net.ipv4.neigh.${hostVeth}.proxy_delay=0`]);
  const v6 = ips.some((ip) => ip.includes(':'));
  if (v6) sh(['ip', '-n', node, 'addr', 'add', `${NODE_LL6}/64`, 'dev', hostVeth, 'nodad']);
  for (const ip of ips) sh(['ip', '-n', node, 'route', 'add', hostRoute(ip), 'dev', hostVeth]);
  const inTarget = typeof target === 'number' ? ['nsenter', `--net=/proc/${target}/ns/net`, 'ip'] : ['ip', '-n', target];
  sh([...inTarget, '-batch', '-'], [
    ...ips.map((ip) => `addr add ${hostRoute(ip)} dev eth0${ip.includes(':') ? ' nodad' : ''}`),
    'link set lo up',
    'link set eth0 up',
    'route add default dev eth0',
    ...(v6 ? [`route add ::/0 via ${NODE_LL6} dev eth0`] : []),
  ].join('\n') + '\n');
}

function hostRoute(ip: string): string {
  return ip.includes(':') ? `${ip}/128` : `${ip}/32`;
}

/** `unshare --net sleep 60`: a namespace held only by a process, killed after the test. */
export async function unnamedNetns(t: TestContext): Promise<ChildProcess> {
  const child = spawn('unshare', ['--net', 'sleep', '60'], { stdio: 'ignore' });
  t.after(() => {
    child.kill('SIGKILL');
  });
  const own = statSync('/proc/self/ns/net').ino;
  // unshare execs sleep in place, so the pid is the holder; wait until it has left our namespace.
  await eventually(() => statSync(`/proc/${child.pid}/ns/net`).ino !== own, 5000);
  return child;
}
