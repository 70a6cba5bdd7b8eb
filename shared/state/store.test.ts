// Table tests of the xDS state store: every index through StateView, deltas (upsert, removal, kind switch,
// refused batches), change events, versions, and the config dump.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipBytes } from '../proto/index.ts';
import type { Address, Authorization, Service, Workload } from '../proto/types.ts';
import type { IpText, PolicyKey, ServiceKey } from './types.ts';
import { XdsState, type StateChange } from './store.ts';
import { InvalidResourceError } from './errors.ts';
import { addressProblem, authorizationProblem } from './validate.ts';
import { targetPort } from './lookups.ts';

const ip = (s: string) => s as IpText;
const sk = (s: string) => s as ServiceKey;
const pk = (s: string) => s as PolicyKey;

function wl(name: string, o: Partial<Workload> & { ip?: string } = {}): Workload {
  const { ip: addr, ...rest } = o;
  return { uid: `Kubernetes//Pod/shop/${name}`, name, namespace: 'shop', node: 'node-1', ...(addr ? { addresses: [ipBytes(addr)] } : {}), ...rest };
}
function svc(name: string, vip: string, o: Partial<Service> = {}): Service {
  return { name, namespace: 'shop', hostname: `${name}.shop.svc.cluster.local`, addresses: [{ network: '', address: ipBytes(vip) }], ports: [{ servicePort: 80, targetPort: 8080 }], ...o };
}
function authz(namespace: string, name: string, o: Partial<Authorization> = {}): Authorization {
  return { name, namespace, ...o };
}
const aw = (w: Workload) => ({ name: w.uid, address: { workload: w } as Address });
const as = (s: Service) => ({ name: `${s.namespace}/${s.hostname}`, address: { service: s } as Address });
const ap = (p: Authorization) => ({ name: `${p.namespace}/${p.name}`, authorization: p });

test('targetPort: matching entry, 0/absent target, empty or missing list, unlisted port', () => {
  const cases: Array<[string, Parameters<typeof targetPort>[0], number, number | undefined]> = [
    ['entry with target', { ports: [{ servicePort: 80, targetPort: 8080 }] }, 80, 8080],
    ['entry with target 0', { ports: [{ servicePort: 80, targetPort: 0 }] }, 80, 80],
    ['entry without target', { ports: [{ servicePort: 80 }] }, 80, 80],
    ['empty list', { ports: [] }, 80, 80],
    ['no list at all', undefined, 443, 443],
    ['list without the port', { ports: [{ servicePort: 80, targetPort: 8080 }] }, 443, undefined],
    ['second entry', { ports: [{ servicePort: 80, targetPort: 8080 }, { servicePort: 443, targetPort: 8443 }] }, 443, 8443],
  ];
  for (const [name, list, port, want] of cases) assert.equal(targetPort(list, port), want, name);
});

test('validate: names must agree with content; bad IPs and unknown enums are refused', () => {
  const w = wl('a', { ip: '10.244.1.5' });
  const addressCases: Array<[string, string, Address, RegExp | undefined]> = [
    ['good workload', w.uid, { workload: w }, undefined],
    ['workload name ≠ uid', 'other', { workload: w }, /must be the uid/],
    ['workload without uid', 'x', { workload: { uid: '' } }, /no uid/],
    ['3-byte address', w.uid, { workload: { ...w, addresses: [new Uint8Array(3)] } }, /4 or 16 bytes/],
    ['good service', 'shop/web.shop.svc.cluster.local', { service: svc('web', '10.96.0.5') }, undefined],
    ['service name mismatch', 'shop/web', { service: svc('web', '10.96.0.5') }, /namespace\/hostname/],
    ['service bad vip', 'shop/web.shop.svc.cluster.local', { service: svc('web', '10.96.0.5', { addresses: [{ address: new Uint8Array(5) }] }) }, /vip/],
    ['neither', 'x', {} as Address, /neither/],
  ];
  for (const [name, rn, a, want] of addressCases) {
    const got = addressProblem(rn, a);
    if (want) assert.match(got ?? '', want, name);
    else assert.equal(got, undefined, name);
  }
  const policyCases: Array<[string, string, Authorization, RegExp | undefined]> = [
    ['good', 'shop/p', authz('shop', 'p'), undefined],
    ['name mismatch', 'shop/q', authz('shop', 'p'), /namespace\/name/],
    ['unknown scope', 'shop/p', authz('shop', 'p', { scope: 'CLUSTER' as never }), /scope/],
    ['unknown action', 'shop/p', authz('shop', 'p', { action: 'AUDIT' as never }), /action/],
  ];
  for (const [name, rn, p, want] of policyCases) {
    const got = authorizationProblem(rn, p);
    if (want) assert.match(got ?? '', want, name);
    else assert.equal(got, undefined, name);
  }
});

