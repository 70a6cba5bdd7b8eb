// The status of a waypoint Gateway from what the cluster shows, and of the istio-waypoint GatewayClass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Deployment, V1Pod, V1Service } from '@kubernetes/client-node';
import { checkWaypointListeners, type GatewayStatus, type WaypointGateway } from './render.ts';
import { gatewayClassStatus, sameStatus, waypointStatus, type Observed } from './status.ts';

const T0 = '2025-01-01T00:00:00Z';
const T1 = '2025-01-01T00:01:00Z';

const gateway = (status?: GatewayStatus, port = 15008): WaypointGateway => ({
  metadata: { name: 'waypoint', namespace: 'demo', generation: 3 },
  spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port, protocol: 'HBONE' }] },
  ...(status ? { status } : {}),
});
const deployment = (ready: number, replicas = 1): V1Deployment => ({ spec: { replicas, selector: {}, template: {} }, status: { readyReplicas: ready } });
const service = (ip?: string): V1Service => ({ spec: ip ? { clusterIP: ip } : {} });
const crashing: V1Pod = {
  metadata: { name: 'waypoint-abc' },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }], containerStatuses: [{ name: 'istio-proxy', ready: false, restartCount: 3, image: '', imageID: '', state: { waiting: { reason: 'CrashLoopBackOff' } } }] },
};

const status = (gw: WaypointGateway, seen: Observed, now = T0) => waypointStatus(gw, checkWaypointListeners(gw), seen, now);
const cond = (s: GatewayStatus, type: string) => s.conditions?.find((c) => c.type === type);

const cases: Array<{ name: string; gw: WaypointGateway; seen: Observed; programmed: [string, string, RegExp]; addresses: string[] }> = [
  { name: 'nothing deployed yet', gw: gateway(), seen: {}, programmed: ['False', 'Pending', /waiting for deployment demo\/waypoint to be created/], addresses: [] },
  { name: 'service without a cluster IP', gw: gateway(), seen: { deployment: deployment(0), service: service() }, programmed: ['False', 'Pending', /service demo\/waypoint to be assigned a cluster IP/], addresses: [] },
  { name: 'no ready replica, pod crashing', gw: gateway(), seen: { deployment: deployment(0), service: service('10.96.0.20'), pods: [crashing] }, programmed: ['False', 'Pending', /\(0\/1 ready\); pod waypoint-abc: CrashLoopBackOff$/], addresses: [] },
  { name: 'ready', gw: gateway(), seen: { deployment: deployment(1), service: service('10.96.0.20') }, programmed: ['True', 'Programmed', /assigned to service\(s\) waypoint\.demo\.svc\.cluster\.local:15008/], addresses: ['10.96.0.20'] },
  {
    name: 'was ready, now no ready replica: the address stays (traffic must not skip the waypoint)',
    gw: gateway({ addresses: [{ type: 'IPAddress', value: '10.96.0.20' }] }), seen: { deployment: deployment(0, 2), service: service('10.96.0.20') },
    programmed: ['False', 'Pending', /\(0\/2 ready\)/], addresses: ['10.96.0.20'],
  },
  {
    name: 'an old address that is not the Service\'s is dropped',
    gw: gateway({ addresses: [{ type: 'IPAddress', value: '10.96.0.99' }] }), seen: { deployment: deployment(0), service: service('10.96.0.20') },
    programmed: ['False', 'Pending', /0\/1 ready/], addresses: [],
  },
  { name: 'rejected listener', gw: gateway(undefined, 80), seen: {}, programmed: ['False', 'Invalid', /not accepted/], addresses: [] },
];

for (const c of cases) {
  test(`status: ${c.name}`, () => {
    const s = status(c.gw, c.seen);
    const p = cond(s, 'Programmed')!;
    assert.deepEqual([p.status, p.reason], c.programmed.slice(0, 2));
    assert.match(p.message, c.programmed[2]);
    assert.deepEqual(s.addresses, c.addresses.map((value) => ({ type: 'IPAddress', value })));
    assert.equal(p.observedGeneration, 3);
    assert.equal(p.lastTransitionTime, T0);
  });
}

test('accepted waypoint: Accepted True and a listener status for mesh', () => {
  const s = status(gateway(), { deployment: deployment(1), service: service('10.96.0.20') });
  assert.deepEqual(cond(s, 'Accepted'), { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'Resource accepted', observedGeneration: 3, lastTransitionTime: T0 });
  assert.equal(s.listeners?.length, 1);
  const l = s.listeners![0]!;
  assert.equal(l.name, 'mesh');
  assert.equal(l.attachedRoutes, 0);
  assert.deepEqual(l.conditions.map((c) => [c.type, c.status, c.reason]), [
    ['Accepted', 'True', 'Accepted'], ['Programmed', 'True', 'Programmed'], ['ResolvedRefs', 'True', 'ResolvedRefs'], ['Conflicted', 'False', 'NoConflicts'],
  ]);
});

test('rejected waypoint: Accepted False Invalid naming the field, listener not accepted', () => {
  const s = status(gateway(undefined, 80), {});
  const a = cond(s, 'Accepted')!;
  assert.deepEqual([a.status, a.reason], ['False', 'Invalid']);
  assert.match(a.message, /^spec\.listeners\[0\]\.port:/);
  const l = s.listeners![0]!.conditions.find((c) => c.type === 'Accepted')!;
  assert.deepEqual([l.status, l.reason], ['False', 'PortUnavailable']);
});

test('lastTransitionTime moves only when a condition\'s status changes', () => {
  const pending = status(gateway(), { deployment: deployment(0), service: service('10.96.0.20') }, T0);
  const still = status(gateway(pending), { deployment: deployment(0), service: service('10.96.0.20') }, T1);
  assert.equal(cond(still, 'Programmed')!.lastTransitionTime, T0);
  assert.equal(cond(still, 'Accepted')!.lastTransitionTime, T0);
  assert.ok(sameStatus(pending, still), 'nothing changed, nothing to write');
  const ready = status(gateway(still), { deployment: deployment(1), service: service('10.96.0.20') }, T1);
  assert.equal(cond(ready, 'Programmed')!.lastTransitionTime, T1);
  assert.equal(cond(ready, 'Accepted')!.lastTransitionTime, T0);
  assert.equal(sameStatus(still, ready), false);
});

test('sameStatus: an absent address list differs from an empty one only once written', () => {
  const want = status(gateway(), {});
  assert.equal(sameStatus(undefined, want), false);
  assert.equal(sameStatus({ ...want, addresses: undefined }, want), true);
});

test('GatewayClass status: ours gets Accepted once; someone else\'s class is left alone', () => {
  const ours = { metadata: { name: 'istio-waypoint', generation: 1 }, spec: { controllerName: 'istio.io/mesh-controller' } };
  const conditions = gatewayClassStatus(ours, T0)!;
  assert.deepEqual(conditions, [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'Handled by Istio controller', observedGeneration: 1, lastTransitionTime: T0 }]);
  assert.equal(gatewayClassStatus({ ...ours, status: { conditions } }, T1), undefined);
  assert.equal(gatewayClassStatus({ ...ours, spec: { controllerName: 'example.com/other' } }, T0), undefined);
});
