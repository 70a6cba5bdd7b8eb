// Privileged, end to end: a pod's resolv.conf → 10.96.0.10 → kube-proxy DNAT on its node → the DNS server in the
// fabric netns at 10.100.0.1:53, over UDP and TCP, from a pod and from a host-network process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { requirePrivileges } from '../../test/support/privileged.ts';
import { eventually } from '../../test/support/eventually.ts';
import { ClusterNetwork, KubeProxy, cleanupFromRecord } from '../network/index.ts';

const serveScript = join(dirname(fileURLToPath(import.meta.url)), 'testdata/serve.ts');

function execIn(netns: string, args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', netns, ...args], { timeout: 10_000 }, (err, stdout) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: String(stdout) });
    });
  });
}

const services: V1Service[] = [
  { metadata: { namespace: 'default', name: 'web' }, spec: { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80 }] } },
  {
    metadata: { namespace: 'kube-system', name: 'kube-dns' },
    spec: { clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] },
  },
];
const slices: V1EndpointSlice[] = [{
  addressType: 'IPv4',
  metadata: { namespace: 'kube-system', name: 'kube-dns-1', labels: { 'kubernetes.io/service-name': 'kube-dns' } },
  endpoints: [{ addresses: ['10.100.0.1'], conditions: { ready: true } }],
  ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }],
}];

test('pods and host-network processes resolve Services through 10.96.0.10', async (t) => {
  if (!requirePrivileges(t)) return;
  const stateDir = mkdtempSync(join(tmpdir(), 'lcdns-'));
  t.after(async () => {
    await cleanupFromRecord(stateDir);
    rmSync(stateDir, { recursive: true, force: true });
  });
  const net = await ClusterNetwork.create({ clusterId: `t${randomBytes(3).toString('hex')}`, stateDir, nodeCount: 2 });
  const pod = await net.addPod('node-2', { uid: 'd00d0001', namespace: 'default', name: 'client' });

  const proxies = net.nodes.map((n) => new KubeProxy({ netns: n.netns, debounceMs: 0 }));
  for (const p of proxies) p.update(services, slices);
  await Promise.all(proxies.map((p) => p.flush()));

  const dns = spawn('ip', ['netns', 'exec', net.fabric.netns, process.execPath, serveScript, net.fabric.address, JSON.stringify({ services, slices })],
    { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => { try { process.kill(-dns.pid!, 'SIGKILL'); } catch {} });
  const [first] = await once(dns.stdout!, 'data') as [Buffer];
  assert.equal(first.toString().trim(), 'ready');

  // glibc in the pod: search path expansion from the pod's resolv.conf, UDP
  const short = await eventually(async () => {
    const r = await execIn(pod.netns, ['getent', 'ahostsv4', 'web']);
    return r.code === 0 ? r : undefined;
  });
  assert.match(short.stdout, /^10\.96\.0\.20\s/m);
  // TCP through the same VIP
  const tcp = await execIn(pod.netns, ['dig', '+tcp', '+short', '+time=2', '+tries=1', 'web.default.svc.cluster.local']);
  assert.equal(tcp.stdout.trim(), '10.96.0.20');
  // unknown names fail cleanly (NXDOMAIN), not by timeout
  const missing = await execIn(pod.netns, ['dig', '+time=2', '+tries=1', 'nope.default.svc.cluster.local']);
  assert.match(missing.stdout, /status: NXDOMAIN/);
  // a host-network process on the other node
  const host = await execIn(net.nodes[0]!.netns, ['getent', 'ahostsv4', 'web.default.svc.cluster.local']);
  assert.match(host.stdout, /^10\.96\.0\.20\s/m);
});
