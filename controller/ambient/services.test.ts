import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bytes, gateway, namespace, OPTS, service, serviceEntry } from './fixtures.ts';
import { staticLookups } from './lookups.ts';
import { serviceFromKube, servicesFromServiceEntry } from './services.ts';

const lookups = staticLookups({ namespaces: [namespace('default')], gateways: [gateway('wp')] });

test('serviceFromKube: identity, hostname, VIP, ports', () => {
  const s = serviceFromKube(service('web', { ports: [{ port: 80, targetPort: 8080 }, { port: 443, targetPort: 'https' }, { port: 9090 }] }), OPTS, lookups);
  assert.equal(s.name, 'web');
  assert.equal(s.namespace, 'default');
  assert.equal(s.hostname, 'web.default.svc.cluster.local');
  assert.deepEqual(s.addresses, [{ network: 'net1', address: bytes(10, 96, 0, 10) }]);
  assert.deepEqual(s.ports, [
    { servicePort: 80, targetPort: 8080 },
    { servicePort: 443, targetPort: 0 }, // named: resolved per workload
    { servicePort: 9090, targetPort: 9090 },
  ]);
  assert.equal(s.waypoint, undefined);
  assert.equal(s.loadBalancing, undefined);
});

test('serviceFromKube: domain suffix option', () => {
  const s = serviceFromKube(service('web'), { ...OPTS, domainSuffix: 'corp.example' }, lookups);
  assert.equal(s.hostname, 'web.default.svc.corp.example');
});

test('serviceFromKube: headless has no addresses', () => {
  assert.deepEqual(serviceFromKube(service('db', { clusterIP: 'None' }), OPTS, lookups).addresses, []);
});

test('serviceFromKube: dual-stack clusterIPs and ipFamilies', async (t) => {
  const svc = service('web', { ipFamilies: ['IPv4', 'IPv6'] });
  svc.spec = { ...svc.spec, clusterIPs: ['10.96.0.10', 'fd00::10'] };
  const s = serviceFromKube(svc, OPTS, lookups);
  assert.equal(s.addresses.length, 2);
  assert.equal(s.addresses[1]?.address.length, 16);
  const cases = [
    { fams: ['IPv4'], want: 'IPV4_ONLY' },
    { fams: ['IPv6'], want: 'IPV6_ONLY' },
    { fams: ['IPv6', 'IPv4'], want: 'DUAL' },
    { fams: undefined, want: undefined },
  ];
  for (const c of cases) {
    await t.test(String(c.fams), () => assert.equal(serviceFromKube(service('x', c.fams ? { ipFamilies: c.fams } : {}), OPTS, lookups).ipFamilies, c.want));
  }
});

test('serviceFromKube: load balancing', async (t) => {
  const cases: { name: string; annotations?: Record<string, string>; dist?: string; itp?: string; want: unknown }[] = [
    { name: 'none', want: undefined },
    { name: 'PreferClose via spec', dist: 'PreferClose', want: { routingPreference: ['NETWORK', 'REGION', 'ZONE', 'SUBZONE'], mode: 'FAILOVER' } },
    { name: 'PreferClose via annotation', annotations: { 'networking.istio.io/traffic-distribution': 'PreferClose' }, want: { routingPreference: ['NETWORK', 'REGION', 'ZONE', 'SUBZONE'], mode: 'FAILOVER' } },
    { name: 'internalTrafficPolicy Local wins', dist: 'PreferClose', itp: 'Local', want: { routingPreference: ['NODE'], mode: 'STRICT' } },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      const svc = service('web', { annotations: c.annotations ?? {} });
      svc.spec = { ...svc.spec, ...(c.dist ? { trafficDistribution: c.dist } : {}), ...(c.itp ? { internalTrafficPolicy: c.itp } : {}) };
      assert.deepEqual(serviceFromKube(svc, OPTS, lookups).loadBalancing, c.want);
    });
  }
});

test('serviceFromKube: waypoint binding and warnings', () => {
  const warnings: string[] = [];
  const l = staticLookups({ namespaces: [namespace('default')], gateways: [gateway('wp')], warn: (_s, r) => warnings.push(r) });
  const bound = serviceFromKube(service('web', { labels: { 'istio.io/use-waypoint': 'wp' } }), OPTS, l);
  assert.deepEqual(bound.waypoint, { address: { network: 'net1', address: bytes(10, 96, 0, 99) }, hboneMtlsPort: 15008 });
  const missing = serviceFromKube(service('web', { labels: { 'istio.io/use-waypoint': 'gone' } }), OPTS, l);
  assert.equal(missing.waypoint, undefined);
  assert.match(warnings.join(), /waypoint default\/gone not found/);
});

test('servicesFromServiceEntry: one service per host', () => {
  const se = serviceEntry('ext', {
    hosts: ['a.example.com', 'b.example.com'],
    addresses: ['240.0.0.1', '240.0.1.0/24'],
    ports: [{ number: 443, name: 'https' }, { number: 80, name: 'http', targetPort: 8080 }],
    location: 'MESH_EXTERNAL',
    subjectAltNames: ['spiffe://x'],
  });
  const warnings: string[] = [];
  const out = servicesFromServiceEntry(se, OPTS, staticLookups({ warn: (_s, r) => warnings.push(r) }));
  assert.deepEqual(out.map((s) => s.hostname), ['a.example.com', 'b.example.com']);
  for (const s of out) {
    assert.equal(s.name, 'ext');
    assert.equal(s.namespace, 'default');
    assert.deepEqual(s.addresses, [{ network: 'net1', address: bytes(240, 0, 0, 1) }]);
    assert.deepEqual(s.ports, [{ servicePort: 443, targetPort: 443 }, { servicePort: 80, targetPort: 8080 }]);
    assert.deepEqual(s.subjectAltNames, ['spiffe://x']);
  }
  assert.equal(warnings.length, 1);
});
