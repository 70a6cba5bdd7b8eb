// Table tests of kube-proxy's pure renderer: which VIP:port goes where, and the script's important lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { planServices, renderProxyRules, PROXY_TABLE } from './proxy-rules.ts';

interface Port { name?: string; port: number; targetPort?: number | string; protocol?: string }
function svc(ns: string, name: string, clusterIP: string, ports: Port[], extra: Partial<V1Service['spec']> = {}): V1Service {
  return { metadata: { namespace: ns, name }, spec: { clusterIP, ports: ports as never, ...extra } };
}
interface Ep { ip: string; ready?: boolean; serving?: boolean; terminating?: boolean }
function slice(ns: string, service: string, eps: Ep[], ports: Array<{ name?: string; port: number; protocol?: string }>, sliceName = `${service}-abc`): V1EndpointSlice {
  return {
    addressType: 'IPv4',
    metadata: { namespace: ns, name: sliceName, labels: { 'kubernetes.io/service-name': service } },
    endpoints: eps.map((e) => ({ addresses: [e.ip], conditions: { ready: e.ready, serving: e.serving, terminating: e.terminating } })),
    ports,
  };
}

const cases: Array<{ name: string; services: V1Service[]; slices: V1EndpointSlice[]; want: Array<[string, string[]]> }> = [
  {
    name: 'numeric targetPort, two ready endpoints',
    services: [svc('default', 'web', '10.96.0.20', [{ port: 80, targetPort: 8080 }])],
    slices: [slice('default', 'web', [{ ip: '10.244.2.5' }, { ip: '10.244.1.3' }], [{ port: 8080 }])],
    want: [['10.96.0.20 tcp 80', ['10.244.1.3:8080', '10.244.2.5:8080']]],
  },
  {
    name: 'named targetPort resolved per slice through the port name',
    services: [svc('default', 'api', '10.96.0.21', [{ name: 'http', port: 80, targetPort: 'web' }])],
    slices: [
      slice('default', 'api', [{ ip: '10.244.1.3' }], [{ name: 'http', port: 9000 }], 'a'),
      slice('default', 'api', [{ ip: '10.244.2.3' }], [{ name: 'http', port: 9001 }], 'b'),
    ],
    want: [['10.96.0.21 tcp 80', ['10.244.1.3:9000', '10.244.2.3:9001']]],
  },
  {
    name: 'not-ready endpoints skipped; unset ready means ready',
    services: [svc('default', 'web', '10.96.0.22', [{ port: 80 }])],
    slices: [slice('default', 'web', [{ ip: '10.244.1.3', ready: false }, { ip: '10.244.1.4' }], [{ port: 80 }])],
    want: [['10.96.0.22 tcp 80', ['10.244.1.4:80']]],
  },
  {
    name: 'serving terminating endpoints used only when none is ready',
    services: [svc('default', 'web', '10.96.0.23', [{ port: 80 }])],
    slices: [slice('default', 'web', [{ ip: '10.244.1.3', ready: false, serving: true, terminating: true }], [{ port: 80 }])],
    want: [['10.96.0.23 tcp 80', ['10.244.1.3:80']]],
  },
  {
    name: 'no endpoints, UDP and TCP on one port number',
    services: [svc('kube-system', 'kube-dns', '10.96.0.10', [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }])],
    slices: [],
    want: [['10.96.0.10 udp 53', []], ['10.96.0.10 tcp 53', []]],
  },
  {
    name: 'headless, ExternalName and other namespaces are ignored',
    services: [
      svc('default', 'db', 'None', [{ port: 5432 }]),
      svc('default', 'ext', '', [{ port: 80 }], { type: 'ExternalName', externalName: 'example.com' }),
      svc('default', 'web', '10.96.0.24', [{ port: 80 }]),
    ],
    slices: [slice('other', 'web', [{ ip: '10.244.1.9' }], [{ port: 80 }]), slice('default', 'db', [{ ip: '10.244.1.8' }], [{ port: 5432 }])],
    want: [['10.96.0.24 tcp 80', []]],
  },
  {
    name: 'the same endpoint in two slices is one backend',
    services: [svc('default', 'web', '10.96.0.25', [{ port: 80 }])],
    slices: [slice('default', 'web', [{ ip: '10.244.1.3' }], [{ port: 80 }], 'a'), slice('default', 'web', [{ ip: '10.244.1.3' }], [{ port: 80 }], 'b')],
    want: [['10.96.0.25 tcp 80', ['10.244.1.3:80']]],
  },
];

