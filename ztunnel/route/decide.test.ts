// Table tests of the outbound decision over a small in-memory state (no store needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipBytes, ipString } from '../../shared/proto/ip.ts';
import type { Endpoint, IpText, Service, ServiceKey, Workload } from '../types.ts';
import { decideOutbound, serviceKey, type OutboundRoute, type RouteView } from './decide.ts';
import { RouteError } from './errors.ts';
import { workloadIdentity } from '../../shared/state/identity.ts';

const ip = (s: string): IpText => s as IpText;

function wl(name: string, addr: string | string[], extra: Partial<Workload> = {}): Workload {
  const addrs = Array.isArray(addr) ? addr : [addr];
  return { uid: `c//Pod/demo/${name}`, name, namespace: 'demo', addresses: addrs.map(ipBytes), serviceAccount: name, ...extra };
}

function svc(name: string, vip: string, ports: Array<[number, number?]>, extra: Partial<Service> = {}): Service {
  return {
    name, namespace: 'demo', hostname: `${name}.demo.svc.cluster.local`,
    addresses: [{ network: '', address: ipBytes(vip) }],
    ports: ports.map(([servicePort, targetPort]) => ({ servicePort, ...(targetPort !== undefined ? { targetPort } : {}) })),
    ...extra,
  };
}

/** Workload `w` backs `s` with the given port map. */
function backs(w: Workload, s: Service, ports: Array<[number, number]>): Workload {
  w.services = { ...w.services, [serviceKey(s)]: { ports: ports.map(([servicePort, targetPort]) => ({ servicePort, targetPort })) } };
  return w;
}

function view(workloads: Workload[], services: Service[]): RouteView {
  return {
    workloadByIp: (a) => workloads.find((w) => (w.addresses ?? []).some((b) => ipString(b) === a)),
    serviceByVip: (a) => services.find((s) => (s.addresses ?? []).some((n) => ipString(n.address) === a)),
    serviceByKey: (k) => services.find((s) => serviceKey(s) === k),
    endpointsOf: (k: ServiceKey, port: number): Endpoint[] =>
      workloads.filter((w) => w.services?.[k]).map((w) => ({ workload: w, port })),
  };
}

const src = wl('sleep', '10.244.1.2', { tunnelProtocol: 'HBONE' });
const first = { pick: () => 0 };

function ok(r: OutboundRoute | RouteError): OutboundRoute {
  if (r instanceof RouteError) assert.fail(`unexpected error ${r.code}: ${r.message}`);
  return r;
}

function err(r: OutboundRoute | RouteError, code: string): RouteError {
  assert.ok(r instanceof RouteError, `expected ${code}, got ${JSON.stringify(r)}`);
  assert.equal(r.code, code);
  return r;
}

/** The route without the (large) workload/service objects: names only. */
function brief(r: OutboundRoute): Record<string, unknown> {
  const out: Record<string, unknown> = { kind: r.kind, upstream: `${r.upstream.ip}:${r.upstream.port}` };
  if (r.kind === 'hbone') {
    out.hbone = `${r.hbone.ip}:${r.hbone.port}`;
    out.identity = r.identity;
    if (r.viaWaypoint) out.viaWaypoint = true;
  }
  if (r.kind !== 'passthrough') {
    if (r.workload) out.workload = r.workload.name;
    if (r.service) out.service = r.service.name;
  }
  return out;
}

test('service VIP → HBONE endpoint: hbone to ip:15008, CONNECT to ip:targetPort, identity of the pod', () => {
  const echo = svc('echo', '10.96.0.20', [[80, 8080]]);
  const pod = backs(wl('echo-1', '10.244.2.5', { tunnelProtocol: 'HBONE', serviceAccount: 'echo' }), echo, [[80, 8080]]);
  const r = ok(decideOutbound(src, { ip: ip('10.96.0.20'), port: 80 }, view([src, pod], [echo]), first));
  assert.deepEqual(brief(r), {
    kind: 'hbone', upstream: '10.244.2.5:8080', hbone: '10.244.2.5:15008',
    identity: 'spiffe://cluster.local/ns/demo/sa/echo', workload: 'echo-1', service: 'echo',
  });
});

