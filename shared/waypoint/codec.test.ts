import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeMessage } from '../proto/index.ts';
import { WAYPOINT_CONFIG_SCHEMA, type WaypointConfig } from './config.ts';
import { decodeWaypointConfig, encodeWaypointConfig, InvalidWaypointConfigError } from './codec.ts';

const good: WaypointConfig = {
  schema: WAYPOINT_CONFIG_SCHEMA, namespace: 'demo', name: 'waypoint',
  services: [{
    service: 'demo/reviews.demo.svc.cluster.local', ports: [{ port: 9080, protocol: 'HTTP' }], tcp: [],
    http: [{ id: 'VirtualService/demo/reviews#0', source: { kind: 'VirtualService', namespace: 'demo', name: 'reviews' }, matches: [{ headers: [{ name: 'end-user', value: { exact: 'jason' } }] }], action: { kind: 'forward', backends: [{ service: 'demo/reviews.demo.svc.cluster.local', subset: 'v2', weight: 100 }] } }],
  }],
  destinations: [], authorization: [{ namespace: 'demo', name: 'p', action: 'ALLOW', target: { all: true }, rules: [] }], authentication: [], rateLimits: [],
};

test('a config survives the envelope unchanged', () => {
  assert.deepEqual(decodeWaypointConfig(encodeWaypointConfig(good)), good);
});

const bad = (mutate: (c: any) => void): Buffer => {
  const c = structuredClone(good) as any;
  mutate(c);
  return encodeMessage('ambientmesh.waypoint.v1.WaypointConfig', { schema: WAYPOINT_CONFIG_SCHEMA, json: JSON.stringify(c) });
};

for (const [name, buf, want] of [
  ['unknown schema', encodeMessage('ambientmesh.waypoint.v1.WaypointConfig', { schema: 99, json: '{}' }), /schema 99/],
  ['not JSON', encodeMessage('ambientmesh.waypoint.v1.WaypointConfig', { schema: WAYPOINT_CONFIG_SCHEMA, json: '{' }), /not valid JSON/],
  ['services not a list', bad((c) => { c.services = {}; }), /^invalid waypoint config: services: must be a list/],
  ['bad port', bad((c) => { c.services[0].ports[0].port = 70000; }), /services\[0\]\.ports\[0\]/],
  ['bad regex', bad((c) => { c.services[0].http[0].matches = [{ path: { regex: '(' } }]; }), /services\[0\]\.http\[0\]\.matches\[0\]\.path\.regex/],
  ['source not lists', bad((c) => { c.services[0].http[0].matches = [{ source: { namespaces: 'shop' } }]; }), /services\[0\]\.http\[0\]\.matches\[0\]\.source/],
  ['unknown action', bad((c) => { c.services[0].http[0].action = { kind: 'teleport' }; }), /action\.kind/],
  ['backend without key', bad((c) => { c.services[0].http[0].action.backends[0].service = 'reviews'; }), /backends\[0\]\.service/],
  ['invalidStatus not 5xx', bad((c) => { c.services[0].http[0].action.backends[0].invalidStatus = 200; }), /backends\[0\]\.invalidStatus/],
  ['negative weight', bad((c) => { c.services[0].http[0].action.backends[0].weight = -1; }), /weight/],
  ['policy without target', bad((c) => { delete c.authorization[0].target; }), /authorization\[0\]\.target/],
] as const) {
  test(`refused: ${name}`, () => {
    assert.throws(() => decodeWaypointConfig(buf), (e: unknown) => e instanceof InvalidWaypointConfigError && e.code === 'WP_INVALID_CONFIG' && want.test(e.message));
  });
}
