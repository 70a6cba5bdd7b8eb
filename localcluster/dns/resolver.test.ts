// Table tests of the cluster DNS decision over a fixed snapshot of Services and EndpointSlices.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { buildIndex, resolve, type Decision } from './resolver.ts';
import { RCODE, TYPE } from '../../shared/dns/index.ts';

const services: V1Service[] = [
  { metadata: { namespace: 'default', name: 'web' }, spec: { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }] } },
  { metadata: { namespace: 'default', name: 'db' }, spec: { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] } },
  { metadata: { namespace: 'default', name: 'empty' }, spec: { clusterIP: 'None' } },
  { metadata: { namespace: 'default', name: 'ext' }, spec: { type: 'ExternalName', externalName: 'Example.COM.' } },
  { metadata: { namespace: 'kube-system', name: 'kube-dns' }, spec: { clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] } },
];
const slices: V1EndpointSlice[] = [{
  addressType: 'IPv4',
  metadata: { namespace: 'default', name: 'db-1', labels: { 'kubernetes.io/service-name': 'db' } },
  endpoints: [
    { addresses: ['10.244.2.9'], hostname: 'db-1', conditions: { ready: true } },
    { addresses: ['10.244.1.4'], conditions: {} },
    { addresses: ['10.244.1.5'], conditions: { ready: false } },
  ],
  ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
}];
const index = buildIndex(services, slices, { serial: 3 });

type Want = { rcode: number; answers: string[]; additional?: string[] } | 'refuse' | 'forward';
function summary(d: Decision): Want {
  if (d.kind !== 'answer') return d.kind;
  const fmt = (r: { name: string; data: Record<string, unknown> }) =>
    `${r.name} ${Object.values(r.data).join(' ')}`;
  const out: Want = { rcode: d.rcode, answers: d.answers.map(fmt) };
  if (d.additional.length) out.additional = d.additional.map(fmt);
  return out;
}