function populated(): XdsState {
  const s = new XdsState();
  s.applyAddresses([
    aw(wl('web-1', { ip: '10.244.1.5', services: { 'shop/web.shop.svc.cluster.local': { ports: [{ servicePort: 80, targetPort: 8080 }] } } })),
    aw(wl('web-2', { ip: '10.244.2.5', node: 'node-2', services: { 'shop/web.shop.svc.cluster.local': { ports: [] } } })),
    aw(wl('admin', { ip: '10.244.1.7', services: { 'shop/web.shop.svc.cluster.local': { ports: [{ servicePort: 9090 }] } } })),
    aw(wl('host', { ip: '10.100.0.11', networkMode: 'HOST_NETWORK' })),
    as(svc('web', '10.96.0.5')),
    as(svc('web', '240.0.0.1', { namespace: 'other' })),
  ], []);
  return s;
}

test('lookups: every index answers through StateView', () => {
  const s = populated();
  const cases: Array<[string, () => unknown, unknown]> = [
    ['by uid', () => s.workloadByUid('Kubernetes//Pod/shop/web-1')?.name, 'web-1'],
    ['by uid, unknown', () => s.workloadByUid('nope'), undefined],
    ['by ip', () => s.workloadByIp(ip('10.244.2.5'))?.name, 'web-2'],
    ['by ip, unknown', () => s.workloadByIp(ip('10.244.9.9')), undefined],
    ['by node', () => s.workloadsOnNode('node-1').map((w) => w.name), ['admin', 'host', 'web-1']],
    ['by node, none', () => s.workloadsOnNode('node-9'), []],
    ['service by key', () => s.serviceByKey(sk('shop/web.shop.svc.cluster.local'))?.name, 'web'],
    ['service by vip', () => s.serviceByVip(ip('10.96.0.5'))?.namespace, 'shop'],
    ['service by other vip', () => s.serviceByVip(ip('240.0.0.1'))?.namespace, 'other'],
    ['service by hostname (smallest key wins)', () => s.serviceByHostname('web.shop.svc.cluster.local')?.namespace, 'other'],
    ['service by hostname, unknown', () => s.serviceByHostname('x.example.com'), undefined],
    ['endpoints on 80: listed entry, empty list; 9090-only workload excluded',
      () => s.endpointsOf(sk('shop/web.shop.svc.cluster.local'), 80).map((e) => [e.workload.name, e.port]), [['web-1', 8080], ['web-2', 80]]],
    ['endpoints on 9090', () => s.endpointsOf(sk('shop/web.shop.svc.cluster.local'), 9090).map((e) => [e.workload.name, e.port]), [['admin', 9090], ['web-2', 9090]]],
    ['endpoints of unknown service', () => s.endpointsOf(sk('shop/none'), 80), []],
    ['all', () => [[...s.allWorkloads()].length, [...s.allServices()].length, [...s.allPolicies()].length], [4, 2, 0]],
  ];
  for (const [name, fn, want] of cases) assert.deepEqual(fn(), want, name);
});

test('workloadByIp: a pod wins over a host-network workload on the same IP, whatever the order', () => {
  for (const order of [['pod', 'host'], ['host', 'pod']]) {
    const s = new XdsState();
    for (const which of order) {
      s.applyAddresses([aw(which === 'pod' ? wl('pod', { ip: '10.0.0.1' }) : wl('host', { ip: '10.0.0.1', networkMode: 'HOST_NETWORK' }))], []);
    }
    assert.equal(s.workloadByIp(ip('10.0.0.1'))?.name, 'pod', order.join(','));
    s.applyAddresses([], ['Kubernetes//Pod/shop/pod']);
    assert.equal(s.workloadByIp(ip('10.0.0.1'))?.name, 'host', 'the other one remains after removal');
  }
});

