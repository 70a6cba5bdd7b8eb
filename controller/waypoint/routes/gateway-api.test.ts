// Table tests for compiling Gateway API routes (GAMMA): parentRefs attachment, matches and defaults, precedence
// across rules and objects, backends and filters, timeouts and retry, GRPCRoute and TCPRoute, reference verdicts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HttpRoute } from '../../../shared/waypoint/config.ts';
import { compileRoutes } from './index.ts';
import { inputs, obj, svc } from './testing.ts';

const reviews = svc('default', 'reviews', [{ port: 9080, name: 'http' }, { port: 9443, name: 'admin' }]);
const v1 = svc('default', 'reviews-v1');
const v2 = svc('default', 'reviews-v2');
const shadow = svc('default', 'shadow', [{ port: 80 }]);
const cart = svc('shop', 'cart');
const all = [reviews, v1, v2, shadow, cart];
const K = (s: { key: string }) => s.key;
const parent = { group: '', kind: 'Service', name: 'reviews' };
const be = (name = 'reviews-v1', extra: object = {}) => ({ name, port: 9080, ...extra });

function route(kind: string, spec: object, name = 'r', created?: string, namespace = 'default') {
  return obj(kind, namespace, name, { parentRefs: [parent], ...spec }, created);
}
function compile(...objects: ReturnType<typeof route>[]) {
  return compileRoutes(inputs({ bound: [reviews], all, objects }));
}
const httpOf = (...objects: ReturnType<typeof route>[]): HttpRoute[] => compile(...objects).services[0]!.http;

test('parentRefs: Service in group "" or core, namespace defaulting to the route\'s, port and sectionName restrict', () => {
  const rules = [{ backendRefs: [be()] }];
  const cases: Array<[string, object[], string, Array<number | undefined> | 'none']> = [
    ['group ""', [{ group: '', kind: 'Service', name: 'reviews' }], 'default', [undefined]],
    ['group core', [{ group: 'core', kind: 'Service', name: 'reviews' }], 'default', [undefined]],
    ['port', [{ ...parent, port: 9080 }], 'default', [9080]],
    ['sectionName names a port', [{ ...parent, sectionName: 'admin' }], 'default', [9443]],
    ['sectionName and matching port', [{ ...parent, sectionName: 'admin', port: 9443 }], 'default', [9443]],
    ['sectionName and another port', [{ ...parent, sectionName: 'admin', port: 9080 }], 'default', 'none'],
    ['unknown sectionName', [{ ...parent, sectionName: 'nope' }], 'default', 'none'],
    ['two ports', [{ ...parent, port: 9080 }, { ...parent, port: 9443 }], 'default', [9080, 9443]],
    ['defaulted namespace elsewhere', [parent], 'shop', 'none'],
    ['a Gateway parent', [{ name: 'reviews' }], 'default', 'none'],
    ['another Service', [{ ...parent, name: 'reviews-v1' }], 'default', 'none'],
    ['Service in another group', [{ ...parent, group: 'example.com' }], 'default', 'none'],
  ];
  for (const [name, parentRefs, ns, ports] of cases) {
    const http = httpOf(obj('HTTPRoute', ns, 'r', { parentRefs, rules }));
    if (ports === 'none') assert.deepEqual(http, [], name);
    else assert.deepEqual(http.map((r) => r.matches), ports.map((p) => [p === undefined ? { path: { pathPrefix: '/' } } : { path: { pathPrefix: '/' }, port: p }]), name);
  }
});