const cases: Array<[string, number, Want, boolean?]> = [
  ['web.default.svc.cluster.local', TYPE.A, { rcode: RCODE.NOERROR, answers: ['web.default.svc.cluster.local A 10.96.0.20'] }],
  ['WEB.Default.svc.cluster.local.', TYPE.A, { rcode: RCODE.NOERROR, answers: ['web.default.svc.cluster.local A 10.96.0.20'] }],
  ['web.default.svc.cluster.local', TYPE.AAAA, { rcode: RCODE.NOERROR, answers: [] }],
  ['db.default.svc.cluster.local', TYPE.A, { rcode: RCODE.NOERROR, answers: ['db.default.svc.cluster.local A 10.244.1.4', 'db.default.svc.cluster.local A 10.244.2.9'] }],
  ['empty.default.svc.cluster.local', TYPE.A, { rcode: RCODE.NOERROR, answers: [] }],
  ['db-1.db.default.svc.cluster.local', TYPE.A, { rcode: RCODE.NOERROR, answers: ['db-1.db.default.svc.cluster.local A 10.244.2.9'] }],
  ['10-244-1-4.db.default.svc.cluster.local', TYPE.A, { rcode: RCODE.NOERROR, answers: ['10-244-1-4.db.default.svc.cluster.local A 10.244.1.4'] }],
  ['10-244-1-5.db.default.svc.cluster.local', TYPE.A, { rcode: RCODE.NXDOMAIN, answers: [] }],
  ['x.web.default.svc.cluster.local', TYPE.A, { rcode: RCODE.NXDOMAIN, answers: [] }],
  ['nope.default.svc.cluster.local', TYPE.A, { rcode: RCODE.NXDOMAIN, answers: [] }],
  ['web.nope.svc.cluster.local', TYPE.A, { rcode: RCODE.NXDOMAIN, answers: [] }],
  ['web.default.svc.cluster.local.default.svc.cluster.local', TYPE.A, { rcode: RCODE.NXDOMAIN, answers: [] }],
  ['default.svc.cluster.local', TYPE.A, { rcode: RCODE.NOERROR, answers: [] }],
  ['cluster.local', TYPE.SOA, { rcode: RCODE.NOERROR, answers: ['cluster.local SOA ns.dns.cluster.local hostmaster.cluster.local 3 7200 1800 86400 5'] }],
  ['_http._tcp.web.default.svc.cluster.local', TYPE.SRV, {
    rcode: RCODE.NOERROR, answers: ['_http._tcp.web.default.svc.cluster.local SRV 0 100 80 web.default.svc.cluster.local'],
    additional: ['web.default.svc.cluster.local A 10.96.0.20'],
  }],
  ['_dns._udp.web.default.svc.cluster.local', TYPE.SRV, {
    rcode: RCODE.NOERROR, answers: ['_dns._udp.web.default.svc.cluster.local SRV 0 100 53 web.default.svc.cluster.local'],
    additional: ['web.default.svc.cluster.local A 10.96.0.20'],
  }],
  ['_http._udp.web.default.svc.cluster.local', TYPE.SRV, { rcode: RCODE.NXDOMAIN, answers: [] }],
  ['_pg._tcp.db.default.svc.cluster.local', TYPE.SRV, {
    rcode: RCODE.NOERROR,
    answers: ['_pg._tcp.db.default.svc.cluster.local SRV 0 50 5432 10-244-1-4.db.default.svc.cluster.local', '_pg._tcp.db.default.svc.cluster.local SRV 0 50 5432 db-1.db.default.svc.cluster.local'],
    additional: ['10-244-1-4.db.default.svc.cluster.local A 10.244.1.4', 'db-1.db.default.svc.cluster.local A 10.244.2.9'],
  }],
  ['web.default.svc.cluster.local', TYPE.SRV, {
    rcode: RCODE.NOERROR,
    answers: ['web.default.svc.cluster.local SRV 0 100 80 web.default.svc.cluster.local', 'web.default.svc.cluster.local SRV 0 100 53 web.default.svc.cluster.local'],
    additional: ['web.default.svc.cluster.local A 10.96.0.20'],
  }],
  ['ext.default.svc.cluster.local', TYPE.A, { rcode: RCODE.NOERROR, answers: ['ext.default.svc.cluster.local CNAME example.com'] }],
  ['10-244-2-7.default.pod.cluster.local', TYPE.A, { rcode: RCODE.NOERROR, answers: ['10-244-2-7.default.pod.cluster.local A 10.244.2.7'] }],
  ['10-244-2-999.default.pod.cluster.local', TYPE.A, { rcode: RCODE.NXDOMAIN, answers: [] }],
  ['foo.cluster.local', TYPE.A, { rcode: RCODE.NXDOMAIN, answers: [] }],
  ['example.com', TYPE.A, 'refuse'],
  ['example.com', TYPE.A, 'forward', true],
  ['notcluster.local', TYPE.A, 'refuse'],
];

for (const [name, type, want, canForward] of cases) {
  test(`resolve ${name} type ${type}${canForward ? ' (with upstream)' : ''}`, () => {
    assert.deepEqual(summary(resolve(index, { name, type, class: 1 }, canForward ?? false)), want);
  });
}

test('negative answers carry the zone SOA for caching; positive ones do not', () => {
  const nx = resolve(index, { name: 'nope.default.svc.cluster.local', type: TYPE.A, class: 1 });
  const nodata = resolve(index, { name: 'web.default.svc.cluster.local', type: TYPE.AAAA, class: 1 });
  const ok = resolve(index, { name: 'web.default.svc.cluster.local', type: TYPE.A, class: 1 });
  for (const d of [nx, nodata]) {
    assert.ok(d.kind === 'answer' && d.authority[0]?.data.type === 'SOA');
  }
  assert.ok(ok.kind === 'answer' && ok.authority.length === 0);
});

test('a custom domain is honoured', () => {
  const idx = buildIndex(services, slices, { domain: 'example.internal' });
  assert.deepEqual(summary(resolve(idx, { name: 'web.default.svc.example.internal', type: TYPE.A, class: 1 })),
    { rcode: RCODE.NOERROR, answers: ['web.default.svc.example.internal A 10.96.0.20'] });
  assert.equal(resolve(idx, { name: 'web.default.svc.cluster.local', type: TYPE.A, class: 1 }).kind, 'refuse');
});
