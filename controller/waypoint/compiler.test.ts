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
