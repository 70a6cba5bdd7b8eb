// KubeProxy: debounce/skip logic with a fake applier, and privileged tests on a real 2-node cluster —
// `nft -c` syntax check, VIP to another node, hairpin on the same node, host-network clients, no-endpoint reject.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { requirePrivileges } from '../../test/support/privileged.ts';
import { eventually } from '../../test/support/eventually.ts';
import { KubeProxy } from './kube-proxy.ts';
import { renderProxyRules, PROXY_TABLE } from './proxy-rules.ts';
import { run } from './exec.ts';
import { curlFrom, execIn, randomClusterId, startIn, testCluster, whoamiServer } from './testsupport.ts';

function service(name: string, vip: string, port: number, targetPort: number | string): V1Service {
  return { metadata: { namespace: 'default', name }, spec: { clusterIP: vip, ports: [{ name: 'http', port, targetPort: targetPort as never }] } };
}
function endpoints(name: string, ips: string[], port: number): V1EndpointSlice {
  return {
    addressType: 'IPv4',
    metadata: { namespace: 'default', name: `${name}-x`, labels: { 'kubernetes.io/service-name': name } },
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
    ports: [{ name: 'http', port, protocol: 'TCP' }],
  };
}

test('KubeProxy debounces bursts and skips identical scripts', async () => {
  const applied: string[] = [];
  const kp = new KubeProxy({ netns: 'fake', debounceMs: 10_000, apply: async (_ns, s) => { applied.push(s); } });
  kp.update([service('a', '10.96.0.20', 80, 80)], []);
  kp.update([service('a', '10.96.0.20', 80, 8080)], []);
  await kp.flush();
  assert.equal(applied.length, 1, 'a burst is one apply');
  assert.match(applied[0]!, /10\.96\.0\.20 \. tcp \. 80/);
  kp.update([service('a', '10.96.0.20', 80, 8080)], []);
  await kp.flush();
  assert.equal(applied.length, 1, 'an identical script is not re-applied');
  kp.update([service('a', '10.96.0.20', 80, 8080)], [endpoints('a', ['10.244.1.2'], 8080)]);
  await kp.flush();
  assert.equal(applied.length, 2);
  assert.equal(kp.applies, 2);
  await kp.stop(true);
  assert.match(applied[2]!, new RegExp(`delete table ip ${PROXY_TABLE}`));
});

test('KubeProxy surfaces a failed apply and retries the same snapshot by itself', async (t) => {
  let fail = true;
  let calls = 0;
  const kp = new KubeProxy({ netns: 'fake', debounceMs: 0, retryMs: 5, apply: async () => { calls++; if (fail) throw new Error('boom'); } });
  t.after(() => kp.stop());
  kp.update([service('a', '10.96.0.20', 80, 80)], []);
  await assert.rejects(kp.flush(), /boom/);
  fail = false;
  await eventually(() => kp.applies === 1);
  assert.ok(calls >= 2);
  assert.match(kp.script!, /10\.96\.0\.20 \. tcp \. 80/);
});


test('rendered scripts pass nft -c in a throwaway netns', async (t) => {
  if (!requirePrivileges(t)) return;
  const ns = `${randomClusterId()}-nftcheck`;
  await run('ip', ['netns', 'add', ns]);
  t.after(() => run('ip', ['netns', 'del', ns]).catch(() => {}));
  const services = [
    service('web', '10.96.0.20', 80, 'http'),
    service('empty', '10.96.0.21', 81, 81),
    { metadata: { namespace: 'kube-system', name: 'kube-dns' }, spec: { clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] } },
  ] as V1Service[];
  const slices = [endpoints('web', ['10.244.1.2', '10.244.2.3', '10.244.2.4'], 8080)];
  for (const script of [renderProxyRules([], []), renderProxyRules(services, slices), renderProxyRules(services.slice(0, 1), slices)]) {
    await run('ip', ['netns', 'exec', ns, 'nft', '-c', '-f', '-'], script);
    // and for real twice: the delete-and-recreate must also work when the table already exists
    await run('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], script);
    await run('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], script);
  }
});

test('Service VIPs reach backends on another node, the same node, from host network; no endpoints rejects', async (t) => {
  if (!requirePrivileges(t)) return;
  const net = await testCluster(t, 2);
  const client = await net.addPod('node-1', { uid: 'c1c1c1c1', namespace: 'default', name: 'client' });
  const local = await net.addPod('node-1', { uid: 'b1b1b1b1', namespace: 'default', name: 'local' });
  const remote = await net.addPod('node-2', { uid: 'b2b2b2b2', namespace: 'default', name: 'remote' });
  startIn(t, local.netns, ['python3', whoamiServer, local.ip, '8080', 'local']);
  startIn(t, remote.netns, ['python3', whoamiServer, remote.ip, '8080', 'remote']);
  await eventually(async () => (await curlFrom(client.netns, remote.ip, 8080)).code === 0);
  await eventually(async () => (await curlFrom(client.netns, local.ip, 8080)).code === 0);

  const proxies = net.nodes.map((n) => new KubeProxy({ netns: n.netns, debounceMs: 0 }));
  const sync = async (services: V1Service[], slices: V1EndpointSlice[]) => {
    for (const p of proxies) p.update(services, slices);
    await Promise.all(proxies.map((p) => p.flush()));
  };
  const vip = '10.96.0.50';

  // backend on the other node: the app sees the client pod's own IP
  await sync([service('web', vip, 80, 'http')], [endpoints('web', [remote.ip], 8080)]);
  assert.deepEqual(await curlFrom(client.netns, vip, 80), { code: 0, stdout: `${client.ip} remote` });

  // backend on the same node (hairpin through node-1's stack)
  await sync([service('web', vip, 80, 'http')], [endpoints('web', [local.ip], 8080)]);
  assert.deepEqual(await curlFrom(client.netns, vip, 80), { code: 0, stdout: `${client.ip} local` });

  // a pod reaching itself through the VIP is masqueraded, so it works
  const self = await curlFrom(local.netns, vip, 80);
  assert.equal(self.code, 0);
  assert.match(self.stdout, / local$/);

  // host-network processes on either node (output hook)
  for (const n of net.nodes) {
    const r = await curlFrom(n.netns, vip, 80);
    assert.deepEqual(r, { code: 0, stdout: `${n.address} local` });
  }

  // both backends: random choice reaches both eventually
  await sync([service('web', vip, 80, 'http')], [endpoints('web', [local.ip, remote.ip], 8080)]);
  const seen = new Set<string>();
  await eventually(async () => {
    const r = await curlFrom(client.netns, vip, 80);
    if (r.code === 0) seen.add(r.stdout.split(' ')[1]!);
    return seen.size === 2;
  }, 20_000, 0);

  // no ready endpoint: refused at once (curl exit 7), counted
  await sync([service('web', vip, 80, 'http')], []);
  const refused = await curlFrom(client.netns, vip, 80);
  assert.equal(refused.code, 7, 'connection refused rather than a timeout');
  const counters = await execIn(net.nodes[0]!.netns, ['nft', 'list', 'chain', 'ip', PROXY_TABLE, 'noep-default/web/tcp/80']);
  assert.match(counters.stdout, /counter packets [1-9]/);
  const fromHost = await curlFrom(net.nodes[1]!.netns, vip, 80);
  assert.equal(fromHost.code, 7);
});
