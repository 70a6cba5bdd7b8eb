// Table tests for DestinationRule → DestinationPolicy: host resolution and which services get a policy, load
// balancer mapping, connection pool and outlier detection defaults, port-level replacement, subsets (workloads and
// merged policies), and several rules for one host.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DestinationPolicy, TrafficPolicy } from '../../../shared/waypoint/config.ts';
import { compileRoutes } from './index.ts';
import { inputs, obj, pod, svc } from './testing.ts';
import type { WorkloadInfo } from './types.ts';

const reviews = svc('default', 'reviews', [{ port: 9080, name: 'http' }, { port: 9443, name: 'http-admin' }]);
const ratings = svc('default', 'ratings');
const cart = svc('shop', 'cart');
const all = [reviews, ratings, cart];
const dr = (spec: object, name = 'd', created?: string, namespace = 'default') => obj('DestinationRule', namespace, name, spec, created);
const destinations = (objects: ReturnType<typeof dr>[], bound = [reviews], workloads: WorkloadInfo[] = []): DestinationPolicy[] =>
  compileRoutes(inputs({ bound, all, objects, workloads })).destinations;
const policyOf = (trafficPolicy: object): TrafficPolicy => destinations([dr({ host: 'reviews', trafficPolicy })])[0]!.policy;

test('host: short names relative to the rule namespace; only bound or referenced services get a policy', () => {
  const cases: Array<[string, ReturnType<typeof dr>[], string[]]> = [
    ['short name', [dr({ host: 'reviews' })], [reviews.key]],
    ['FQDN', [dr({ host: 'reviews.default.svc.cluster.local' })], [reviews.key]],
    ['short name in another namespace names another service', [dr({ host: 'reviews' }, 'd', undefined, 'shop')], []],
    ['FQDN from another namespace', [dr({ host: 'reviews.default.svc.cluster.local' }, 'd', undefined, 'shop')], [reviews.key]],
    ['wildcard host covering the service', [dr({ host: '*.default.svc.cluster.local' })], [reviews.key]],
    ['wildcard host for another namespace', [dr({ host: '*.shop.svc.cluster.local' })], []],
    ['* covers everything', [dr({ host: '*' })], [reviews.key]],
    ['a * not in the first label names nothing', [dr({ host: 'reviews.*.svc.cluster.local' })], []],
    ['rules for selected client workloads are skipped', [dr({ host: 'reviews', workloadSelector: { matchLabels: { app: 'productpage' } } })], []],
    ['unreferenced service', [dr({ host: 'ratings' })], []],
    ['unknown host', [dr({ host: 'nosuch' })], []],
  ];
  for (const [name, objects, want] of cases) assert.deepEqual(destinations(objects).map((d) => d.service), want, name);
  // A route forwarding to ratings makes its rule apply although ratings is not bound.
  const vs = obj('VirtualService', 'default', 'v', { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'ratings' } }] }] });
  assert.deepEqual(destinations([dr({ host: 'ratings' }), vs]).map((d) => [d.service, d.source]), [[ratings.key, { kind: 'DestinationRule', namespace: 'default', name: 'd' }]]);
});

test('host precedence: the exact host, else the most specific wildcard', () => {
  const rule = (host: string, name: string, created: string) => dr({ host, trafficPolicy: { loadBalancer: { simple: 'RANDOM' } } }, name, created);
  const sourceOf = (objects: ReturnType<typeof dr>[]) => destinations(objects)[0]?.source.name;
  const star = rule('*', 'star', '2024-01-01T00:00:00Z');
  const svcDomain = rule('*.svc.cluster.local', 'svc', '2024-01-02T00:00:00Z');
  const nsDomain = rule('*.default.svc.cluster.local', 'ns', '2024-01-03T00:00:00Z');
  const exact = rule('reviews', 'exact', '2024-01-04T00:00:00Z');
  assert.equal(sourceOf([star, svcDomain, nsDomain, exact]), 'exact');
  assert.equal(sourceOf([star, svcDomain, nsDomain]), 'ns');
  assert.equal(sourceOf([star, svcDomain]), 'svc');
  assert.equal(sourceOf([star]), 'star');
});