const cases: Array<{ name: string; build: () => { v: RouteView; dst: [string, number]; opts?: object; from?: Workload }; want: Record<string, unknown> | string }> = [
  {
    name: 'service VIP → plaintext endpoint: direct to ip:targetPort',
    build: () => {
      const s = svc('legacy', '10.96.0.21', [[80, 9090]]);
      return { v: view([backs(wl('legacy-1', '10.244.2.6'), s, [[80, 9090]])], [s]), dst: ['10.96.0.21', 80] };
    },
    want: { kind: 'direct', upstream: '10.244.2.6:9090', workload: 'legacy-1', service: 'legacy' },
  },
  {
    name: 'endpoint mapping wins over the service targetPort',
    build: () => {
      const s = svc('echo', '10.96.0.20', [[80, 8080]]);
      return { v: view([backs(wl('e', '10.244.2.5'), s, [[80, 8181]])], [s]), dst: ['10.96.0.20', 80] };
    },
    want: { kind: 'direct', upstream: '10.244.2.5:8181', workload: 'e', service: 'echo' },
  },
  {
    name: 'no endpoint mapping: the service targetPort',
    build: () => {
      const s = svc('echo', '10.96.0.20', [[80, 8080]]);
      const w = wl('e', '10.244.2.5');
      w.services = { [serviceKey(s)]: { ports: [] } };
      return { v: view([w], [s]), dst: ['10.96.0.20', 80] };
    },
    want: { kind: 'direct', upstream: '10.244.2.5:8080', workload: 'e', service: 'echo' },
  },
  {
    name: 'named targetPort the endpoint does not resolve: endpoint skipped → no healthy upstream',
    build: () => {
      const s = svc('echo', '10.96.0.20', [[80]]);
      const w = wl('e', '10.244.2.5');
      w.services = { [serviceKey(s)]: { ports: [] } };
      return { v: view([w], [s]), dst: ['10.96.0.20', 80] };
    },
    want: 'ZT_NO_HEALTHY_UPSTREAM',
  },
  {
    name: 'port the service does not declare → no healthy upstream (not passthrough)',
    build: () => {
      const s = svc('echo', '10.96.0.20', [[80, 8080]]);
      return { v: view([backs(wl('e', '10.244.2.5'), s, [[80, 8080]])], [s]), dst: ['10.96.0.20', 81] };
    },
    want: 'ZT_NO_HEALTHY_UPSTREAM',
  },
  {
    name: 'service without endpoints → no healthy upstream',
    build: () => ({ v: view([], [svc('echo', '10.96.0.20', [[80, 8080]])]), dst: ['10.96.0.20', 80] }),
    want: 'ZT_NO_HEALTHY_UPSTREAM',
  },
  {
    name: 'only unhealthy endpoints → no healthy upstream',
    build: () => {
      const s = svc('echo', '10.96.0.20', [[80, 8080]]);
      return { v: view([backs(wl('e', '10.244.2.5', { status: 'UNHEALTHY' }), s, [[80, 8080]])], [s]), dst: ['10.96.0.20', 80] };
    },
    want: 'ZT_NO_HEALTHY_UPSTREAM',
  },
  {
    name: 'unhealthy endpoints are skipped when a healthy one exists',
    build: () => {
      const s = svc('echo', '10.96.0.20', [[80, 8080]]);
      const bad = backs(wl('bad', '10.244.2.5', { status: 'UNHEALTHY' }), s, [[80, 8080]]);
      const good = backs(wl('good', '10.244.2.7', { status: 'HEALTHY' }), s, [[80, 8080]]);
      return { v: view([bad, good], [s]), dst: ['10.96.0.20', 80] };
    },
    want: { kind: 'direct', upstream: '10.244.2.7:8080', workload: 'good', service: 'echo' },
  },
  {
    name: 'healthPolicy ALLOW_ALL keeps unhealthy endpoints',
    build: () => {
      const s = svc('echo', '10.96.0.20', [[80, 8080]], { loadBalancing: { healthPolicy: 'ALLOW_ALL' } });
      return { v: view([backs(wl('e', '10.244.2.5', { status: 'UNHEALTHY' }), s, [[80, 8080]])], [s]), dst: ['10.96.0.20', 80] };
    },
    want: { kind: 'direct', upstream: '10.244.2.5:8080', workload: 'e', service: 'echo' },
  },
  {
    name: 'pick chooses among the endpoints',
    build: () => {
      const s = svc('echo', '10.96.0.20', [[80, 8080]]);
      const ws = ['a', 'b', 'c'].map((n, i) => backs(wl(n, `10.244.2.${10 + i}`), s, [[80, 8080]]));
      return { v: view(ws, [s]), dst: ['10.96.0.20', 80], opts: { pick: (n: number) => n - 1 } };
    },
    want: { kind: 'direct', upstream: '10.244.2.12:8080', workload: 'c', service: 'echo' },
  },
  {
    name: 'endpoint without an address is skipped',
    build: () => {
      const s = svc('echo', '10.96.0.20', [[80, 8080]]);
      const noIp = backs(wl('noip', []), s, [[80, 8080]]);
      const good = backs(wl('good', '10.244.2.7'), s, [[80, 8080]]);
      return { v: view([noIp, good], [s]), dst: ['10.96.0.20', 80] };
    },
    want: { kind: 'direct', upstream: '10.244.2.7:8080', workload: 'good', service: 'echo' },
  },
  {
    name: 'dual-stack endpoint: the address of the VIP family',
    build: () => {
      const s = svc('echo', 'fd00:96::20', [[80, 8080]]);
      return { v: view([backs(wl('e', ['10.244.2.5', 'fd00:244::5']), s, [[80, 8080]])], [s]), dst: ['fd00:96::20', 80] };
    },
    want: { kind: 'direct', upstream: 'fd00:244::5:8080', workload: 'e', service: 'echo' },
  },
  {
    name: 'loadBalancing PASSTHROUGH → passthrough to the VIP',
    build: () => ({ v: view([], [svc('pt', '10.96.0.30', [[80, 80]], { loadBalancing: { mode: 'PASSTHROUGH' } })]), dst: ['10.96.0.30', 80] }),
    want: { kind: 'passthrough', upstream: '10.96.0.30:80' },
  },
  {
    name: 'pod IP, HBONE workload → hbone to pod:15008, port unchanged',
    build: () => ({ v: view([wl('p', '10.244.3.4', { tunnelProtocol: 'HBONE', trustDomain: 'td.example' })], []), dst: ['10.244.3.4', 7070] }),
    want: { kind: 'hbone', upstream: '10.244.3.4:7070', hbone: '10.244.3.4:15008', identity: 'spiffe://td.example/ns/demo/sa/p', workload: 'p' },
  },
  {
    name: 'pod IP, plaintext workload → direct, port unchanged',
    build: () => ({ v: view([wl('p', '10.244.3.4')], []), dst: ['10.244.3.4', 7070] }),
    want: { kind: 'direct', upstream: '10.244.3.4:7070', workload: 'p' },
  },
  {
    name: 'unknown destination → passthrough',
    build: () => ({ v: view([src], []), dst: ['1.2.3.4', 443] }),
    want: { kind: 'passthrough', upstream: '1.2.3.4:443' },
  },
  {
    name: 'service with a waypoint (address) → hbone to waypoint, CONNECT to the original VIP:port',
    build: () => {
      const wpSvc = svc('waypoint', '10.96.0.99', [[15008, 15008]]);
      const wpPod = backs(wl('waypoint-1', '10.244.1.50', { serviceAccount: 'waypoint' }), wpSvc, [[15008, 15008]]);
      const s = svc('echo', '10.96.0.20', [[80, 8080]], { waypoint: { address: { network: '', address: ipBytes('10.96.0.99') }, hboneMtlsPort: 15008 } });
      return { v: view([wpPod], [s, wpSvc]), dst: ['10.96.0.20', 80] };
    },
    want: { kind: 'hbone', upstream: '10.96.0.20:80', hbone: '10.96.0.99:15008', identity: 'spiffe://cluster.local/ns/demo/sa/waypoint', viaWaypoint: true, service: 'echo' },
  },
  {
    name: 'service waypoint by hostname; hboneMtlsPort 0 means 15008',
    build: () => {
      const wpSvc = svc('waypoint', '10.96.0.99', [[15008, 15008]]);
      const wpPod = backs(wl('waypoint-1', '10.244.1.50', { serviceAccount: 'waypoint' }), wpSvc, [[15008, 15008]]);
      const s = svc('echo', '10.96.0.20', [[80, 8080]], { waypoint: { hostname: { namespace: 'demo', hostname: 'waypoint.demo.svc.cluster.local' }, hboneMtlsPort: 0 } });
      return { v: view([wpPod], [s, wpSvc]), dst: ['10.96.0.20', 80] };
    },
    want: { kind: 'hbone', upstream: '10.96.0.20:80', hbone: '10.96.0.99:15008', identity: 'spiffe://cluster.local/ns/demo/sa/waypoint', viaWaypoint: true, service: 'echo' },
  },
  {
    name: 'waypoint service without healthy endpoints → unknown waypoint',
    build: () => {
      const wpSvc = svc('waypoint', '10.96.0.99', [[15008, 15008]]);
      const down = backs(wl('waypoint-1', '10.244.1.50', { status: 'UNHEALTHY' }), wpSvc, [[15008, 15008]]);
      const s = svc('echo', '10.96.0.20', [[80, 8080]], { waypoint: { address: { network: '', address: ipBytes('10.96.0.99') } } });
      return { v: view([down], [s, wpSvc]), dst: ['10.96.0.20', 80] };
    },
    want: 'ZT_UNKNOWN_WAYPOINT',
  },
  {
    name: 'waypoint endpoints with different identities → unknown waypoint',
    build: () => {
      const wpSvc = svc('waypoint', '10.96.0.99', [[15008, 15008]]);
      const a = backs(wl('wa', '10.244.1.50'), wpSvc, [[15008, 15008]]);
      const b = backs(wl('wb', '10.244.1.51'), wpSvc, [[15008, 15008]]);
      const s = svc('echo', '10.96.0.20', [[80, 8080]], { waypoint: { address: { network: '', address: ipBytes('10.96.0.99') } } });
      return { v: view([a, b], [s, wpSvc]), dst: ['10.96.0.20', 80] };
    },
    want: 'ZT_UNKNOWN_WAYPOINT',
  },
  {
    name: 'waypoint address unknown to the state → unknown waypoint',
    build: () => {
      const s = svc('echo', '10.96.0.20', [[80, 8080]], { waypoint: { address: { network: '', address: ipBytes('10.96.0.98') } } });
      return { v: view([], [s]), dst: ['10.96.0.20', 80] };
    },
    want: 'ZT_UNKNOWN_WAYPOINT',
  },
  {
    name: 'service waypoint hostname not in the state → unknown waypoint',
    build: () => {
      const s = svc('echo', '10.96.0.20', [[80, 8080]], { waypoint: { hostname: { namespace: 'demo', hostname: 'gone.demo.svc.cluster.local' } } });
      return { v: view([], [s]), dst: ['10.96.0.20', 80] };
    },
    want: 'ZT_UNKNOWN_WAYPOINT',
  },
  {
    name: 'the waypoint itself sending to the service → normal endpoint routing',
    build: () => {
      const wpSvc = svc('waypoint', '10.96.0.99', [[15008, 15008]]);
      const wpPod = backs(wl('waypoint-1', '10.244.1.50', { tunnelProtocol: 'HBONE' }), wpSvc, [[15008, 15008]]);
      const s = svc('echo', '10.96.0.20', [[80, 8080]], { waypoint: { address: { network: '', address: ipBytes('10.96.0.99') } } });
      const pod = backs(wl('echo-1', '10.244.2.5', { tunnelProtocol: 'HBONE' }), s, [[80, 8080]]);
      return { v: view([wpPod, pod], [s, wpSvc]), dst: ['10.96.0.20', 80], from: wpPod };
    },
    want: { kind: 'hbone', upstream: '10.244.2.5:8080', hbone: '10.244.2.5:15008', identity: 'spiffe://cluster.local/ns/demo/sa/echo-1', workload: 'echo-1', service: 'echo' },
  },
  {
    name: 'pod IP with a workload waypoint → hbone to the waypoint, CONNECT to the pod ip:port',
    build: () => {
      const wpPod = wl('waypoint-1', '10.244.1.50', { serviceAccount: 'waypoint' });
      const p = wl('p', '10.244.3.4', { tunnelProtocol: 'HBONE', waypoint: { address: { network: '', address: ipBytes('10.244.1.50') }, hboneMtlsPort: 15009 } });
      return { v: view([wpPod, p], []), dst: ['10.244.3.4', 7070] };
    },
    want: { kind: 'hbone', upstream: '10.244.3.4:7070', hbone: '10.244.1.50:15009', identity: 'spiffe://cluster.local/ns/demo/sa/waypoint', viaWaypoint: true, workload: 'p' },
  },
  {
    name: 'pod IP from its own waypoint → straight to the pod',
    build: () => {
      const wpPod = wl('waypoint-1', '10.244.1.50');
      const p = wl('p', '10.244.3.4', { tunnelProtocol: 'HBONE', waypoint: { address: { network: '', address: ipBytes('10.244.1.50') } } });
      return { v: view([wpPod, p], []), dst: ['10.244.3.4', 7070], from: wpPod };
    },
    want: { kind: 'hbone', upstream: '10.244.3.4:7070', hbone: '10.244.3.4:15008', identity: 'spiffe://cluster.local/ns/demo/sa/p', workload: 'p' },
  },
  {
    name: 'service addressed without a service waypoint ignores the endpoint workload waypoint',
    build: () => {
      const s = svc('echo', '10.96.0.20', [[80, 8080]]);
      const pod = backs(wl('echo-1', '10.244.2.5', { waypoint: { address: { network: '', address: ipBytes('10.244.1.50') } } }), s, [[80, 8080]]);
      return { v: view([pod], [s]), dst: ['10.96.0.20', 80] };
    },
    want: { kind: 'direct', upstream: '10.244.2.5:8080', workload: 'echo-1', service: 'echo' },
  },
  {
    name: 'unknown source still routes',
    build: () => ({ v: view([wl('p', '10.244.3.4')], []), dst: ['10.244.3.4', 80], from: undefined }),
    want: { kind: 'direct', upstream: '10.244.3.4:80', workload: 'p' },
  },
];

