import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeMessage } from '../shared/proto/index.ts';
import { encodeWaypointConfig } from '../shared/waypoint/codec.ts';
import { WAYPOINT_CONFIG_SCHEMA, WAYPOINT_CONFIG_TYPE_URL, type WaypointConfig } from '../shared/waypoint/config.ts';
import { WaypointConfigStore } from './store.ts';

const cfg = (route: string): WaypointConfig => ({
  schema: WAYPOINT_CONFIG_SCHEMA, namespace: 'demo', name: 'waypoint', destinations: [], authorization: [], authentication: [], rateLimits: [],
  services: [{ service: 'demo/r.demo.svc.cluster.local', ports: [{ port: 80, protocol: 'HTTP' }], tcp: [], http: [{ id: route, source: { kind: 'HTTPRoute', namespace: 'demo', name: 'r' }, matches: [], action: { kind: 'forward', backends: [{ service: 'demo/r.demo.svc.cluster.local', weight: 1 }] } }] }],
});

test('the store subscribes to its own resource by name and applies a good push', () => {
  const store = new WaypointConfigStore('demo', 'waypoint');
  const sub = store.subscription();
  assert.equal(sub.typeUrl, WAYPOINT_CONFIG_TYPE_URL);
  assert.deepEqual(sub.names, ['demo/waypoint']);
  assert.deepEqual(sub.versions(), {});
  assert.equal(sub.apply([{ name: 'demo/waypoint', version: 'v1', value: encodeWaypointConfig(cfg('a')) }], []), 1);
  assert.equal(store.listener('demo/r.demo.svc.cluster.local')?.http[0]?.id, 'a');
  assert.deepEqual(sub.versions(), { 'demo/waypoint': 'v1' });
});

test('a malformed push is refused (NACK) and the last good configuration keeps serving; so does a removal', () => {
  const store = new WaypointConfigStore('demo', 'waypoint');
  const sub = store.subscription();
  sub.apply([{ name: 'demo/waypoint', version: 'v1', value: encodeWaypointConfig(cfg('good')) }], []);
  const broken = encodeMessage('ambientmesh.waypoint.v1.WaypointConfig', { schema: WAYPOINT_CONFIG_SCHEMA, json: JSON.stringify({ ...cfg('bad'), services: 'nope' }) });
  assert.throws(() => sub.apply([{ name: 'demo/waypoint', version: 'v2', value: broken }], []), /services: must be a list/);
  assert.equal(store.listener('demo/r.demo.svc.cluster.local')?.http[0]?.id, 'good');
  assert.deepEqual(sub.versions(), { 'demo/waypoint': 'v1' });
  sub.apply([], ['demo/waypoint']);
  assert.equal(store.listener('demo/r.demo.svc.cluster.local')?.http[0]?.id, 'good');
});