test('loadBalancer: simple names mapped, consistent hash keys', () => {
  const cases: Array<[object, TrafficPolicy['loadBalancer']]> = [
    [{ simple: 'ROUND_ROBIN' }, { simple: 'ROUND_ROBIN' }],
    [{ simple: 'LEAST_REQUEST' }, { simple: 'LEAST_REQUEST' }],
    [{ simple: 'LEAST_CONN' }, { simple: 'LEAST_REQUEST' }],
    [{ simple: 'RANDOM' }, { simple: 'RANDOM' }],
    [{ simple: 'PASSTHROUGH' }, { simple: 'ROUND_ROBIN' }],
    [{ simple: 'UNSPECIFIED' }, undefined],
    [{ consistentHash: { httpHeaderName: 'X-User' } }, { consistentHash: { header: 'x-user' } }],
    [{ consistentHash: { httpCookie: { name: 'user', path: '/', ttl: '0s' } } }, { consistentHash: { cookie: { name: 'user', path: '/', ttlMs: 0 } } }],
    [{ consistentHash: { httpCookie: { name: 'user', ttl: '1h' }, ringHash: { minimumRingSize: 1024 } } }, { consistentHash: { cookie: { name: 'user', ttlMs: 3_600_000 } } }],
    [{ consistentHash: { useSourceIp: true } }, { consistentHash: { sourceIp: true } }],
    [{ consistentHash: { httpQueryParameterName: 'session' } }, { consistentHash: { queryParameter: 'session' } }],
  ];
  for (const [lb, want] of cases) assert.deepEqual(policyOf({ loadBalancer: lb }).loadBalancer, want, JSON.stringify(lb));
});

test('connectionPool (zeros are unset) and outlierDetection defaults', () => {
  assert.deepEqual(policyOf({ connectionPool: {
    tcp: { maxConnections: 100, connectTimeout: '30ms', tcpKeepalive: { time: '7200s' } },
    http: { http1MaxPendingRequests: 10, http2MaxRequests: 1000, maxRequestsPerConnection: 0, maxRetries: 3, idleTimeout: '90s', h2UpgradePolicy: 'UPGRADE' },
  } }).connectionPool, { maxConnections: 100, connectTimeoutMs: 30, http1MaxPendingRequests: 10, http2MaxRequests: 1000, maxRetries: 3, idleTimeoutMs: 90_000 });
  assert.deepEqual(policyOf({ connectionPool: { tcp: { maxConnections: 0 } } }).connectionPool, undefined);
  assert.deepEqual(policyOf({ outlierDetection: {} }).outlierDetection,
    { consecutive5xxErrors: 5, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 10, minHealthPercent: 0 });
  assert.deepEqual(policyOf({ outlierDetection: { consecutive5xxErrors: 0, consecutiveGatewayErrors: 3, interval: '1s', baseEjectionTime: '1m', maxEjectionPercent: 50, minHealthPercent: 20 } }).outlierDetection,
    { consecutive5xxErrors: 0, consecutiveGatewayErrors: 3, intervalMs: 1000, baseEjectionTimeMs: 60_000, maxEjectionPercent: 50, minHealthPercent: 20 });
  assert.deepEqual(policyOf({ tls: { mode: 'ISTIO_MUTUAL' } }), {});
});

test('portLevelSettings replace the destination policy for that port (no inheritance)', () => {
  const d = destinations([dr({ host: 'reviews', trafficPolicy: {
    loadBalancer: { simple: 'RANDOM' },
    connectionPool: { tcp: { maxConnections: 10 } },
    portLevelSettings: [{ port: { number: 9443 }, outlierDetection: { consecutive5xxErrors: 2 } }],
  } })])[0]!;
  assert.deepEqual(d.policy, { loadBalancer: { simple: 'RANDOM' }, connectionPool: { maxConnections: 10 } });
  assert.deepEqual(d.ports, [{ port: 9443, policy: { outlierDetection: { consecutive5xxErrors: 2, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 10, minHealthPercent: 0 } } }]);
});