test('updates: remove-then-add leaves no stale index entries', () => {
  const s = populated();
  // web-1 moves IP, node, and stops backing the service.
  s.applyAddresses([aw(wl('web-1', { ip: '10.244.3.9', node: 'node-3' }))], []);
  assert.equal(s.workloadByIp(ip('10.244.1.5')), undefined);
  assert.equal(s.workloadByIp(ip('10.244.3.9'))?.name, 'web-1');
  assert.deepEqual(s.workloadsOnNode('node-3').map((w) => w.name), ['web-1']);
  assert.ok(!s.workloadsOnNode('node-1').some((w) => w.name === 'web-1'));
  assert.deepEqual(s.endpointsOf(sk('shop/web.shop.svc.cluster.local'), 80).map((e) => e.workload.name), ['web-2']);
  // The service changes VIP.
  s.applyAddresses([as(svc('web', '10.96.0.6'))], []);
  assert.equal(s.serviceByVip(ip('10.96.0.5')), undefined);
  assert.equal(s.serviceByVip(ip('10.96.0.6'))?.name, 'web');
  // Removals, including names the store never had.
  s.applyAddresses([], ['other/web.shop.svc.cluster.local', 'Kubernetes//Pod/shop/host', 'never-seen']);
  assert.equal(s.serviceByHostname('web.shop.svc.cluster.local')?.namespace, 'shop');
  assert.equal(s.serviceByVip(ip('240.0.0.1')), undefined);
  assert.equal(s.workloadByIp(ip('10.100.0.11')), undefined);
});

test('a refused batch changes nothing and emits nothing', () => {
  const s = populated();
  const before = JSON.stringify(s.dump());
  const seen: StateChange[] = [];
  s.onChange((c) => seen.push(c));
  assert.throws(() => s.applyAddresses([aw(wl('new', { ip: '10.244.1.99' })), { name: 'bad', address: { workload: wl('x') } }], ['Kubernetes//Pod/shop/web-1']),
    (e: unknown) => e instanceof InvalidResourceError && e.code === 'ZT_XDS_INVALID_RESOURCE' && /must be the uid/.test(e.message));
  assert.throws(() => s.applyAuthorizations([{ name: 'shop/x', authorization: authz('shop', 'y') }], []), InvalidResourceError);
  assert.equal(JSON.stringify(s.dump()), before);
  assert.deepEqual(seen, []);
});

test('onChange: what each apply changed; nothing when nothing did; unsubscribe', () => {
  const s = new XdsState();
  const seen: StateChange[] = [];
  const off = s.onChange((c) => seen.push(c));
  const w = wl('a', { ip: '10.0.0.1' });
  const cases: Array<[string, () => unknown, StateChange | undefined]> = [
    ['workload + service', () => s.applyAddresses([aw(w), as(svc('web', '10.96.0.5'))], []), { workloads: [w.uid], services: ['shop/web.shop.svc.cluster.local'], policies: [] }],
    ['removal of unknown name: no event', () => s.applyAddresses([], ['nope']), undefined],
    ['a name switches kind (service → workload)', () => s.applyAddresses([{ name: 'shop/web.shop.svc.cluster.local', address: { workload: { uid: 'shop/web.shop.svc.cluster.local' } } }], []),
      { workloads: ['shop/web.shop.svc.cluster.local'], services: ['shop/web.shop.svc.cluster.local'], policies: [] }],
    ['policy', () => s.applyAuthorizations([ap(authz('shop', 'p'))], []), { workloads: [], services: [], policies: ['shop/p'] }],
    ['policy removal', () => s.applyAuthorizations([], ['shop/p']), { workloads: [], services: [], policies: ['shop/p'] }],
  ];
  for (const [name, fn, want] of cases) {
    const n = seen.length;
    fn();
    if (want) assert.deepEqual(seen.slice(n), [want], name);
    else assert.equal(seen.length, n, name);
  }
  assert.equal(s.serviceByKey(sk('shop/web.shop.svc.cluster.local')), undefined, 'the service went when its name became a workload');
  off();
  s.applyAddresses([], [w.uid]);
  assert.equal(seen.length, 4);
});

