import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { backingServices, WaypointCompiler } from './compiler.ts';

const svc = (ns: string, name: string, selector?: Record<string, string>): V1Service => ({ metadata: { namespace: ns, name }, spec: { ...(selector ? { selector } : {}) } });
const pod = (ns: string, name: string, labels: Record<string, string>): V1Pod => ({ metadata: { namespace: ns, name, labels } });

test('backingServices: the services of the same namespace whose whole non-empty selector matches, in service order', () => {
  const services = [
    svc('a', 'web', { app: 'web' }),
    svc('a', 'web-v2', { app: 'web', version: 'v2' }),
    svc('b', 'web', { app: 'web' }),
    svc('a', 'all'),
    svc('a', 'tier', { tier: 'front' }),
  ];
  const cases: Array<[string, V1Pod, string[]]> = [
    ['one label matches one service', pod('a', 'p1', { app: 'web' }), ['a/web']],
    ['a two-label selector needs both', pod('a', 'p2', { app: 'web', version: 'v2' }), ['a/web', 'a/web-v2']],
    ['other namespace', pod('b', 'p3', { app: 'web', version: 'v2' }), ['b/web']],
    ['no selector selects nothing', pod('a', 'p4', {}), []],
    ['two services through different labels keep service order', pod('a', 'p5', { tier: 'front', app: 'web' }), ['a/web', 'a/tier']],
  ];
  const got = backingServices(cases.map((c) => c[1]), services);
  for (const [i, [name, , want]] of cases.entries()) {
    assert.deepEqual(got[i]!.services.map((s) => `${s.metadata!.namespace}/${s.metadata!.name}`), want, name);
  }
});

test('a pod status change is not a waypoint input change; a label change is', () => {
  const c = new WaypointCompiler({ clusterId: 'Kubernetes', trustDomain: 'cluster.local', network: '', rootNamespace: 'istio-system' });
  const p = pod('a', 'p', { app: 'web' });
  assert.equal(c.event('Pod', 'add', p as never), true);
  c.compile();
  assert.equal(c.event('Pod', 'update', { ...p, status: { phase: 'Running' } } as never), false);
  assert.equal(c.dirty, false);
  assert.equal(c.event('Pod', 'update', pod('a', 'p', { app: 'api' }) as never), true);
  assert.equal(c.dirty, true);
  assert.equal(c.event('Pod', 'delete', p as never), true);
});

test('a ReferenceGrant is an input: creating it lets a cross-namespace backendRef resolve, deleting it stops that', () => {
  const c = new WaypointCompiler({ clusterId: 'Kubernetes', trustDomain: 'cluster.local', network: '', rootNamespace: 'istio-system' });
  const port = [{ port: 9080, name: 'http' }];
  c.event('Gateway', 'add', { metadata: { namespace: 'default', name: 'waypoint' }, spec: { gatewayClassName: 'istio-waypoint' } } as never);
  c.event('Service', 'add', { metadata: { namespace: 'default', name: 'reviews', labels: { 'istio.io/use-waypoint': 'waypoint' } }, spec: { ports: port } } as never);
  c.event('Service', 'add', { metadata: { namespace: 'shop', name: 'cart' }, spec: { ports: port } } as never);
  c.event('HTTPRoute', 'add', {
    apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { namespace: 'default', name: 'r', generation: 1 },
    spec: { parentRefs: [{ group: '', kind: 'Service', name: 'reviews' }], rules: [{ backendRefs: [{ name: 'cart', namespace: 'shop', port: 9080 }] }] },
  });
  const grant = {
    apiVersion: 'gateway.networking.k8s.io/v1beta1', kind: 'ReferenceGrant', metadata: { namespace: 'shop', name: 'from-default' },
    spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'default' }], to: [{ group: '', kind: 'Service' }] },
  };
  const look = () => {
    const r = c.compile();
    const route = r.configs.get('default/waypoint')!.services[0]!.http[0]!;
    const v = r.verdicts.find((x) => x.kind === 'HTTPRoute')!;
    return { action: route.action, verdict: [v.accepted, v.reason] };
  };

  assert.deepEqual(look(), { action: { kind: 'respond', status: 500 }, verdict: [false, 'RefNotPermitted'] });
  assert.equal(c.event('ReferenceGrant', 'add', grant), true);
  assert.equal(c.dirty, true);
  assert.deepEqual(look(), {
    action: { kind: 'forward', backends: [{ service: 'shop/cart.shop.svc.cluster.local', port: 9080, weight: 1 }] }, verdict: [true, 'Accepted'],
  });
  assert.equal(c.event('ReferenceGrant', 'delete', grant), true);
  assert.deepEqual(look(), { action: { kind: 'respond', status: 500 }, verdict: [false, 'RefNotPermitted'] });
});