test('subsets: workloads backing the service whose labels include the subset\'s; policy merged section by section', () => {
  const workloads = [
    pod('uid-v1a', 'default', { app: 'reviews', version: 'v1' }, [reviews]),
    pod('uid-v1b', 'default', { app: 'reviews', version: 'v1', zone: 'b' }, [reviews]),
    pod('uid-v2', 'default', { app: 'reviews', version: 'v2' }, [reviews]),
    pod('uid-other', 'default', { app: 'ratings', version: 'v1' }, [ratings]),
  ];
  const [d] = destinations([dr({
    host: 'reviews',
    trafficPolicy: { loadBalancer: { simple: 'RANDOM' }, connectionPool: { tcp: { maxConnections: 5 } } },
    subsets: [
      { name: 'v1', labels: { version: 'v1' } },
      { name: 'v1-b', labels: { version: 'v1', zone: 'b' }, trafficPolicy: { loadBalancer: { simple: 'LEAST_REQUEST' } } },
      { name: 'v3', labels: { version: 'v3' } },
      { name: 'all' },
    ],
  })], [reviews], workloads);
  assert.deepEqual(d!.subsets, [
    { name: 'v1', labels: { version: 'v1' }, workloads: ['uid-v1a', 'uid-v1b'] },
    { name: 'v1-b', labels: { version: 'v1', zone: 'b' }, workloads: ['uid-v1b'], policy: { loadBalancer: { simple: 'LEAST_REQUEST' }, connectionPool: { maxConnections: 5 } } },
    { name: 'v3', labels: { version: 'v3' }, workloads: [] },
    { name: 'all', labels: {}, workloads: ['uid-v1a', 'uid-v1b', 'uid-v2'] },
  ]);
});

test('subset port-level settings: destination port-level, then the subset policy, then its own port-level', () => {
  const [d] = destinations([dr({
    host: 'reviews',
    trafficPolicy: {
      loadBalancer: { simple: 'RANDOM' },
      portLevelSettings: [{ port: { number: 9443 }, connectionPool: { tcp: { maxConnections: 7 } } }],
    },
    subsets: [
      { name: 'plain', labels: { version: 'v1' } },
      { name: 'lr', labels: { version: 'v1' }, trafficPolicy: { loadBalancer: { simple: 'LEAST_REQUEST' } } },
      { name: 'own', labels: { version: 'v2' }, trafficPolicy: { portLevelSettings: [{ port: { number: 9080 }, connectionPool: { http: { http2MaxRequests: 3 } } }] } },
    ],
  })]);
  const [plain, lr, own] = d!.subsets;
  assert.equal(plain!.ports, undefined, 'no policy of its own: the destination\'s apply as they are');
  assert.deepEqual(lr!.ports, [{ port: 9443, policy: { loadBalancer: { simple: 'LEAST_REQUEST' }, connectionPool: { maxConnections: 7 } } }]);
  assert.deepEqual(lr!.policy, { loadBalancer: { simple: 'LEAST_REQUEST' } });
  assert.deepEqual(own!.ports, [
    { port: 9080, policy: { loadBalancer: { simple: 'RANDOM' }, connectionPool: { http2MaxRequests: 3 } } },
    { port: 9443, policy: { connectionPool: { maxConnections: 7 } } },
  ]);
});

test('several rules for one host: the service\'s namespace first, the oldest policy, subsets merged (first definition wins)', () => {
  const d = destinations([
    dr({ host: 'reviews', subsets: [{ name: 'v2', labels: { version: 'v2' } }, { name: 'v1', labels: { version: 'new' } }] }, 'b-newer', '2024-02-01T00:00:00Z'),
    dr({ host: 'reviews', trafficPolicy: { loadBalancer: { simple: 'RANDOM' } }, subsets: [{ name: 'v1', labels: { version: 'v1' } }] }, 'a-older', '2024-01-01T00:00:00Z'),
    dr({ host: 'reviews.default.svc.cluster.local', trafficPolicy: { loadBalancer: { simple: 'LEAST_REQUEST' } } }, 'elsewhere', '2023-01-01T00:00:00Z', 'shop'),
  ])[0]!;
  assert.deepEqual(d.source, { kind: 'DestinationRule', namespace: 'default', name: 'a-older' });
  assert.deepEqual(d.policy, { loadBalancer: { simple: 'RANDOM' } });
  assert.deepEqual(d.subsets.map((s) => [s.name, s.labels]), [['v1', { version: 'v1' }], ['v2', { version: 'v2' }]]);
  // Without a rule in the service's namespace, the oldest rule's namespace is used.
  const e = destinations([
    dr({ host: 'reviews.default.svc.cluster.local', trafficPolicy: { loadBalancer: { simple: 'LEAST_REQUEST' } } }, 'x', '2023-01-01T00:00:00Z', 'shop'),
    dr({ host: 'reviews.default.svc.cluster.local', trafficPolicy: { loadBalancer: { simple: 'RANDOM' } } }, 'y', '2022-01-01T00:00:00Z', 'istio-system'),
  ])[0]!;
  assert.deepEqual([e.source.namespace, e.policy], ['istio-system', { loadBalancer: { simple: 'RANDOM' } }]);
});
