import { test } from 'node:test';
import assert from 'node:assert/strict';
import { workloadRows, serviceRows, policyRows } from './ztunnel-config.ts';

const addresses = [
  { name: 'Kubernetes//Pod/shop/web-1', address: { workload: { name: 'web-1', namespace: 'shop', addresses: ['10.244.1.5'], node: 'node-1', tunnelProtocol: 'HBONE', services: { 'shop/web.shop.svc.cluster.local': { ports: [] } } } } },
  { name: 'Kubernetes//Pod/shop/web-2', address: { workload: { name: 'web-2', namespace: 'shop', addresses: ['10.244.2.5'], node: 'node-2', waypoint: { address: {} }, services: { 'shop/web.shop.svc.cluster.local': { ports: [] } } } } },
  { name: 'shop/web.shop.svc.cluster.local', address: { service: { name: 'web', namespace: 'shop', hostname: 'web.shop.svc.cluster.local', addresses: [{ network: '', address: '10.96.0.11' }] } } },
];

test('workload rows: IP, node, waypoint and protocol (NONE when not captured)', () => {
  assert.deepEqual(workloadRows(addresses), [
    ['shop', 'web-1', '10.244.1.5', 'node-1', 'None', 'HBONE'],
    ['shop', 'web-2', '10.244.2.5', 'node-2', 'yes', 'NONE'],
  ]);
});

test('service rows count the workloads that list the service', () => {
  assert.deepEqual(serviceRows(addresses), [['shop', 'web', '10.96.0.11', 'None', '2']]);
});

test('policy rows default action and scope as the proto does', () => {
  assert.deepEqual(policyRows([{ authorization: { name: 'p', namespace: 'shop', rules: [{}, {}] } }, { authorization: { name: 'd', namespace: 'a', action: 'DENY', scope: 'NAMESPACE' } }]), [
    ['a', 'd', 'DENY', 'NAMESPACE', '0'],
    ['shop', 'p', 'ALLOW', 'GLOBAL', '2'],
  ]);
});
