// Table tests of the pure address and command plans.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkClusterId, fabricBatch, nodeBatch, nodeNet, podBatch, podHostVeth, podNetnsName, podNodeBatch,
  renderHosts, renderResolvConf,
} from './plan.ts';

test('node addresses follow the topology', () => {
  for (const [i, addr, cidr] of [[1, '10.100.0.11', '10.244.1.0/24'], [2, '10.100.0.12', '10.244.2.0/24'], [200, '10.100.0.210', '10.244.200.0/24']] as const) {
    const n = nodeNet('mc1a2b', i);
    assert.deepEqual(n, { name: `node-${i}`, index: i, netns: `mc1a2b-node-${i}`, address: addr, podCIDR: cidr });
  }
  assert.throws(() => nodeNet('mc1a2b', 0), { code: 'NET_BAD_CONFIG' });
  assert.throws(() => nodeNet('mc1a2b', 201), { code: 'NET_BAD_CONFIG' });
});

test('cluster ids and pod names are safe for netns and interface names', () => {
  for (const bad of ['', 'A1', '1abc', 'a-b', 'a/../b', 'abcdefghijklmnopq']) assert.throws(() => checkClusterId(bad), { code: 'NET_BAD_CONFIG' }, bad);
  checkClusterId('t0a1b2c');
  assert.equal(podNetnsName('t0a1b2c', '3F2A9C1D-77aa-4bb0-9c1d-000000000000'), 't0a1b2c-pod-3f2a9c1d');
  assert.equal(podNetnsName('t0a1b2c', 'ab-cd-ef-01-23'), 't0a1b2c-pod-abcdef01');
  assert.equal(podHostVeth('3f2a9c1d-77aa').length <= 15, true);
  assert.throws(() => podNetnsName('t0a1b2c', '--'), { code: 'NET_BAD_CONFIG' });
});

test('fabric batch: bridge, one veth per node into its netns, a route per pod CIDR', () => {
  const nodes = [nodeNet('c', 1), nodeNet('c', 2)];
  const lines = fabricBatch(nodes);
  assert.ok(lines.includes('addr add 10.100.0.1/24 dev br0'));
  assert.ok(lines.includes('link add name node2 type veth peer name eth0 netns c-node-2'));
  assert.ok(lines.includes('link set node1 master br0'));
  assert.ok(lines.includes('route add 10.244.2.0/24 via 10.100.0.12 dev br0'));
  assert.ok(lines.indexOf('link set node2 up') < lines.indexOf('route add 10.244.2.0/24 via 10.100.0.12 dev br0'));
});

test('node batch: own address, Service CIDR via the fabric, other nodes pod CIDRs, never its own', () => {
  const nodes = [nodeNet('c', 1), nodeNet('c', 2), nodeNet('c', 3)];
  const lines = nodeBatch(nodes[1]!, nodes);
  assert.ok(lines.includes('addr add 10.100.0.12/24 dev eth0'));
  assert.ok(lines.includes('route add 10.96.0.0/16 via 10.100.0.1 dev eth0'));
  assert.ok(lines.includes('route add 10.244.1.0/24 via 10.100.0.11 dev eth0'));
  assert.ok(lines.includes('route add 10.244.3.0/24 via 10.100.0.13 dev eth0'));
  assert.ok(!lines.some((l) => l.includes('10.244.2.0/24')));
});

test('pod batches: routed /32 on both sides, on-link default gateway', () => {
  assert.deepEqual(podNodeBatch('aaaa1111-22', 'c-pod-aaaa1111', '10.244.1.7'), [
    'link add name vpaaaa1111 type veth peer name eth0 netns c-pod-aaaa1111',
    'link set vpaaaa1111 up',
    'route add 10.244.1.7/32 dev vpaaaa1111',
  ]);
  const pod = podBatch('10.244.1.7');
  assert.ok(pod.includes('addr add 10.244.1.7/32 dev eth0'));
  assert.ok(pod.includes('route add default via 169.254.1.1 dev eth0 onlink'));
  assert.ok(pod.includes('link set lo up'));
});

test('resolv.conf and hosts', () => {
  assert.equal(renderResolvConf('shop'), 'nameserver 10.96.0.10\nsearch shop.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n');
  assert.equal(renderResolvConf(undefined), 'nameserver 10.96.0.10\nsearch svc.cluster.local cluster.local\noptions ndots:5\n');
  const hosts = renderHosts('web-0', '10.244.1.7');
  assert.match(hosts, /^127\.0\.0\.1\tlocalhost$/m);
  assert.match(hosts, /^10\.244\.1\.7\tweb-0$/m);
});
