// Table rows of `meshctl ztunnel-config` from a ztunnel config dump.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rowsOf } from './ztunnel-config.ts';

const dump = {
  workloads: [
    { name: 'web-2', namespace: 'shop', workloadIps: ['10.244.2.5'], node: 'node-2', protocol: 'TCP', waypoint: { destination: 'shop/waypoint' } },
    { name: 'web-1', namespace: 'shop', workloadIps: ['10.244.1.5'], node: 'node-1', protocol: 'HBONE' },
  ],
  services: [{ name: 'web', namespace: 'shop', vips: ['/10.96.0.11'], endpoints: { a: {}, b: {} } }],
  policies: [{ name: 'p', namespace: 'shop', action: 'Allow', scope: 'Namespace', rules: [[], []] }],
  certificates: [{ identity: 'spiffe://cluster.local/ns/shop/sa/web', state: 'Available', serial: '0a', notBefore: 'a', notAfter: 'b' }],
  connections: [{ key: 'k', peerIdentity: 'spiffe://x', activeStreams: 2, ageMs: 4200 }],
  capturedPods: [{ namespace: 'shop', name: 'web-1', ip: '10.244.1.5', netns: '/var/run/netns/x', liveConnections: 3 }],
};

test('workload rows: IP, node, waypoint and protocol, sorted by namespace/name', () => {
  assert.deepEqual(rowsOf('workloads', dump), [
    ['shop', 'web-1', '10.244.1.5', 'node-1', 'None', 'HBONE'],
    ['shop', 'web-2', '10.244.2.5', 'node-2', 'shop/waypoint', 'TCP'],
  ]);
});

// VIPs come as `network/ip` (Istio's form); the default network is empty.
test('service, policy, certificate, connection and pod rows', () => {
  assert.deepEqual(rowsOf('services', dump), [['shop', 'web', '10.96.0.11', 'None', '2']]);
  assert.deepEqual(rowsOf('policies', dump), [['shop', 'p', 'Allow', 'Namespace', '2']]);
  assert.deepEqual(rowsOf('certificates', dump), [['spiffe://cluster.local/ns/shop/sa/web', 'Available', '0a', 'a', 'b']]);
  assert.deepEqual(rowsOf('connections', dump), [['k', 'spiffe://x', '2', '4s']]);
  assert.deepEqual(rowsOf('pods', dump), [['shop', 'web-1', '10.244.1.5', '/var/run/netns/x', '3']]);
});
