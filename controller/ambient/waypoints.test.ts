import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Namespace, V1ObjectMeta } from '@kubernetes/client-node';
import { bytes, gateway, namespace } from './fixtures.ts';
import type { Gateway } from './inputs.ts';
import { bindWaypoint, waypointRef, type TrafficType } from './waypoints.ts';

const meta = (labels: Record<string, string> = {}, ns = 'default'): V1ObjectMeta => ({ name: 'obj', namespace: ns, labels });

test('waypointRef: object label over namespace label; none opts out', async (t) => {
  const cases: { name: string; meta: V1ObjectMeta; ns: V1Namespace | undefined; want: { namespace: string; name: string } | undefined }[] = [
    { name: 'no labels', meta: meta(), ns: namespace('default'), want: undefined },
    { name: 'object label, own namespace', meta: meta({ 'istio.io/use-waypoint': 'wp' }), ns: namespace('default'), want: { namespace: 'default', name: 'wp' } },
    { name: 'object label with waypoint namespace', meta: meta({ 'istio.io/use-waypoint': 'wp', 'istio.io/use-waypoint-namespace': 'infra' }), ns: namespace('default'), want: { namespace: 'infra', name: 'wp' } },
    { name: 'namespace label', meta: meta(), ns: namespace('default', { 'istio.io/use-waypoint': 'nswp' }), want: { namespace: 'default', name: 'nswp' } },
    { name: 'namespace label with namespace', meta: meta(), ns: namespace('default', { 'istio.io/use-waypoint': 'nswp', 'istio.io/use-waypoint-namespace': 'infra' }), want: { namespace: 'infra', name: 'nswp' } },
    { name: 'object overrides namespace', meta: meta({ 'istio.io/use-waypoint': 'mine' }), ns: namespace('default', { 'istio.io/use-waypoint': 'nswp' }), want: { namespace: 'default', name: 'mine' } },
    { name: 'object none opts out of namespace waypoint', meta: meta({ 'istio.io/use-waypoint': 'none' }), ns: namespace('default', { 'istio.io/use-waypoint': 'nswp' }), want: undefined },
    { name: 'namespace none', meta: meta(), ns: namespace('default', { 'istio.io/use-waypoint': 'none' }), want: undefined },
  ];
  for (const c of cases) await t.test(c.name, () => assert.deepEqual(waypointRef(c.meta, c.ns), c.want));
});

test('bindWaypoint', async (t) => {
  const gws: Gateway[] = [
    gateway('svc-wp'),
    gateway('wl-wp', { waypointFor: 'workload', address: '10.96.0.98' }),
    gateway('all-wp', { waypointFor: 'all', address: '10.96.0.97' }),
    gateway('none-wp', { waypointFor: 'none' }),
    gateway('pending-wp', { address: '' }),
    gateway('ingress', { className: 'istio' }),
    gateway('dns-wp', { waypointFor: 'all', address: 'wp.default.svc.cluster.local' }),
  ];
  const lookup = (ns: string, name: string): Gateway | undefined => gws.find((g) => g.metadata?.namespace === ns && g.metadata.name === name);
  const cases: { name: string; use: string; traffic: TrafficType; ip?: number[]; hostname?: string; reason?: RegExp }[] = [
    { name: 'service → default (service) waypoint', use: 'svc-wp', traffic: 'service', ip: [10, 96, 0, 99] },
    { name: 'workload → service-only waypoint is refused', use: 'svc-wp', traffic: 'workload', reason: /does not accept workload/ },
    { name: 'workload → workload waypoint', use: 'wl-wp', traffic: 'workload', ip: [10, 96, 0, 98] },
    { name: 'service → workload-only waypoint is refused', use: 'wl-wp', traffic: 'service', reason: /does not accept service/ },
    { name: 'all accepts services', use: 'all-wp', traffic: 'service', ip: [10, 96, 0, 97] },
    { name: 'all accepts workloads', use: 'all-wp', traffic: 'workload', ip: [10, 96, 0, 97] },
    { name: 'none accepts nothing', use: 'none-wp', traffic: 'service', reason: /does not accept/ },
    { name: 'missing gateway', use: 'ghost', traffic: 'service', reason: /not found/ },
    { name: 'gateway without address', use: 'pending-wp', traffic: 'service', reason: /no address/ },
    { name: 'non-waypoint class', use: 'ingress', traffic: 'service', reason: /not a waypoint/ },
    { name: 'hostname address', use: 'dns-wp', traffic: 'service', hostname: 'wp.default.svc.cluster.local' },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      const b = bindWaypoint(meta({ 'istio.io/use-waypoint': c.use }), namespace('default'), c.traffic, lookup, 'net1');
      assert.ok(b);
      assert.deepEqual(b.ref, { namespace: 'default', name: c.use });
      if (c.reason) {
        assert.equal(b.address, undefined);
        assert.match(b.reason ?? '', c.reason);
      } else if (c.hostname) {
        assert.deepEqual(b.address, { hostname: { namespace: 'default', hostname: c.hostname }, hboneMtlsPort: 15008 });
      } else {
        assert.deepEqual(b.address, { address: { network: 'net1', address: bytes(...(c.ip ?? [])) }, hboneMtlsPort: 15008 });
      }
    });
  }
  await t.test('use-waypoint none → no binding at all', () => {
    assert.equal(bindWaypoint(meta({ 'istio.io/use-waypoint': 'none' }), namespace('default', { 'istio.io/use-waypoint': 'svc-wp' }), 'service', lookup, 'net1'), undefined);
  });
  await t.test('a waypoint pod never binds to a waypoint', () => {
    const m = meta({ 'gateway.networking.k8s.io/gateway-name': 'all-wp' });
    assert.equal(bindWaypoint(m, namespace('default', { 'istio.io/use-waypoint': 'all-wp' }), 'workload', lookup, 'net1'), undefined);
  });
});
