import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadWaypointEnv } from './config.ts';

const base = { INSTANCE_IP: '10.244.1.9', GATEWAY_NAME: 'waypoint', POD_NAMESPACE: 'demo', POD_NAME: 'waypoint-abc' };

test('the rendered Deployment env gives a complete configuration with Istio defaults', () => {
  const c = loadWaypointEnv({ ...base, XDS_ADDRESS: '10.100.0.1:15012' });
  assert.equal(c.serviceAccount, 'waypoint', 'the SA defaults to the Gateway name');
  assert.equal(c.caAddress, '10.100.0.1:15012', 'the CA defaults to the xDS address');
  assert.equal(c.hbonePort, 15008);
  assert.equal(c.trustDomain, 'cluster.local');
  assert.equal(c.drainSeconds, 5);
});

for (const [name, env, want] of [
  ['missing pod IP', { ...base, INSTANCE_IP: '' }, /INSTANCE_IP is required/],
  ['bad pod IP', { ...base, INSTANCE_IP: 'pod' }, /INSTANCE_IP=pod is not an IP/],
  ['missing gateway', { ...base, GATEWAY_NAME: undefined }, /GATEWAY_NAME is required \(the waypoint Deployment sets it/],
  ['port out of range', { ...base, HBONE_PORT: '70000' }, /HBONE_PORT=70000 is not a number in 0..65535/],
  ['drain not a number', { ...base, DRAIN_SECONDS: 'soon' }, /DRAIN_SECONDS=soon/],
] as const) {
  test(`refused: ${name}`, () => {
    assert.throws(() => loadWaypointEnv(env as Record<string, string | undefined>), (e: unknown) => (e as { code?: string }).code === 'WP_BAD_ENV' && want.test((e as Error).message));
  });
}