for (const c of cases) {
  test(c.name, () => {
    const b = c.build();
    const from = 'from' in b ? b.from : src;
    const r = decideOutbound(from, { ip: ip(b.dst[0]), port: b.dst[1] }, b.v, { ...first, ...b.opts });
    if (typeof c.want === 'string') err(r, c.want);
    else assert.deepEqual(brief(ok(r)), c.want);
  });
}

test('no-healthy-upstream messages name the service and say what to check', () => {
  const s = svc('echo', '10.96.0.20', [[80, 8080], [443, 8443]]);
  const none = err(decideOutbound(src, { ip: ip('10.96.0.20'), port: 80 }, view([], [s])), 'ZT_NO_HEALTHY_UPSTREAM');
  assert.match(none.message, /echo\.demo\.svc\.cluster\.local/);
  assert.match(none.message, /endpointslices -n demo/);
  const port = err(decideOutbound(src, { ip: ip('10.96.0.20'), port: 81 }, view([], [s])), 'ZT_NO_HEALTHY_UPSTREAM');
  assert.match(port.message, /does not declare port 81 \(its ports: 80, 443\)/);
});

test('default pick is random but always a valid endpoint', () => {
  const s = svc('echo', '10.96.0.20', [[80, 8080]]);
  const ws = ['a', 'b'].map((n, i) => backs(wl(n, `10.244.2.${10 + i}`), s, [[80, 8080]]));
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const r = ok(decideOutbound(src, { ip: ip('10.96.0.20'), port: 80 }, view(ws, [s])));
    seen.add(r.upstream.ip);
  }
  assert.deepEqual([...seen].sort(), ['10.244.2.10', '10.244.2.11']);
});

test('identity defaults: trust domain from options, then cluster.local; service account default', () => {
  assert.equal(workloadIdentity({ uid: 'u', namespace: 'ns' }), 'spiffe://cluster.local/ns/ns/sa/default');
  assert.equal(workloadIdentity({ uid: 'u', namespace: 'ns', serviceAccount: 'x' }, 'corp.example'), 'spiffe://corp.example/ns/ns/sa/x');
  assert.equal(workloadIdentity({ uid: 'u', namespace: 'ns', trustDomain: 'own.td' }, 'corp.example'), 'spiffe://own.td/ns/ns/sa/default');
});