test('consumer routes (GAMMA): a route from another namespace is for its clients only, and replaces the producer routes for them', () => {
  const toV1 = { backendRefs: [be('reviews-v1', { namespace: 'default' })] };
  const consumer = obj('HTTPRoute', 'shop', 'c', { parentRefs: [{ ...parent, namespace: 'default' }], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/api' } }], ...toV1 }] });
  // The backend is in the producer's namespace: a cross-namespace reference like any other, so it needs a grant.
  const grant = obj('ReferenceGrant', 'default', 'from-shop', { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'shop' }], to: [{ group: '', kind: 'Service' }] });
  const shop = { namespaces: ['shop'] };
  const R = 'default/reviews.default.svc.cluster.local';
  // Alone: shop's clients get its route, then 404; everyone else the Service itself.
  assert.deepEqual(httpOf(consumer, grant).map((r) => [r.id, r.matches, r.action]), [
    ['HTTPRoute/shop/c#0', [{ path: { pathPrefix: '/api' }, source: shop }], { kind: 'forward', backends: [{ service: 'default/reviews-v1.default.svc.cluster.local', port: 9080, weight: 1 }] }],
    ['consumer/shop#no-route', [{ source: shop }], { kind: 'respond', status: 404 }],
    ['default', [], { kind: 'forward', backends: [{ service: R, weight: 1 }] }],
  ]);
  // With a producer route: it follows, for everyone else.
  const producer = route('HTTPRoute', { rules: [{ backendRefs: [be('reviews')] }] }, 'p');
  assert.deepEqual(httpOf(producer, consumer, grant).map((r) => r.id), ['HTTPRoute/shop/c#0', 'consumer/shop#no-route', 'HTTPRoute/default/p#0']);
  // With only a VirtualService for the Service: its rules serve the other clients.
  const vs = obj('VirtualService', 'default', 'v', { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews' } }] }] });
  assert.deepEqual(httpOf(consumer, vs, grant).map((r) => r.id), ['HTTPRoute/shop/c#0', 'consumer/shop#no-route', 'VirtualService/default/v#0']);
});

test('matches: defaults (PathPrefix /, Exact), trailing / ignored, first of duplicate names wins', () => {
  const cases: Array<[string, unknown[], HttpRoute['matches'][]]> = [
    ['no matches', [], [[{ path: { pathPrefix: '/' } }]]],
    ['empty match', [{}], [[{ path: { pathPrefix: '/' } }]]],
    ['path kinds', [{ path: { type: 'Exact', value: '/login' } }, { path: { value: '/api/' } }, { path: { type: 'RegularExpression', value: '/v[0-9]+/x' } }],
      [[{ path: { exact: '/login' } }], [{ path: { pathPrefix: '/api' } }], [{ path: { regex: '/v[0-9]+/x' } }]]],
    ['headers', [{ headers: [{ name: 'End-User', value: 'jason' }, { name: 'end-user', value: 'ignored' }, { type: 'RegularExpression', name: 'x-v', value: '(?i)v1' }] }],
      [[{ path: { pathPrefix: '/' }, headers: [{ name: 'end-user', value: { exact: 'jason' } }, { name: 'x-v', value: { regex: '(?i:v1)' } }] }]]],
    ['query and method', [{ queryParams: [{ name: 'v', value: '1' }, { name: 'v', value: '2' }, { type: 'RegularExpression', name: 'q', value: 'a.*' }], method: 'PUT' }],
      [[{ path: { pathPrefix: '/' }, query: [{ name: 'v', value: { exact: '1' } }, { name: 'q', value: { regex: 'a.*' } }], method: { exact: 'PUT' } }]]],
  ];
  for (const [name, matches, want] of cases) {
    assert.deepEqual(httpOf(route('HTTPRoute', { rules: [{ matches, backendRefs: [be()] }] })).map((r) => r.matches), want, name);
  }
});

test('precedence: exact > longest prefix > method > headers > query params; oldest route, then ns/name; no-match rules last', () => {
  const m = (x: object) => ({ matches: [x], backendRefs: [be()] });
  const http = httpOf(
    route('HTTPRoute', { rules: [
      { backendRefs: [be()] },
      m({ path: { value: '/a' } }),
      m({ path: { value: '/a' }, headers: [{ name: 'x', value: '1' }] }),
      m({ path: { value: '/a' }, queryParams: [{ name: 'q', value: '1' }] }),
      m({ path: { value: '/a' }, method: 'GET', queryParams: [{ name: 'q', value: '1' }] }),
    ] }, 'newer', '2024-02-01T00:00:00Z'),
    route('HTTPRoute', { rules: [
      { matches: [{ path: { value: '/a/b' } }, { path: { type: 'Exact', value: '/z' } }], backendRefs: [be()] },
      m({ path: { type: 'RegularExpression', value: '/a/b/c/d/e' } }),
      m({ path: { value: '/a' } }),
    ] }, 'older', '2024-01-01T00:00:00Z'),
    route('HTTPRoute', { rules: [m({ path: { value: '/a' } })] }, 'a-same-age', '2024-01-01T00:00:00Z'),
  );
  assert.deepEqual(http.map((r) => [r.id, JSON.stringify(r.matches[0])]), [
    ['HTTPRoute/default/older#0', '{"path":{"exact":"/z"}}'],
    ['HTTPRoute/default/older#0', '{"path":{"pathPrefix":"/a/b"}}'],
    ['HTTPRoute/default/newer#4', '{"path":{"pathPrefix":"/a"},"query":[{"name":"q","value":{"exact":"1"}}],"method":{"exact":"GET"}}'],
    ['HTTPRoute/default/newer#2', '{"path":{"pathPrefix":"/a"},"headers":[{"name":"x","value":{"exact":"1"}}]}'],
    ['HTTPRoute/default/newer#3', '{"path":{"pathPrefix":"/a"},"query":[{"name":"q","value":{"exact":"1"}}]}'],
    ['HTTPRoute/default/a-same-age#0', '{"path":{"pathPrefix":"/a"}}'],
    ['HTTPRoute/default/older#2', '{"path":{"pathPrefix":"/a"}}'],
    ['HTTPRoute/default/newer#1', '{"path":{"pathPrefix":"/a"}}'],
    ['HTTPRoute/default/older#1', '{"path":{"regex":"/a/b/c/d/e"}}'],
    ['HTTPRoute/default/newer#0', '{"path":{"pathPrefix":"/"}}'],
  ]);
});

test('backends: weight default 1, weight 0 dropped, none with weight → 500, per-backend header filters', () => {
  const filters = [
    { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-Canary', value: 'true' }] } },
    { type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'x-from', value: 'v2' }] } },
  ];
  const cases: Array<[string, object, HttpRoute['action']]> = [
    ['default weight', { backendRefs: [be()] }, { kind: 'forward', backends: [{ service: K(v1), port: 9080, weight: 1 }] }],
    ['weights and a zero', { backendRefs: [be('reviews-v1', { weight: 90 }), be('reviews-v2', { weight: 10, filters }), be('shadow', { weight: 0, port: 80 })] },
      { kind: 'forward', backends: [{ service: K(v1), port: 9080, weight: 90 }, { service: K(v2), port: 9080, weight: 10, requestHeaders: { set: { 'x-canary': 'true' } }, responseHeaders: { add: { 'x-from': 'v2' } } }] }],
    ['all weights 0', { backendRefs: [be('reviews-v1', { weight: 0 })] }, { kind: 'respond', status: 500 }],
    ['no backendRefs', {}, { kind: 'respond', status: 500 }],
    ['no backendRefs, only a header filter', { filters: [filters[0]] }, { kind: 'respond', status: 500 }],
    // With a ReferenceGrant it resolves: see the RefNotPermitted test below.
    ['cross-namespace backend without a ReferenceGrant', { backendRefs: [{ name: 'cart', namespace: 'shop', port: 9080 }] }, { kind: 'respond', status: 500 }],
  ];
  for (const [name, rule, want] of cases) assert.deepEqual(httpOf(route('HTTPRoute', { rules: [rule] }))[0]!.action, want, name);
});

