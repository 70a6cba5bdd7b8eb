// The waypoint's data path on loopback (no namespaces, no controller): HBONE tunnels in, HTTP routing, L7 policy,
// faults, retries and TCP out to apps on 127.0.0.x, and Istio's request metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HttpRoute } from '../../shared/waypoint/config.ts';
import { startBed, SVC, VIP } from './testbed.ts';

const route = (id: string, r: Partial<HttpRoute>): HttpRoute => ({
  id, source: { kind: 'VirtualService', namespace: 'demo', name: 'reviews' }, matches: [],
  action: { kind: 'forward', backends: [{ service: SVC, weight: 1 }] }, ...r,
});
const subsets = (uids: string[]) => [{
  service: SVC, source: { kind: 'DestinationRule' as const, namespace: 'demo', name: 'reviews' }, policy: {},
  subsets: [{ name: 'v1', labels: { version: 'v1' }, workloads: [uids[0]!] }, { name: 'v2', labels: { version: 'v2' }, workloads: [uids[1]!] }],
}];

test('waypoint on loopback: routing, policy, faults, retries, tcp, metrics', { timeout: 60_000 }, async (t) => {
  let flakyCalls = 0;
  const bed = await startBed([
    { version: 'v1' },
    { version: 'v2' },
    { version: 'flaky', handler: (_req, res) => { flakyCalls++; res.writeHead(flakyCalls % 2 ? 503 : 200); res.end(flakyCalls % 2 ? 'fail' : 'ok'); } },
  ]);
  t.after(() => bed.close());
  const [v1, v2, flaky] = bed.apps as [typeof bed.apps[0], typeof bed.apps[0], typeof bed.apps[0]];

  await t.test('no route attached: the service itself, over both endpoints', async () => {
    bed.configure({ services: [{ service: SVC, ports: [{ port: 80, protocol: 'HTTP' }], http: [], tcp: [] }] });
    // Keep the flaky app out of the way: a subset-free default route spreads over all three.
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const r = await bed.request({});
      if (r.status === 200) seen.add(r.body);
    }
    assert.ok(seen.has('v1') && seen.has('v2'), [...seen].join(','));
  });

  await t.test('header match routes end-user jason to v2, everyone else to v1; request headers reach the app', async () => {
    bed.configure({
      destinations: subsets([v1.uid, v2.uid]),
      services: [{ service: SVC, ports: [{ port: 80, protocol: 'HTTP' }], tcp: [], http: [
        route('r#0', { matches: [{ headers: [{ name: 'end-user', value: { exact: 'jason' } }] }], action: { kind: 'forward', backends: [{ service: SVC, subset: 'v2', weight: 100 }] }, requestHeaders: { set: { 'x-routed': 'v2' } } }),
        route('r#1', { action: { kind: 'forward', backends: [{ service: SVC, subset: 'v1', weight: 100 }] }, responseHeaders: { add: { 'x-via': 'waypoint' } } }),
      ] }],
    });
    for (let i = 0; i < 5; i++) assert.equal((await bed.request({ headers: { 'end-user': 'jason' } })).body, 'v2');
    const plain = await bed.request({});
    assert.equal(plain.body, 'v1');
    assert.equal(plain.headers['x-via'], 'waypoint');
    const last = v2.seen.at(-1)!;
    assert.equal(last.headers['x-routed'], 'v2');
    assert.equal(last.headers['x-forwarded-for'], '10.244.1.5', 'the original client from Forwarded');
    assert.match(String(last.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    assert.match(String(last.headers.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
  });

  await t.test('source matches: the client namespace (SPIFFE id) and workload (by address)', async () => {
    const fromDemo = route('src#0', { matches: [{ source: { namespaces: ['demo'], workloads: ['Kubernetes//Pod/demo/client'] } }], action: { kind: 'forward', backends: [{ service: SVC, subset: 'v2', weight: 100 }] } });
    const rest = route('src#1', { action: { kind: 'forward', backends: [{ service: SVC, subset: 'v1', weight: 100 }] } });
    bed.configure({ destinations: subsets([v1.uid, v2.uid]), services: [{ service: SVC, ports: [{ port: 80, protocol: 'HTTP' }], tcp: [], http: [fromDemo, rest] }] });
    assert.equal((await bed.request({})).body, 'v1', 'the client address is no workload in the state yet');
    // The client (Forwarded: for=10.244.1.5) becomes a known workload.
    const client = { uid: 'Kubernetes//Pod/demo/client', name: 'client', namespace: 'demo', addresses: [Uint8Array.from([10, 244, 1, 5])], serviceAccount: 'client', status: 'HEALTHY' as const };
    bed.ctx.state.applyAddresses([{ name: client.uid, address: { workload: client }, version: 'c1' }], []);
    assert.equal((await bed.request({})).body, 'v2', 'namespace demo and the workload both match');
    bed.configure({ destinations: subsets([v1.uid, v2.uid]), services: [{ service: SVC, ports: [{ port: 80, protocol: 'HTTP' }], tcp: [], http: [
      route('src#0', { ...fromDemo, matches: [{ source: { namespaces: ['shop'] } }] }), rest,
    ] }] });
    assert.equal((await bed.request({})).body, 'v1', 'another namespace');
  });

  await t.test('an HTTPRoute share to an invalid backend gets 500 (Gateway API); a VirtualService one 503', async () => {
    const invalid = 'demo/cart.shop.ref-not-permitted.invalid';
    // The controller marks an HTTPRoute's invalid backend with the status its share gets; a VirtualService's it does not.
    const split = (kind: 'HTTPRoute' | 'VirtualService') => route('inv#0', {
      source: { kind, namespace: 'demo', name: 'r' },
      action: { kind: 'forward', backends: [{ service: invalid, weight: 1, ...(kind === 'HTTPRoute' ? { invalidStatus: 500 } : {}) }, { service: SVC, subset: 'v1', weight: 1 }] },
    });
    bed.configure({ destinations: subsets([v1.uid, v2.uid]), services: [{ service: SVC, ports: [{ port: 80, protocol: 'HTTP' }], tcp: [], http: [split('HTTPRoute')] }] });
    const seen = new Map<number, number>();
    for (let i = 0; i < 40; i++) {
      const r = await bed.request({});
      seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
    }
    assert.deepEqual([...seen.keys()].sort(), [200, 500], JSON.stringify([...seen]));
    bed.configure({ destinations: subsets([v1.uid, v2.uid]), services: [{ service: SVC, ports: [{ port: 80, protocol: 'HTTP' }], tcp: [], http: [{ ...split('VirtualService'), action: { kind: 'forward', backends: [{ service: invalid, weight: 1 }] } }] }] });
    assert.equal((await bed.request({})).status, 503);
  });

  await t.test('weights split traffic', async () => {
    bed.configure({
      destinations: subsets([v1.uid, v2.uid]),
      services: [{ service: SVC, ports: [{ port: 80, protocol: 'HTTP' }], tcp: [], http: [
        route('split', { action: { kind: 'forward', backends: [{ service: SVC, subset: 'v1', weight: 50 }, { service: SVC, subset: 'v2', weight: 50 }] } }),
      ] }],
    });
    const n = { v1: 0, v2: 0 } as Record<string, number>;
    for (let i = 0; i < 200; i++) n[(await bed.request({})).body]! += 1;
    assert.ok(n.v1! > 60 && n.v2! > 60, JSON.stringify(n));
  });

  await t.test('no matching route is 404; DELETE denied by an L7 policy is 403 RBAC: access denied', async () => {
    bed.configure({
      services: [{ service: SVC, ports: [{ port: 80, protocol: 'HTTP' }], tcp: [], http: [route('only-api', { matches: [{ path: { pathPrefix: '/api' } }] })] }],
      authorization: [{ namespace: 'demo', name: 'no-delete', action: 'DENY', target: { all: true }, rules: [{ from: [], to: [{ methods: ['DELETE'] }], when: [] }] }],
    });
    assert.equal((await bed.request({ path: '/other' })).status, 404);
    const ok = await bed.request({ path: '/api/x' });
    assert.equal(ok.status, 200);
    const denied = await bed.request({ path: '/api/x', method: 'DELETE' });
    assert.equal(denied.status, 403);
    assert.equal(denied.body, 'RBAC: access denied');
  });

  await t.test('fault abort, redirect, direct response', async () => {
    bed.configure({
      services: [{ service: SVC, ports: [{ port: 80, protocol: 'HTTP' }], tcp: [], http: [
        route('abort', { matches: [{ path: { exact: '/abort' } }], fault: { abort: { httpStatus: 418, percent: 100 } } }),
        route('moved', { matches: [{ path: { prefix: '/old' } }], action: { kind: 'redirect', redirect: { path: { prefix: '/new' }, status: 301 } } }),
        route('teapot', { matches: [{ path: { exact: '/hello' } }], action: { kind: 'respond', status: 200, body: 'hi' } }),
      ] }],
    });
    assert.equal((await bed.request({ path: '/abort' })).status, 418);
    const moved = await bed.request({ path: '/old/a' });
    assert.equal(moved.status, 301);
    assert.match(moved.headers.location ?? '', /\/new\/a$/);
    assert.equal((await bed.request({ path: '/hello' })).body, 'hi');
  });

  await t.test('retries hide a flaky endpoint; without them half fail', async () => {
    const flakyOnly = (attempts: number) => bed.configure({
      services: [{ service: SVC, ports: [{ port: 80, protocol: 'HTTP' }], tcp: [], http: [route('flaky', {
        action: { kind: 'forward', backends: [{ service: SVC, subset: 'f', weight: 1 }] },
        retries: { attempts, retryOn: ['5xx'] },
      })] }],
      destinations: [{ service: SVC, source: { kind: 'DestinationRule', namespace: 'demo', name: 'r' }, policy: {}, subsets: [{ name: 'f', labels: {}, workloads: [flaky.uid] }] }],
    });
    flakyOnly(0);
    let failed = 0;
    for (let i = 0; i < 10; i++) if ((await bed.request({})).status === 503) failed++;
    assert.equal(failed, 5);
    flakyOnly(3);
    for (let i = 0; i < 10; i++) assert.equal((await bed.request({})).status, 200);
  });

  await t.test('istio_requests_total counts by response code with the waypoint reporter', async () => {
    const text = await bed.registry.metrics();
    const line = text.split('\n').find((l) => l.startsWith('istio_requests_total{') && l.includes('response_code="403"'));
    assert.ok(line, 'a 403 was counted');
    assert.match(line!, /reporter="waypoint"/);
    assert.match(line!, /source_principal="spiffe:\/\/cluster.local\/ns\/demo\/sa\/client"/);
    assert.match(line!, /destination_service="reviews.demo.svc.cluster.local"/);
  });

  await t.test('a pod addressed directly (workload-bound waypoint): sniffed as HTTP and sent to that pod', async () => {
    const r = await bed.request({ authority: `${v2.ip}:${v2.port}` });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'v2');
  });

  await t.test('a TCP port is spliced to an endpoint', async () => {
    bed.configure({ services: [{ service: SVC, ports: [{ port: 80, protocol: 'TCP' }], http: [], tcp: [{ id: 'tcp', source: { kind: 'TCPRoute', namespace: 'demo', name: 't' }, backends: [{ service: SVC, subset: 'v1', weight: 1 }] }] }], destinations: subsets([v1.uid, v2.uid]) });
    const s = await bed.tunnel(`${VIP}:80`);
    s.end('GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    let text = '';
    for await (const c of s) text += c;
    assert.match(text, /^HTTP\/1\.1 200/);
    assert.match(text, /x-version: v1/);
    assert.doesNotMatch(text, /x-envoy-upstream-service-time/, 'bytes, not an HTTP exchange of the waypoint');
  });
});
