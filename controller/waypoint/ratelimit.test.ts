// Table tests for HTTPLocalRateLimitPolicy: the verdict (every rejection names its field) and the RateLimitPolicy a
// waypoint receives (targets, routes, SPIFFE ids of overrides).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateRateLimitPolicy, waypointRateLimits, type RateLimitContext } from './ratelimit.ts';
import type { KubeObject } from './verdict.ts';

const rl = (namespace: string, spec: unknown, name = 'rl'): KubeObject => ({
  apiVersion: 'policy.ambient-mesh.io/v1alpha1', kind: 'HTTPLocalRateLimitPolicy', metadata: { namespace, name, generation: 2 }, spec,
});
const gw = { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint' };
const svc = (name: string) => ({ kind: 'Service', name });
const route = (name: string) => ({ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name });
const sa = (name: string, namespace?: string) => ({ kind: 'ServiceAccount', name, ...(namespace ? { namespace } : {}) });

test('validateRateLimitPolicy: accepted', () => {
  const cases: Array<{ name: string; spec: unknown }> = [
    { name: 'total only', spec: { targetRefs: [gw], total: { requestsPerSecond: 100 } } },
    { name: 'identity with burst', spec: { targetRefs: [svc('web')], identity: { requestsPerSecond: 5, burst: 20 } } },
    { name: 'overrides only', spec: { targetRefs: [route('r')], overrides: [{ requestsPerSecond: 1, clientRefs: [sa('a')] }] } },
    { name: 'Service with core group', spec: { targetRefs: [{ group: 'core', kind: 'Service', name: 'web' }], total: { requestsPerSecond: 1 } } },
    { name: 'Gateway without group (defaults)', spec: { targetRefs: [{ kind: 'Gateway', name: 'w' }], total: { requestsPerSecond: 1 } } },
    { name: 'all three, identity = total', spec: { targetRefs: [gw], total: { requestsPerSecond: 10 }, identity: { requestsPerSecond: 10 }, overrides: [{ requestsPerSecond: 10, burst: 30, clientRefs: [sa('a', 'other'), { group: 'core', ...sa('b') }] }] } },
  ];
  for (const c of cases) {
    assert.deepEqual(validateRateLimitPolicy(rl('shop', c.spec)), {
      kind: 'HTTPLocalRateLimitPolicy', namespace: 'shop', name: 'rl', generation: 2, accepted: true, reason: 'Accepted', message: '',
    }, c.name);
  }
});

test('validateRateLimitPolicy: rejections name the field', () => {
  const cases: Array<{ name: string; spec: unknown; field: string }> = [
    { name: 'no spec fields', spec: { targetRefs: [gw] }, field: 'spec' },
    { name: 'no targetRefs', spec: { total: { requestsPerSecond: 1 } }, field: 'spec.targetRefs' },
    { name: 'unknown field', spec: { targetRefs: [gw], total: { requestsPerSecond: 1 }, perClient: {} }, field: 'spec.perClient' },
    { name: 'unsupported target kind', spec: { targetRefs: [{ kind: 'Pod', name: 'p' }], total: { requestsPerSecond: 1 } }, field: 'spec.targetRefs[0].kind' },
    { name: 'Gateway in the core group', spec: { targetRefs: [{ group: '', kind: 'Gateway', name: 'w' }], total: { requestsPerSecond: 1 } }, field: 'spec.targetRefs[0].group' },
    { name: 'Service in the gateway group', spec: { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Service', name: 'w' }], total: { requestsPerSecond: 1 } }, field: 'spec.targetRefs[0].group' },
    { name: 'targetRef namespace', spec: { targetRefs: [{ ...gw, namespace: 'x' }], total: { requestsPerSecond: 1 } }, field: 'spec.targetRefs[0].namespace' },
    { name: 'bad target name', spec: { targetRefs: [svc('Web')], total: { requestsPerSecond: 1 } }, field: 'spec.targetRefs[0].name' },
    { name: 'rps zero', spec: { targetRefs: [gw], total: { requestsPerSecond: 0 } }, field: 'spec.total.requestsPerSecond' },
    { name: 'rps fractional', spec: { targetRefs: [gw], identity: { requestsPerSecond: 1.5 } }, field: 'spec.identity.requestsPerSecond' },
    { name: 'rps missing', spec: { targetRefs: [gw], total: {} }, field: 'spec.total.requestsPerSecond' },
    { name: 'burst zero', spec: { targetRefs: [gw], total: { requestsPerSecond: 1, burst: 0 } }, field: 'spec.total.burst' },
    { name: 'identity above total', spec: { targetRefs: [gw], total: { requestsPerSecond: 5 }, identity: { requestsPerSecond: 6 } }, field: 'spec.identity.requestsPerSecond' },
    { name: 'override above total', spec: { targetRefs: [gw], total: { requestsPerSecond: 5 }, overrides: [{ requestsPerSecond: 6, clientRefs: [sa('a')] }] }, field: 'spec.overrides[0].requestsPerSecond' },
    { name: 'override without clients', spec: { targetRefs: [gw], overrides: [{ requestsPerSecond: 1, clientRefs: [] }] }, field: 'spec.overrides[0].clientRefs' },
    { name: 'override client not a ServiceAccount', spec: { targetRefs: [gw], overrides: [{ requestsPerSecond: 1, clientRefs: [{ kind: 'User', name: 'x' }] }] }, field: 'spec.overrides[0].clientRefs[0].kind' },
    { name: 'override client bad namespace', spec: { targetRefs: [gw], overrides: [{ requestsPerSecond: 1, clientRefs: [sa('a', 'Bad_NS')] }] }, field: 'spec.overrides[0].clientRefs[0].namespace' },
  ];
  for (const c of cases) {
    const v = validateRateLimitPolicy(rl('shop', c.spec));
    assert.equal(v.accepted, false, c.name);
    assert.equal(v.reason, 'Invalid', c.name);
    assert.ok(v.message.startsWith(`${c.field}: `), `${c.name}: ${v.message}`);
  }
});

const ctx: RateLimitContext = {
  rootNamespace: 'istio-system', trustDomain: 'cluster.local',
  waypoint: { namespace: 'shop', name: 'waypoint', podLabels: {} },
  boundServices: [
    { key: 'shop/web.shop.svc.cluster.local', namespace: 'shop', name: 'web' },
    { key: 'shop/api.shop.svc.cluster.local', namespace: 'shop', name: 'api' },
  ],
  routeIdsOf: (ns, name) => (ns === 'shop' && name === 'served' ? ['HTTPRoute/shop/served#0', 'HTTPRoute/shop/served#1'] : []),
};

test('waypointRateLimits: targets, routes and overrides', () => {
  const limit = { total: { requestsPerSecond: 10 } };
  const cases: Array<{ name: string; obj: KubeObject; want?: object }> = [
    { name: 'this waypoint', obj: rl('shop', { targetRefs: [gw], ...limit }), want: { target: { all: true } } },
    { name: 'another waypoint', obj: rl('shop', { targetRefs: [{ ...gw, name: 'other' }], ...limit }) },
    { name: 'same name, other namespace', obj: rl('web', { targetRefs: [gw], ...limit }) },
    { name: 'bound services, sorted', obj: rl('shop', { targetRefs: [svc('web'), svc('api')], ...limit }), want: { target: { services: ['shop/api.shop.svc.cluster.local', 'shop/web.shop.svc.cluster.local'] } } },
    { name: 'unbound service', obj: rl('shop', { targetRefs: [svc('db')], ...limit }) },
    { name: 'served HTTPRoute', obj: rl('shop', { targetRefs: [route('served')], ...limit }), want: { target: { services: [] }, routes: ['HTTPRoute/shop/served'] } },
    { name: 'HTTPRoute this waypoint does not serve', obj: rl('shop', { targetRefs: [route('elsewhere')], ...limit }) },
    { name: 'service and route', obj: rl('shop', { targetRefs: [svc('web'), route('served')], ...limit }), want: { target: { services: ['shop/web.shop.svc.cluster.local'] }, routes: ['HTTPRoute/shop/served'] } },
    { name: 'Gateway with a route: all wins', obj: rl('shop', { targetRefs: [gw, route('served')], ...limit }), want: { target: { all: true } } },
    { name: 'invalid: left out', obj: rl('shop', { targetRefs: [gw], total: { requestsPerSecond: -1 } }) },
  ];
  for (const c of cases) {
    const out = waypointRateLimits([c.obj], ctx);
    if (!c.want) {
      assert.deepEqual(out, [], c.name);
      continue;
    }
    assert.equal(out.length, 1, c.name);
    const { target, routes } = out[0]!;
    assert.deepEqual({ target, ...(routes ? { routes } : {}) }, c.want, c.name);
  }
});

test('waypointRateLimits: limits and SPIFFE ids; sorted by namespace/name', () => {
  const objs = [
    rl('shop', { targetRefs: [gw], identity: { requestsPerSecond: 5, burst: 10 } }, 'b'),
    rl('shop', {
      targetRefs: [gw], total: { requestsPerSecond: 100, burst: 200 }, identity: { requestsPerSecond: 20 },
      overrides: [{ requestsPerSecond: 50, burst: 60, clientRefs: [sa('special'), sa('batch', 'jobs')] }],
    }, 'a'),
  ];
  assert.deepEqual(waypointRateLimits(objs, ctx), [
    {
      namespace: 'shop', name: 'a', target: { all: true },
      total: { requestsPerSecond: 100, burst: 200 }, perIdentity: { requestsPerSecond: 20 },
      overrides: [{ principals: ['spiffe://cluster.local/ns/shop/sa/special', 'spiffe://cluster.local/ns/jobs/sa/batch'], requestsPerSecond: 50 }],
    },
    { namespace: 'shop', name: 'b', target: { all: true }, perIdentity: { requestsPerSecond: 5, burst: 10 } },
  ]);
});