for (const c of cases) {
  test(`planServices: ${c.name}`, () => {
    const got = planServices(c.services, c.slices).map((r) => [`${r.vip} ${r.protocol} ${r.port}`, r.backends.map((b) => `${b.ip}:${b.port}`)]);
    assert.deepEqual(got, c.want);
  });
}

test('renderProxyRules: table replaced in one transaction, hooks, DNAT and reject lines', () => {
  const script = renderProxyRules(
    [
      svc('default', 'web', '10.96.0.20', [{ port: 80, targetPort: 8080 }]),
      svc('default', 'one', '10.96.0.21', [{ port: 81 }]),
      svc('kube-system', 'kube-dns', '10.96.0.10', [{ port: 53, protocol: 'UDP' }, { port: 53 }]),
    ],
    [
      slice('default', 'web', [{ ip: '10.244.1.3' }, { ip: '10.244.2.5' }], [{ port: 8080 }]),
      slice('default', 'one', [{ ip: '10.244.1.7' }], [{ port: 81 }]),
    ],
  );
  const lines = script.split('\n').map((l) => l.trim());
  assert.deepEqual(lines.slice(0, 3), [`table ip ${PROXY_TABLE}`, `delete table ip ${PROXY_TABLE}`, `table ip ${PROXY_TABLE} {`]);
  assert.ok(lines.includes('10.96.0.20 . tcp . 80 : goto svc-default/web/tcp/80,') || lines.includes('10.96.0.20 . tcp . 80 : goto svc-default/web/tcp/80'));
  assert.ok(lines.includes('numgen random mod 2 vmap { 0 : goto ep-default/web/tcp/80/10.244.1.3/8080, 1 : goto ep-default/web/tcp/80/10.244.2.5/8080 }'));
  assert.ok(lines.includes('goto ep-default/one/tcp/81/10.244.1.7/81'), 'a single endpoint needs no numgen');
  assert.ok(lines.includes('meta l4proto tcp dnat to 10.244.2.5:8080'));
  assert.ok(lines.includes('ip saddr 10.244.2.5 meta mark set meta mark | 0x4000'), 'hairpin marked for masquerade');
  assert.ok(lines.includes('type nat hook prerouting priority -100; policy accept;'));
  assert.ok(lines.includes('type nat hook output priority -100; policy accept;'));
  assert.ok(lines.some((l) => l.startsWith('10.96.0.10 . udp . 53 : goto noep-kube-system/kube-dns/udp/53')));
  assert.ok(lines.includes('meta l4proto tcp counter reject with tcp reset'));
  assert.ok(lines.includes('counter reject with icmp type port-unreachable'));
  // identical input renders identically regardless of order (so KubeProxy can skip re-applies)
  const again = renderProxyRules(
    [
      svc('kube-system', 'kube-dns', '10.96.0.10', [{ port: 53, protocol: 'UDP' }, { port: 53 }]),
      svc('default', 'one', '10.96.0.21', [{ port: 81 }]),
      svc('default', 'web', '10.96.0.20', [{ port: 80, targetPort: 8080 }]),
    ],
    [
      slice('default', 'one', [{ ip: '10.244.1.7' }], [{ port: 81 }]),
      slice('default', 'web', [{ ip: '10.244.2.5' }, { ip: '10.244.1.3' }], [{ port: 8080 }]),
    ],
  );
  assert.equal(again, script);
});

test('renderProxyRules: an empty cluster still renders valid hooks with empty maps', () => {
  const script = renderProxyRules([], []);
  assert.doesNotMatch(script, /elements/);
  assert.match(script, /chain prerouting/);
});
