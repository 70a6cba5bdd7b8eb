// Table tests of the policy-routing planners over real `ip -j` listings.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hasRoutingRule, routingReleaseLines, routingSetupLines } from './routing.ts';

const plain4 = [
  { priority: 0, src: 'all', table: 'local' },
  { priority: 32766, src: 'all', table: 'main' },
  { priority: 32767, src: 'all', table: 'default' },
];
const ours = { priority: 32764, src: 'all', fwmark: '0x111', fwmask: '0xfff', table: '133' };
const otherMark = { priority: 100, src: 'all', fwmark: '0x111', table: '133' }; // mask 0xffffffff: not ours
const ourRoute = { type: 'local', dst: 'default', dev: 'lo', scope: 'host', flags: [] };

test('routingSetupLines: adds the rule only when missing; the route is always replaced', () => {
  assert.deepEqual(routingSetupLines(4, plain4), [
    'route replace local 0.0.0.0/0 dev lo table 133',
    'rule add fwmark 0x111/0xfff lookup 133 priority 32764',
  ]);
  assert.deepEqual(routingSetupLines(4, [...plain4, ours]), ['route replace local 0.0.0.0/0 dev lo table 133']);
  assert.deepEqual(routingSetupLines(6, [ours]), ['route replace local ::/0 dev lo table 133']);
  assert.deepEqual(routingSetupLines(6, [otherMark]), [
    'route replace local ::/0 dev lo table 133',
    'rule add fwmark 0x111/0xfff lookup 133 priority 32764',
  ]);
});

test('routingReleaseLines: removes every copy of ours and nothing else', () => {
  assert.deepEqual(routingReleaseLines(4, plain4, []), []);
  assert.deepEqual(routingReleaseLines(4, [...plain4, ours, { ...ours, priority: 5 }, otherMark], [ourRoute]), [
    'rule del fwmark 0x111/0xfff lookup 133 priority 32764',
    'rule del fwmark 0x111/0xfff lookup 133 priority 5',
    'route del local 0.0.0.0/0 dev lo table 133',
  ]);
  assert.deepEqual(routingReleaseLines(6, [], [ourRoute, { type: 'unicast', dst: 'fd00::/8', dev: 'eth0' }]), [
    'route del local ::/0 dev lo table 133',
  ]);
  assert.deepEqual(routingReleaseLines(4, 'garbage', null), []);
});

test('hasRoutingRule', () => {
  assert.equal(hasRoutingRule(plain4), false);
  assert.equal(hasRoutingRule([...plain4, ours]), true);
  assert.equal(hasRoutingRule([otherMark]), false);
});