test('filters: header modifiers, redirect (302 default), URL rewrite, mirror percent and fraction', () => {
  type Case = [string, object, Partial<HttpRoute>];
  const b = { backendRefs: [be()] };
  const fwd: HttpRoute['action'] = { kind: 'forward', backends: [{ service: K(v1), port: 9080, weight: 1 }] };
  const cases: Case[] = [
    ['request and response headers', { ...b, filters: [
      { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-A', value: '1' }, { name: 'x-a', value: 'ignored' }], add: [{ name: 'x-b', value: '2' }], remove: ['X-C'] } },
      { type: 'ResponseHeaderModifier', responseHeaderModifier: { set: [{ name: 'x-d', value: '4' }] } },
    ] }, { action: fwd, requestHeaders: { set: { 'x-a': '1' }, add: { 'x-b': '2' }, remove: ['x-c'] }, responseHeaders: { set: { 'x-d': '4' } } } as Partial<HttpRoute>],
    ['redirect defaults', { filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https' } }] }, { action: { kind: 'redirect', redirect: { scheme: 'https', status: 302 } } }],
    ['redirect everything', { filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'http', hostname: 'example.com', port: 8080, statusCode: 301, path: { type: 'ReplaceFullPath', replaceFullPath: '/new' } } }] },
      { action: { kind: 'redirect', redirect: { scheme: 'http', host: 'example.com', port: 8080, path: { full: '/new' }, status: 301 } } }],
    ['redirect prefix', { matches: [{ path: { value: '/old' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/new' } } }] },
      { action: { kind: 'redirect', redirect: { path: { prefix: '/new' }, status: 302 } } }],
    ['rewrite prefix and host', { ...b, matches: [{ path: { value: '/api' } }], filters: [{ type: 'URLRewrite', urlRewrite: { hostname: 'backend.internal', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } }] },
      { action: fwd, rewrite: { path: { prefix: '/' }, authority: 'backend.internal' } }],
    ['rewrite full path (no matches: the default PathPrefix)', { ...b, filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplaceFullPath', replaceFullPath: '/x' } } }] },
      { action: fwd, rewrite: { path: { full: '/x' } } }],
    ['mirrors', { ...b, filters: [
      { type: 'RequestMirror', requestMirror: { backendRef: { name: 'shadow', port: 80 } } },
      { type: 'RequestMirror', requestMirror: { backendRef: { name: 'reviews-v2', port: 9080 }, percent: 25 } },
      { type: 'RequestMirror', requestMirror: { backendRef: { name: 'reviews-v2', port: 9080 }, fraction: { numerator: 1, denominator: 8 } } },
      { type: 'RequestMirror', requestMirror: { backendRef: { name: 'reviews-v2', port: 9080 }, fraction: { numerator: 5 } } },
    ] }, { action: fwd, mirrors: [
      { backend: { service: K(shadow), port: 80 }, percent: 100 },
      { backend: { service: K(v2), port: 9080 }, percent: 25 },
      { backend: { service: K(v2), port: 9080 }, percent: 12.5 },
      { backend: { service: K(v2), port: 9080 }, percent: 5 },
    ] }],
  ];
  for (const [name, rule, want] of cases) {
    const r = httpOf(route('HTTPRoute', { rules: [rule] }))[0]!;
    const got = Object.fromEntries(Object.keys(want).map((k) => [k, r[k as keyof HttpRoute]]));
    assert.deepEqual(got, want, name);
  }
});

test('timeouts and retry (GEP-1731)', () => {
  const meshDefault = { attempts: 2, retryOn: ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes'], retriableStatusCodes: [503] };
  const base = ['connect-failure', 'refused-stream', 'unavailable', 'cancelled'];
  const cases: Array<[string, object, Pick<HttpRoute, 'timeoutMs' | 'retries'>]> = [
    ['request timeout', { timeouts: { request: '500ms' } }, { timeoutMs: 500, retries: undefined }],
    ['request 0s: no timeout', { timeouts: { request: '0s' } }, { timeoutMs: undefined, retries: undefined }],
    ['backendRequest alone: per try, on the mesh default retry', { timeouts: { backendRequest: '1s' } }, { timeoutMs: undefined, retries: { ...meshDefault, perTryTimeoutMs: 1000 } }],
    ['both', { timeouts: { request: '10s', backendRequest: '2s' } }, { timeoutMs: 10_000, retries: { ...meshDefault, perTryTimeoutMs: 2000 } }],
    ['retry defaults: 2 attempts on connection errors', { retry: {} }, { timeoutMs: undefined, retries: { attempts: 2, retryOn: base } }],
    ['retry codes and backoff', { retry: { attempts: 3, codes: [500, 503, 503], backoff: '100ms' }, timeouts: { backendRequest: '250ms' } },
      { timeoutMs: undefined, retries: { attempts: 3, retryOn: [...base, 'retriable-status-codes'], retriableStatusCodes: [500, 503], backoffMs: 100, perTryTimeoutMs: 250 } }],
    ['retry attempts 0', { retry: { attempts: 0, codes: [503] } }, { timeoutMs: undefined, retries: { attempts: 0, retryOn: [] } }],
  ];
  for (const [name, extra, want] of cases) {
    const r = httpOf(route('HTTPRoute', { rules: [{ backendRefs: [be()], ...extra }] }))[0]!;
    assert.deepEqual({ timeoutMs: r.timeoutMs, retries: r.retries }, want, name);
  }
});

test('GRPCRoute: method matches become :path matches; the port becomes GRPC; invalid backends → 503', () => {
  const cases: Array<[string, object, HttpRoute['matches']]> = [
    ['service and method', { method: { service: 'helloworld.Greeter', method: 'SayHello' } }, [{ path: { exact: '/helloworld.Greeter/SayHello' }, grpc: { service: 'helloworld.Greeter', method: 'SayHello' } }]],
    ['service only', { method: { service: 'helloworld.Greeter' } }, [{ path: { prefix: '/helloworld.Greeter/' }, grpc: { service: 'helloworld.Greeter' } }]],
    ['method only', { method: { method: 'SayHello' } }, [{ path: { regex: '/[^/]+/SayHello' }, grpc: { method: 'SayHello' } }]],
    ['regex both', { method: { type: 'RegularExpression', service: 'helloworld\\..*', method: 'Say.*' } }, [{ path: { regex: '/helloworld\\..*/Say.*' }, grpc: { service: 'helloworld\\..*', method: 'Say.*' } }]],
    ['regex service', { method: { type: 'RegularExpression', service: 'pkg\\.S' } }, [{ path: { regex: '/pkg\\.S/.+' }, grpc: { service: 'pkg\\.S' } }]],
    ['headers only', { headers: [{ name: 'x-tenant', value: 'a' }] }, [{ headers: [{ name: 'x-tenant', value: { exact: 'a' } }] }]],
  ];
  for (const [name, match, want] of cases) {
    assert.deepEqual(httpOf(route('GRPCRoute', { rules: [{ matches: [match], backendRefs: [be()] }] }))[0]!.matches, want, name);
  }
  const c = compile(route('GRPCRoute', { rules: [{ backendRefs: [be('nosuch')] }, { backendRefs: [be()] }] }));
  assert.deepEqual(c.services[0]!.http.map((r) => [r.matches, r.action.kind, r.action.kind === 'respond' ? r.action.status : undefined]), [
    [[{}], 'respond', 503],
    [[{}], 'forward', undefined],
  ]);
  assert.deepEqual(c.services[0]!.ports, [{ port: 9080, protocol: 'GRPC' }, { port: 9443, protocol: 'GRPC' }]);
  // Only the port it attaches to; HTTP2/GRPC ports stay as they are.
  const h2 = svc('default', 'reviews', [{ port: 9080, name: 'http' }, { port: 9443, appProtocol: 'kubernetes.io/h2c' }, { port: 7000, name: 'tcp' }]);
  const ports = (parentRefs: object[]) => compileRoutes(inputs({ bound: [h2], all: [h2, v1], objects: [obj('GRPCRoute', 'default', 'g', { parentRefs, rules: [{ backendRefs: [be()] }] })] })).services[0]!.ports;
  assert.deepEqual(ports([{ ...parent, port: 7000 }]), [{ port: 9080, protocol: 'HTTP' }, { port: 9443, protocol: 'HTTP2' }, { port: 7000, protocol: 'GRPC' }]);
  assert.deepEqual(ports([parent]), [{ port: 9080, protocol: 'GRPC' }, { port: 9443, protocol: 'HTTP2' }, { port: 7000, protocol: 'GRPC' }]);
});

test('HTTPRoute and GRPCRoute on one service are ordered together', () => {
  const http = httpOf(
    route('GRPCRoute', { rules: [{ matches: [{ method: { service: 'a.B', method: 'C' } }], backendRefs: [be()] }] }, 'g', '2024-02-01T00:00:00Z'),
    route('HTTPRoute', { rules: [{ matches: [{ path: { value: '/x' } }], backendRefs: [be()] }] }, 'h', '2024-01-01T00:00:00Z'),
  );
  assert.deepEqual(http.map((r) => r.id), ['GRPCRoute/default/g#0', 'HTTPRoute/default/h#0']);
});

test('TCPRoute: the first rule\'s backends, the parent port; weight 0 dropped', () => {
  const c = compile(
    route('TCPRoute', { parentRefs: [{ ...parent, port: 9443 }], rules: [{ backendRefs: [be('reviews-v1', { weight: 3 }), be('reviews-v2', { weight: 0 })] }, { backendRefs: [be('shadow', { port: 80 })] }] }, 'a', '2024-01-01T00:00:00Z'),
    route('TCPRoute', { rules: [{ backendRefs: [be('reviews-v2')] }] }, 'b', '2024-01-02T00:00:00Z'),
  );
  const source = (name: string) => ({ kind: 'TCPRoute', namespace: 'default', name });
  assert.deepEqual(c.services[0]!.tcp, [
    { id: 'TCPRoute/default/a#0', source: source('a'), port: 9443, backends: [{ service: K(v1), port: 9080, weight: 3 }] },
    { id: 'TCPRoute/default/b#0', source: source('b'), backends: [{ service: K(v2), port: 9080, weight: 1 }] },
  ]);
  assert.deepEqual(c.services[0]!.http, []);
});

test('references: a missing Service keeps its share (BackendNotFound); all missing → 500; a missing mirror is dropped', () => {
  const c = compile(route('HTTPRoute', { rules: [
    { backendRefs: [be('reviews-v1', { weight: 9 }), be('reviews-v9', { weight: 1 })] },
    { matches: [{ path: { value: '/gone' } }], backendRefs: [be('gone')], filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'nomirror', port: 1 } } }] },
  ] }));
  assert.deepEqual(c.services[0]!.http.map((r) => [r.id, r.action, r.mirrors]), [
    ['HTTPRoute/default/r#1', { kind: 'respond', status: 500 }, undefined],
    ['HTTPRoute/default/r#0', { kind: 'forward', backends: [{ service: K(v1), port: 9080, weight: 9 }, { service: 'default/reviews-v9.default.svc.cluster.local', port: 9080, weight: 1, invalidStatus: 500 }] }, undefined],
  ]);
  assert.equal(c.verdicts.length, 1);
  assert.deepEqual({ ...c.verdicts[0] }, {
    kind: 'HTTPRoute', namespace: 'default', name: 'r', generation: 1, accepted: false, reason: 'BackendNotFound',
    message: 'spec.rules[1].backendRefs[0]: Service default/gone not found; spec.rules[1].filters[0].requestMirror.backendRef: Service default/nomirror not found; the mirror is not applied; spec.rules[0].backendRefs[1]: Service default/reviews-v9 not found',
  });
  // Referenced services get their DestinationRule even when not bound; unknown ones do not.
  const dr = (host: string) => obj('DestinationRule', 'default', host, { host, trafficPolicy: { loadBalancer: { simple: 'RANDOM' } } });
  const d = compileRoutes(inputs({ bound: [reviews], all, objects: [route('HTTPRoute', { rules: [{ backendRefs: [be('reviews-v1')] }] }), dr('reviews-v1'), dr('reviews-v2'), dr('reviews')] }));
  assert.deepEqual(d.destinations.map((p) => p.service), [K(v1), K(reviews)]);
});

test('references: a Service in another namespace needs a ReferenceGrant there (RefNotPermitted); a grant resolves it', () => {
  const cartRef = (extra: object = {}) => ({ name: 'cart', namespace: 'shop', port: 9080, ...extra });
  const mirror = { type: 'RequestMirror', requestMirror: { backendRef: cartRef() } };
  const r = route('HTTPRoute', { rules: [
    { backendRefs: [be('reviews-v1', { weight: 9 }), cartRef({ weight: 1 })], filters: [mirror] },
    { matches: [{ path: { value: '/shop' } }], backendRefs: [cartRef()] },
  ] });
  const grant = (from: object, to: object = { group: '', kind: 'Service' }, namespace = 'shop') => obj('ReferenceGrant', namespace, 'g', {
    from: [{ group: 'gateway.networking.k8s.io', namespace: 'default', ...from }], to: [to],
  });
  const dr = obj('DestinationRule', 'shop', 'cart', { host: 'cart', trafficPolicy: { loadBalancer: { simple: 'RANDOM' } } });
  const run = (...extra: ReturnType<typeof obj>[]) => compileRoutes(inputs({ bound: [reviews], all, objects: [r, dr, ...extra] }));
  const denied = 'shop/cart.shop.ref-not-permitted.invalid';

  // No grant (or grants for another kind, namespace, Service): the share of the denied backend fails, a rule whose
  // every backend is denied answers 500, the mirror is dropped, and the Service's policy is not compiled.
  for (const [name, extra] of [
    ['no grant', []],
    ['grant for GRPCRoute', [grant({ kind: 'GRPCRoute' })]],
    ['grant naming another Service', [grant({ kind: 'HTTPRoute' }, { group: '', kind: 'Service', name: 'orders' })]],
    ['grant in the route\'s namespace', [grant({ kind: 'HTTPRoute' }, undefined, 'default')]],
  ] as Array<[string, ReturnType<typeof obj>[]]>) {
    const c = run(...extra);
    assert.deepEqual(c.services[0]!.http.map((h) => [h.id, h.action, h.mirrors]), [
      ['HTTPRoute/default/r#1', { kind: 'respond', status: 500 }, undefined],
      ['HTTPRoute/default/r#0', { kind: 'forward', backends: [{ service: K(v1), port: 9080, weight: 9 }, { service: denied, port: 9080, weight: 1, invalidStatus: 500 }] }, undefined],
    ], name);
    assert.deepEqual(c.verdicts.map((v) => ({ ...v })), [{
      kind: 'HTTPRoute', namespace: 'default', name: 'r', generation: 1, accepted: false, reason: 'RefNotPermitted',
      message: 'spec.rules[1].backendRefs[0]: Service shop/cart is not permitted by any ReferenceGrant in namespace shop; '
        + 'spec.rules[0].backendRefs[1]: Service shop/cart is not permitted by any ReferenceGrant in namespace shop; '
        + 'spec.rules[0].filters[0].requestMirror.backendRef: Service shop/cart is not permitted by any ReferenceGrant in namespace shop; the mirror is not applied',
    }], name);
    assert.deepEqual(c.destinations.map((d) => d.service), [], name);
  }

  // A grant for HTTPRoutes from `default` to Services in `shop` (all of them, or `cart` by name).
  for (const to of [{ group: '', kind: 'Service' }, { group: '', kind: 'Service', name: 'cart' }]) {
    const c = run(grant({ kind: 'HTTPRoute' }, to));
    assert.deepEqual(c.services[0]!.http.map((h) => [h.id, h.action, h.mirrors]), [
      ['HTTPRoute/default/r#1', { kind: 'forward', backends: [{ service: K(cart), port: 9080, weight: 1 }] }, undefined],
      ['HTTPRoute/default/r#0', { kind: 'forward', backends: [{ service: K(v1), port: 9080, weight: 9 }, { service: K(cart), port: 9080, weight: 1 }] },
        [{ backend: { service: K(cart), port: 9080 }, percent: 100 }]],
    ]);
    assert.deepEqual(c.verdicts, []);
    assert.deepEqual(c.destinations.map((d) => d.service), [K(cart)]);
  }
});

test('references: RefNotPermitted for GRPCRoute (503) and TCPRoute, outweighing BackendNotFound; VirtualService needs no grant', () => {
  const cartRef = { name: 'cart', namespace: 'shop', port: 9080 };
  const c = compile(
    route('GRPCRoute', { rules: [{ backendRefs: [cartRef] }] }, 'g'),
    route('TCPRoute', { rules: [{ backendRefs: [be('gone'), cartRef] }] }, 't'),
  );
  assert.deepEqual(c.services[0]!.http.map((h) => h.action), [{ kind: 'respond', status: 503 }]);
  assert.deepEqual(c.services[0]!.tcp.map((t) => t.backends.map((b) => b.service)), [['default/gone.default.svc.cluster.local', 'shop/cart.shop.ref-not-permitted.invalid']]);
  assert.deepEqual(c.verdicts.map((v) => [v.kind, v.name, v.reason, v.message]), [
    ['GRPCRoute', 'g', 'RefNotPermitted', 'spec.rules[0].backendRefs[0]: Service shop/cart is not permitted by any ReferenceGrant in namespace shop'],
    ['TCPRoute', 't', 'RefNotPermitted', 'spec.rules[0].backendRefs[0]: Service default/gone not found; spec.rules[0].backendRefs[1]: Service shop/cart is not permitted by any ReferenceGrant in namespace shop'],
  ]);

  const vs = obj('VirtualService', 'default', 'vs', { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'cart.shop.svc.cluster.local', port: { number: 9080 } } }] }] });
  const v = compileRoutes(inputs({ bound: [reviews], all, objects: [vs] }));
  assert.deepEqual(v.services[0]!.http.map((h) => h.action), [{ kind: 'forward', backends: [{ service: K(cart), port: 9080, weight: 100 }] }]);
  assert.deepEqual(v.verdicts, []);
});