test('policiesFor: GLOBAL everywhere, NAMESPACE in its namespace, WORKLOAD_SELECTOR only when listed', () => {
  const s = new XdsState();
  s.applyAuthorizations([
    ap(authz('istio-system', 'mesh-wide')), // scope absent on the wire = GLOBAL
    ap(authz('istio-system', 'explicit-global', { scope: 'GLOBAL', action: 'DENY' })),
    ap(authz('shop', 'ns-wide', { scope: 'NAMESPACE' })),
    ap(authz('other', 'ns-other', { scope: 'NAMESPACE' })),
    ap(authz('shop', 'selected', { scope: 'WORKLOAD_SELECTOR' })),
    ap(authz('shop', 'unlisted', { scope: 'WORKLOAD_SELECTOR' })),
    ap(authz('istio-system', 'istio_converted_static_strict', { scope: 'WORKLOAD_SELECTOR', action: 'DENY' })),
  ], []);
  const names = (w: Workload) => s.policiesFor(w).map((p) => `${p.namespace}/${p.name}`);
  const cases: Array<[string, Workload, string[]]> = [
    ['shop, lists nothing', wl('a'), ['istio-system/explicit-global', 'istio-system/mesh-wide', 'shop/ns-wide']],
    ['shop, lists one + the static strict + a missing one', wl('b', { authorizationPolicies: ['shop/selected', 'istio-system/istio_converted_static_strict', 'shop/gone'] }),
      ['istio-system/explicit-global', 'istio-system/istio_converted_static_strict', 'istio-system/mesh-wide', 'shop/ns-wide', 'shop/selected']],
    ['other namespace', { uid: 'x', namespace: 'other' }, ['istio-system/explicit-global', 'istio-system/mesh-wide', 'other/ns-other']],
    ['listing a namespace-wide one does not duplicate it', wl('c', { authorizationPolicies: ['shop/ns-wide'] }), ['istio-system/explicit-global', 'istio-system/mesh-wide', 'shop/ns-wide']],
  ];
  for (const [name, w, want] of cases) assert.deepEqual(names(w), want, name);
  assert.equal(s.policy(pk('shop/selected'))?.scope, 'WORKLOAD_SELECTOR');
  // A scope change moves the policy between indexes.
  s.applyAuthorizations([ap(authz('shop', 'ns-wide', { scope: 'WORKLOAD_SELECTOR' }))], []);
  s.applyAuthorizations([], ['istio-system/mesh-wide']);
  assert.deepEqual(names(wl('a')), ['istio-system/explicit-global']);
});

test('resourceVersions: what the store holds, per kind, for initial_resource_versions', () => {
  const s = new XdsState();
  s.applyAddresses([{ ...aw(wl('a')), version: 'v1' }, { ...as(svc('web', '10.96.0.5')), version: 'v2' }], []);
  s.applyAddresses([aw(wl('b'))], []);
  s.applyAuthorizations([{ ...ap(authz('shop', 'p')), version: 'p1' }], []);
  s.applyAddresses([], ['Kubernetes//Pod/shop/a']);
  assert.deepEqual(s.resourceVersions('address'), { 'shop/web.shop.svc.cluster.local': 'v2', 'Kubernetes//Pod/shop/b': '' });
  assert.deepEqual(s.resourceVersions('authorization'), { 'shop/p': 'p1' });
});

test('dump: JSON with IPs as text, endpoints per service, Istio ztunnel spelling', () => {
  const s = populated();
  s.applyAuthorizations([ap(authz('shop', 'deny-src', {
    scope: 'NAMESPACE', action: 'DENY',
    rules: [{ clauses: [{ matches: [{ sourceIps: [{ address: ipBytes('10.1.0.0'), length: 16 }], principals: [{ exact: 'spiffe://cluster.local/ns/a/sa/b' }], destinationPorts: [80] }] }] }],
  }))], []);
  const d = JSON.parse(JSON.stringify(s.dump()));
  const web1 = d.workloads.find((w: { name: string }) => w.name === 'web-1');
  assert.deepEqual(web1.workloadIps, ['10.244.1.5']);
  assert.equal(web1.protocol, 'TCP');
  assert.deepEqual(web1.services, ['shop/web.shop.svc.cluster.local']);
  assert.equal(d.workloads.find((w: { name: string }) => w.name === 'host').networkMode, 'HostNetwork');
  const web = d.services.find((x: { namespace: string }) => x.namespace === 'shop');
  assert.deepEqual(web.vips, ['/10.96.0.5']);
  assert.deepEqual(web.ports, { 80: 8080 });
  assert.deepEqual(web.endpoints['Kubernetes//Pod/shop/web-1'], { workloadUid: 'Kubernetes//Pod/shop/web-1', service: 'shop/web.shop.svc.cluster.local', port: { 80: 8080 } });
  assert.deepEqual(web.endpoints['Kubernetes//Pod/shop/admin'].port, {}, 'admin does not serve port 80');
  assert.deepEqual(d.policies, [{
    name: 'deny-src', namespace: 'shop', scope: 'Namespace', action: 'Deny', dryRun: false,
    rules: [[[{ principals: [{ exact: 'spiffe://cluster.local/ns/a/sa/b' }], sourceIps: ['10.1.0.0/16'], destinationPorts: [80] }]]],
  }]);
});
