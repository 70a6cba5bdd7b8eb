// Table tests of what the DNS proxy answers itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TYPE, type ResourceRecord } from '../../shared/dns/index.ts';
import { ipBytes } from '../../shared/proto/ip.ts';
import type { Service, Workload } from '../types.ts';
import { resolveLocally, type DnsView } from './resolve.ts';

function svc(hostname: string, vips: string[], extra: Partial<Service> = {}): Service {
  return { name: hostname.split('.')[0]!, namespace: 'demo', hostname, addresses: vips.map((v) => ({ network: '', address: ipBytes(v) })), ...extra };
}
const backing = (key: string, ip: string, extra: Partial<Workload> = {}): Workload =>
  ({ uid: ip, namespace: 'demo', addresses: [ipBytes(ip)], services: { [key]: { ports: [] } }, ...extra });

const services = [
  svc('echo.demo.svc.cluster.local', ['10.96.0.20']),
  svc('dual.demo.svc.cluster.local', ['10.96.0.21', 'fd00:96::21']),
  svc('v6.demo.svc.cluster.local', ['fd00:96::22']),
  svc('api.example.com', ['240.240.0.1']), // a ServiceEntry host with an allocated VIP
  svc('db.demo.svc.cluster.local', []), // headless
  svc('empty.demo.svc.cluster.local', []), // headless, no endpoints
  svc('any.demo.svc.cluster.local', [], { loadBalancing: { healthPolicy: 'ALLOW_ALL' } }),
];
const workloads = [
  backing('demo/db.demo.svc.cluster.local', '10.244.1.7'),
  backing('demo/db.demo.svc.cluster.local', '10.244.2.8'),
  backing('demo/db.demo.svc.cluster.local', '10.244.2.9', { status: 'UNHEALTHY' }),
  backing('demo/any.demo.svc.cluster.local', '10.244.2.10', { status: 'UNHEALTHY' }),
];
const view: DnsView = {
  serviceByHostname: (h) => services.find((s) => s.hostname === h),
  allWorkloads: () => workloads,
};

const A = (name: string, address: string): ResourceRecord => ({ name, ttl: 30, data: { type: 'A', address } });
const AAAA = (name: string, address: string): ResourceRecord => ({ name, ttl: 30, data: { type: 'AAAA', address } });

const cases: Array<[string, string, number, ResourceRecord[] | undefined, number?]> = [
  ['Kubernetes Service A → its VIP', 'echo.demo.svc.cluster.local', TYPE.A, [A('echo.demo.svc.cluster.local', '10.96.0.20')]],
  ['v4-only Service AAAA → NOERROR, no records', 'echo.demo.svc.cluster.local', TYPE.AAAA, []],
  ['dual-stack A', 'dual.demo.svc.cluster.local', TYPE.A, [A('dual.demo.svc.cluster.local', '10.96.0.21')]],
  ['dual-stack AAAA', 'dual.demo.svc.cluster.local', TYPE.AAAA, [AAAA('dual.demo.svc.cluster.local', 'fd00:96::21')]],
  ['v6-only A → NOERROR, no records', 'v6.demo.svc.cluster.local', TYPE.A, []],
  ['ServiceEntry host A', 'api.example.com', TYPE.A, [A('api.example.com', '240.240.0.1')]],
  ['headless Service → healthy endpoint IPs', 'db.demo.svc.cluster.local', TYPE.A, [A('db.demo.svc.cluster.local', '10.244.1.7'), A('db.demo.svc.cluster.local', '10.244.2.8')]],
  ['headless Service without endpoints → forward', 'empty.demo.svc.cluster.local', TYPE.A, undefined],
  ['headless ALLOW_ALL keeps unhealthy endpoints', 'any.demo.svc.cluster.local', TYPE.A, [A('any.demo.svc.cluster.local', '10.244.2.10')]],
  ['unknown name → forward', 'example.org', TYPE.A, undefined],
  ['search-path expansion of a known name is not ours → forward', 'echo.demo.svc.cluster.local.demo.svc.cluster.local', TYPE.A, undefined],
  ['short name (never sent with ndots:5) → forward', 'echo', TYPE.A, undefined],
  ['SRV of a known name → forward', 'echo.demo.svc.cluster.local', TYPE.SRV, undefined],
  ['TXT of a known name → forward', 'echo.demo.svc.cluster.local', TYPE.TXT, undefined],
  ['class CH → forward', 'echo.demo.svc.cluster.local', TYPE.A, undefined, 3],
];

for (const [name, qname, type, want, klass] of cases) {
  test(name, () => {
    assert.deepEqual(resolveLocally({ name: qname, type, class: klass ?? 1 }, view), want);
  });
}

test('ttl option', () => {
  assert.equal(resolveLocally({ name: 'echo.demo.svc.cluster.local', type: TYPE.A, class: 1 }, view, { ttl: 5 })?.[0]?.ttl, 5);
});
