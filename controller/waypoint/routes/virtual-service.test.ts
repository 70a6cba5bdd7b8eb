// Table tests for compiling VirtualServices: attachment through hosts, each http rule field into the config's
// shape, tcp rules, ordering across objects, and reference verdicts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HttpRoute } from '../../../shared/waypoint/config.ts';
import { compileRoutes } from './index.ts';
import { inputs, obj, pod, svc } from './testing.ts';

const reviews = svc('default', 'reviews');
const ratings = svc('default', 'ratings');
const other = svc('shop', 'cart', [{ port: 8080, name: 'http-web' }, { port: 9090, name: 'grpc' }, { port: 5432 }]);
const all = [reviews, ratings, other];
const R = 'default/reviews.default.svc.cluster.local';
const src = (name = 'r', namespace = 'default') => ({ kind: 'VirtualService' as const, namespace, name });

function vsObj(spec: object, name = 'r', created?: string, namespace = 'default') {
  return obj('VirtualService', namespace, name, { hosts: ['reviews'], ...spec }, created);
}

/** The http routes compiled for `reviews` from these VirtualServices. */
function httpOf(...objects: ReturnType<typeof vsObj>[]): HttpRoute[] {
  return compileRoutes(inputs({ bound: [reviews], all, objects })).services[0]!.http;
}

const fwd = (service = R, extra: object = {}): HttpRoute['action'] => ({ kind: 'forward', backends: [{ service, weight: 100, ...extra }] });

test('every bound service gets a listener with its ports, also without routes', () => {
  const c = compileRoutes(inputs({ bound: [other, reviews], all }));
  assert.deepEqual(c.services, [
    { service: R, ports: [{ port: 9080, protocol: 'HTTP' }], http: [], tcp: [] },
    { service: 'shop/cart.shop.svc.cluster.local', ports: [{ port: 8080, protocol: 'HTTP' }, { port: 9090, protocol: 'GRPC' }, { port: 5432, protocol: 'AUTO' }], http: [], tcp: [] },
  ]);
  assert.deepEqual(c.destinations, []);
  assert.deepEqual(c.verdicts, []);
});

test('hosts: short names relative to the VirtualService namespace, FQDNs as is, wildcards and other gateways skipped', () => {
  const route = { http: [{ route: [{ destination: { host: 'reviews' } }] }] };
  const cases: Array<[string, ReturnType<typeof vsObj>, boolean]> = [
    ['short name', vsObj(route), true],
    ['FQDN', vsObj({ ...route, hosts: ['reviews.default.svc.cluster.local'] }), true],
    ['short name from another namespace', vsObj(route, 'r', undefined, 'shop'), false],
    ['FQDN from another namespace', vsObj({ ...route, hosts: ['reviews.default.svc.cluster.local'] }, 'r', undefined, 'shop'), true],
    ['name.namespace is not expanded (Istio)', vsObj({ ...route, hosts: ['reviews.default'] }), false],
    ['wildcard', vsObj({ ...route, hosts: ['*'] }), false],
    ['wildcard domain', vsObj({ ...route, hosts: ['*.default.svc.cluster.local'] }), false],
    ['for a gateway only', vsObj({ ...route, gateways: ['istio-system/ingress'] }), false],
    ['for a gateway and the mesh', vsObj({ ...route, gateways: ['istio-system/ingress', 'mesh'] }), true],
  ];
  for (const [name, o, attached] of cases) assert.equal(httpOf(o).length, attached ? 1 : 0, name);
});

test('matches: uri, headers, withoutHeaders, queryParams, method, port, ignoreUriCase; gateway-only matches dropped', () => {
  const cases: Array<[string, unknown[], HttpRoute['matches'] | 'dropped']> = [
    ['none', [], []],
    ['uri exact/prefix/regex', [{ uri: { exact: '/a' } }, { uri: { prefix: '/b' } }, { uri: { regex: '/c/[0-9]+' } }], [{ path: { exact: '/a' } }, { path: { prefix: '/b' } }, { path: { regex: '/c/[0-9]+' } }]],
    ['headers (names lower-cased; {} is presence)', [{ headers: { 'End-User': { exact: 'jason' }, 'x-any': {}, 'x-p': { prefix: 'ab' }, 'x-r': { regex: '(?i)v1' } } }],
      [{ headers: [{ name: 'end-user', value: { exact: 'jason' } }, { name: 'x-any' }, { name: 'x-p', value: { prefix: 'ab' } }, { name: 'x-r', value: { regex: '(?i:v1)' } }] }]],
    ['withoutHeaders', [{ withoutHeaders: { 'x-canary': { exact: 'true' } } }], [{ headers: [{ name: 'x-canary', value: { exact: 'true' }, invert: true }] }]],
    ['queryParams, method, port', [{ queryParams: { v: { exact: '2' }, debug: {} }, method: { exact: 'POST' }, port: 9080 }],
      [{ query: [{ name: 'v', value: { exact: '2' } }, { name: 'debug' }], method: { exact: 'POST' }, port: 9080 }]],
    ['ignoreUriCase', [{ uri: { exact: '/A.b' }, ignoreUriCase: true }, { uri: { prefix: '/api' }, ignoreUriCase: true }],
      [{ path: { regex: '(?i:/A\\.b)' } }, { path: { regex: '(?i:/api).*' } }]],
    ['match-level gateways: the mesh part kept', [{ uri: { prefix: '/a' }, gateways: ['ingress'] }, { uri: { prefix: '/b' }, gateways: ['mesh'] }, { uri: { prefix: '/c' } }],
      [{ path: { prefix: '/b' } }, { path: { prefix: '/c' } }]],
    ['authority and scheme: pseudo-header matches', [{ authority: { prefix: 'reviews' }, scheme: { exact: 'http' } }],
      [{ headers: [{ name: ':authority', value: { prefix: 'reviews' } }, { name: ':scheme', value: { exact: 'http' } }] }]],
    ['sourceNamespace', [{ sourceNamespace: 'shop' }], [{ source: { namespaces: ['shop'] } }]],
    ['sourceLabels: no pod carries them, so nobody matches', [{ sourceLabels: { app: 'nobody' } }], [{ source: { workloads: [] } }]],
    ['every match for other gateways: rule dropped, not a catch-all', [{ uri: { prefix: '/a' }, gateways: ['ingress'] }], 'dropped'],
  ];
  for (const [name, match, want] of cases) {
    const http = httpOf(vsObj({ http: [{ match, route: [{ destination: { host: 'reviews' } }] }] }));
    if (want === 'dropped') assert.deepEqual(http, [], name);
    else assert.deepEqual(http[0]?.matches, want, name);
  }
});

test('sourceLabels: the workloads carrying every label, within sourceNamespace when given', () => {
  const workloads = [
    pod('uid-a', 'default', { app: 'productpage', version: 'v1' }, []),
    pod('uid-b', 'shop', { app: 'productpage', version: 'v2' }, []),
    pod('uid-c', 'default', { app: 'ratings' }, []),
  ];
  const http = (match: object[]) => compileRoutes(inputs({ bound: [reviews], all, workloads, objects: [vsObj({ http: [{ match, route: [{ destination: { host: 'reviews' } }] }] })] })).services[0]!.http[0]!.matches;
  assert.deepEqual(http([{ sourceLabels: { app: 'productpage' } }]), [{ source: { workloads: ['uid-a', 'uid-b'] } }], 'any namespace');
  assert.deepEqual(http([{ sourceLabels: { app: 'productpage', version: 'v2' } }]), [{ source: { workloads: ['uid-b'] } }], 'every label');
  assert.deepEqual(http([{ sourceLabels: { app: 'productpage' }, sourceNamespace: 'default' }]), [{ source: { namespaces: ['default'], workloads: ['uid-a'] } }], 'with sourceNamespace');
});

test('route destinations: one gets everything, several share by relative weight (unset = 0), headers per destination', () => {
  const http = httpOf(vsObj({
    http: [
      { route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 30 }] },
      { route: [
        { destination: { host: 'reviews', port: { number: 9080 } }, weight: 3, headers: { request: { set: { 'X-Version': 'a' } }, response: { remove: ['Server'] } } },
        { destination: { host: 'ratings.default.svc.cluster.local' }, weight: 1 },
        { destination: { host: 'ratings' } },
      ] },
    ],
  }));
  assert.deepEqual(http.map((r) => r.action), [
    { kind: 'forward', backends: [{ service: R, subset: 'v1', weight: 100 }] },
    { kind: 'forward', backends: [
      { service: R, port: 9080, weight: 3, requestHeaders: { set: { 'x-version': 'a' } }, responseHeaders: { remove: ['server'] } },
      { service: 'default/ratings.default.svc.cluster.local', weight: 1 },
      { service: 'default/ratings.default.svc.cluster.local', weight: 0 },
    ] },
  ]);
  assert.deepEqual(http.map((r) => r.id), ['VirtualService/default/r#0', 'VirtualService/default/r#1']);
  assert.deepEqual(http[0]!.source, src());
});

test('route-level headers, redirect, directResponse, rewrite', () => {
  type Case = [string, object, Partial<HttpRoute>];
  const cases: Case[] = [
    ['headers', { route: [{ destination: { host: 'reviews' } }], headers: { request: { set: { 'x-a': '1' }, add: { 'x-b': '2' }, remove: ['x-c'] }, response: { add: { 'x-d': '4' } } } },
      { action: fwd(), requestHeaders: { set: { 'x-a': '1' }, add: { 'x-b': '2' }, remove: ['x-c'] }, responseHeaders: { add: { 'x-d': '4' } } } as Partial<HttpRoute>],
    ['redirect: default 301, uri is the full path', { redirect: { uri: '/v1/bookRatings' } }, { action: { kind: 'redirect', redirect: { path: { full: '/v1/bookRatings' }, status: 301 } } }],
    ['redirect: authority drops the port (Envoy)', { redirect: { authority: 'newratings.default.svc.cluster.local' } }, { action: { kind: 'redirect', redirect: { host: 'newratings.default.svc.cluster.local', port: 80, status: 301 } } }],
    ['redirect: https scheme, authority, code', { redirect: { scheme: 'https', authority: 'x.example.com', redirectCode: 308 } }, { action: { kind: 'redirect', redirect: { scheme: 'https', host: 'x.example.com', port: 443, status: 308 } } }],
    ['redirect: explicit port', { redirect: { uri: '/x', port: 8443 } }, { action: { kind: 'redirect', redirect: { port: 8443, path: { full: '/x' }, status: 301 } } }],
    ['redirect: FROM_REQUEST_PORT keeps it', { redirect: { authority: 'x', derivePort: 'FROM_REQUEST_PORT' } }, { action: { kind: 'redirect', redirect: { host: 'x', status: 301 } } }],
    ['redirect: FROM_PROTOCOL_DEFAULT', { redirect: { scheme: 'https', derivePort: 'FROM_PROTOCOL_DEFAULT' } }, { action: { kind: 'redirect', redirect: { scheme: 'https', port: 443, status: 301 } } }],
    ['directResponse string', { directResponse: { status: 503, body: { string: 'unknown path' } } }, { action: { kind: 'respond', status: 503, body: 'unknown path' } }],
    ['directResponse bytes', { directResponse: { status: 200, body: { bytes: Buffer.from('{"ok":true}').toString('base64') } } }, { action: { kind: 'respond', status: 200, body: '{"ok":true}' } }],
    ['directResponse without body', { directResponse: { status: 404 } }, { action: { kind: 'respond', status: 404 } }],
    ['rewrite after a prefix match: prefix', { match: [{ uri: { prefix: '/ratings' } }], rewrite: { uri: '/v1/bookRatings', authority: 'ratings.internal' }, route: [{ destination: { host: 'reviews' } }] },
      { action: fwd(), rewrite: { path: { prefix: '/v1/bookRatings' }, authority: 'ratings.internal' } }],
    ['rewrite after exact matches: full path', { match: [{ uri: { exact: '/a' } }, { uri: { exact: '/b' } }], rewrite: { uri: '/c' }, route: [{ destination: { host: 'reviews' } }] },
      { action: fwd(), rewrite: { path: { full: '/c' } } }],
    ['uriRegexRewrite', { rewrite: { uriRegexRewrite: { match: '^/service/([^/]+)(/.*)$', rewrite: '\\2/instance/\\1' } }, route: [{ destination: { host: 'reviews' } }] },
      { action: fwd(), rewrite: { path: { regex: '^/service/([^/]+)(/.*)$', substitution: '\\2/instance/\\1' } } }],
  ];
  for (const [name, rule, want] of cases) {
    const r = httpOf(vsObj({ http: [rule] }))[0]!;
    const got = Object.fromEntries(Object.keys(want).map((k) => [k, r[k as keyof HttpRoute]]));
    assert.deepEqual(got, want, name);
  }
});

test('fault, retries, timeout', () => {
  type Case = [string, object, Partial<HttpRoute>];
  const route = { route: [{ destination: { host: 'reviews' } }] };
  const cases: Case[] = [
    ['delay with percentage', { fault: { delay: { fixedDelay: '5s', percentage: { value: 0.1 } } } }, { fault: { delay: { ms: 5000, percent: 0.1 } } }],
    ['delay with legacy percent', { fault: { delay: { fixedDelay: '2s', percent: 100 } } }, { fault: { delay: { ms: 2000, percent: 100 } } }],
    ['delay without percentage: none delayed', { fault: { delay: { fixedDelay: '1s' } } }, { fault: { delay: { ms: 1000, percent: 0 } } }],
    ['abort http', { fault: { abort: { httpStatus: 503, percentage: { value: 50 } } } }, { fault: { abort: { httpStatus: 503, percent: 50 } } }],
    ['abort grpc by name', { fault: { abort: { grpcStatus: 'UNAVAILABLE', percentage: { value: 100 } } } }, { fault: { abort: { grpcStatus: 14, percent: 100 } } }],
    ['retries: retryOn replaces the defaults, codes split out', { retries: { attempts: 3, perTryTimeout: '2s', retryOn: 'gateway-error, 409,connect-failure,503' } },
      { retries: { attempts: 3, perTryTimeoutMs: 2000, retryOn: ['gateway-error', 'connect-failure', 'retriable-status-codes'], retriableStatusCodes: [409, 503] } }],
    ['retries: no retryOn keeps Istio\'s default conditions', { retries: { attempts: 4, backoff: '100ms' } },
      { retries: { attempts: 4, retryOn: ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes'], retriableStatusCodes: [503], backoffMs: 100 } }],
    ['retries: explicit retriable-status-codes not doubled', { retries: { attempts: 1, retryOn: 'retriable-status-codes,502' } },
      { retries: { attempts: 1, retryOn: ['retriable-status-codes'], retriableStatusCodes: [502] } }],
    ['retries: attempts 0 disables', { retries: { attempts: 0 } }, { retries: { attempts: 0, retryOn: [] } }],
    ['no retries: the mesh default (absent)', {}, { retries: undefined }],
    ['timeout', { timeout: '1.5s' }, { timeoutMs: 1500 }],
    ['timeout 0s disables', { timeout: '0s' }, { timeoutMs: undefined }],
  ];
  for (const [name, extra, want] of cases) {
    const r = httpOf(vsObj({ http: [{ ...route, ...extra }] }))[0]!;
    const got = Object.fromEntries(Object.keys(want).map((k) => [k, r[k as keyof HttpRoute]]));
    assert.deepEqual(got, want, name);
  }
});

test('mirrors: mirror + mirrorPercentage (default 100), legacy mirrorPercent, mirrors[]', () => {
  const route = { route: [{ destination: { host: 'reviews' } }] };
  const cases: Array<[string, object, HttpRoute['mirrors']]> = [
    ['mirror, default 100%', { mirror: { host: 'ratings' } }, [{ backend: { service: 'default/ratings.default.svc.cluster.local' }, percent: 100 }]],
    ['mirrorPercentage', { mirror: { host: 'ratings', port: { number: 9080 } }, mirrorPercentage: { value: 12.5 } }, [{ backend: { service: 'default/ratings.default.svc.cluster.local', port: 9080 }, percent: 12.5 }]],
    ['mirrorPercent (deprecated)', { mirror: { host: 'ratings' }, mirrorPercent: 20 }, [{ backend: { service: 'default/ratings.default.svc.cluster.local' }, percent: 20 }]],
    ['mirrors', { mirrors: [{ destination: { host: 'ratings' }, percentage: { value: 5 } }, { destination: { host: 'cart.shop.svc.cluster.local' } }] },
      [{ backend: { service: 'default/ratings.default.svc.cluster.local' }, percent: 5 }, { backend: { service: 'shop/cart.shop.svc.cluster.local' }, percent: 100 }]],
  ];
  for (const [name, extra, want] of cases) assert.deepEqual(httpOf(vsObj({ http: [{ ...route, ...extra }] }))[0]!.mirrors, want, name);
});

test('tcp rules: one TcpRoute per matched port, any port without a port match', () => {
  const c = compileRoutes(inputs({ bound: [reviews], all, objects: [vsObj({
    tcp: [
      { match: [{ port: 9080 }, { port: 9081 }], route: [{ destination: { host: 'ratings', port: { number: 3306 } } }] },
      { match: [{ port: 1, gateways: ['ingress'] }], route: [{ destination: { host: 'ratings' } }] },
      { route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 80 }, { destination: { host: 'reviews', subset: 'v2' }, weight: 20 }] },
    ],
  })] }));
  const ratingsKey = 'default/ratings.default.svc.cluster.local';
  assert.deepEqual(c.services[0]!.tcp, [
    { id: 'VirtualService/default/r#0', source: src(), port: 9080, backends: [{ service: ratingsKey, port: 3306, weight: 100 }] },
    { id: 'VirtualService/default/r#0', source: src(), port: 9081, backends: [{ service: ratingsKey, port: 3306, weight: 100 }] },
    { id: 'VirtualService/default/r#2', source: src(), backends: [{ service: R, subset: 'v1', weight: 80 }, { service: R, subset: 'v2', weight: 20 }] },
  ]);
  assert.deepEqual(c.services[0]!.http, []);
});

test('several VirtualServices for one host: oldest first, then by name; rules in order', () => {
  const rule = (p: string) => ({ match: [{ uri: { prefix: p } }], route: [{ destination: { host: 'reviews' } }] });
  const http = httpOf(
    vsObj({ http: [rule('/new')] }, 'a-new', '2024-05-01T00:00:00Z'),
    vsObj({ http: [rule('/old-1'), rule('/old-2')] }, 'z-old', '2024-01-01T00:00:00Z'),
    vsObj({ http: [rule('/tie-b')] }, 'b', '2024-03-01T00:00:00Z'),
    vsObj({ http: [rule('/tie-a')] }, 'a', '2024-03-01T00:00:00Z'),
  );
  assert.deepEqual(http.map((r) => r.matches[0]!.path), [{ prefix: '/old-1' }, { prefix: '/old-2' }, { prefix: '/tie-a' }, { prefix: '/tie-b' }, { prefix: '/new' }]);
  assert.deepEqual(http.map((r) => r.id), ['VirtualService/default/z-old#0', 'VirtualService/default/z-old#1', 'VirtualService/default/a#0', 'VirtualService/default/b#0', 'VirtualService/default/a-new#0']);
});

test('references: unknown hosts and subsets give BackendNotFound naming the field; the route stays', () => {
  const c = compileRoutes(inputs({ bound: [reviews], all, objects: [
    vsObj({ http: [{ route: [{ destination: { host: 'reviews', subset: 'v9' }, weight: 90 }, { destination: { host: 'nosuch' }, weight: 10 }], mirror: { host: 'ghost.example.com' } }] }),
    obj('DestinationRule', 'default', 'reviews', { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }] }),
  ] }));
  assert.deepEqual(c.services[0]!.http[0]!.action, { kind: 'forward', backends: [
    { service: R, subset: 'v9', weight: 90 },
    { service: 'default/nosuch.default.svc.cluster.local', weight: 10 },
  ] });
  assert.equal(c.services[0]!.http[0]!.mirrors, undefined);
  assert.equal(c.verdicts.length, 1);
  const v = c.verdicts[0]!;
  assert.deepEqual([v.kind, v.namespace, v.name, v.accepted, v.reason], ['VirtualService', 'default', 'r', false, 'BackendNotFound']);
  assert.equal(v.message, [
    'spec.http[0].route[0].destination.subset: no DestinationRule for reviews.default.svc.cluster.local defines subset "v9"; requests routed to it fail with 503',
    'spec.http[0].route[1].destination.host: service host nosuch.default.svc.cluster.local not found',
    'spec.http[0].mirror.host: service host ghost.example.com not found; the mirror is not applied',
  ].join('; '));
});

test('Gateway API routes win over VirtualServices for the same service (http and tcp separately)', () => {
  const vs = vsObj({ http: [{ route: [{ destination: { host: 'ratings' } }] }], tcp: [{ route: [{ destination: { host: 'ratings' } }] }] });
  const parent = { parentRefs: [{ group: '', kind: 'Service', name: 'reviews' }] };
  const httpRoute = obj('HTTPRoute', 'default', 'h', { ...parent, rules: [{ backendRefs: [{ name: 'reviews', port: 9080 }] }] });
  const tcpRoute = obj('TCPRoute', 'default', 't', { ...parent, rules: [{ backendRefs: [{ name: 'reviews', port: 9080 }] }] });
  const kinds = (objects: ReturnType<typeof obj>[]) => {
    const l = compileRoutes(inputs({ bound: [reviews], all, objects })).services[0]!;
    return [l.http.map((r) => r.source.kind), l.tcp.map((r) => r.source.kind)];
  };
  assert.deepEqual(kinds([vs]), [['VirtualService'], ['VirtualService']]);
  assert.deepEqual(kinds([vs, httpRoute]), [['HTTPRoute'], ['VirtualService']]);
  assert.deepEqual(kinds([vs, tcpRoute]), [['VirtualService'], ['TCPRoute']]);
  assert.deepEqual(kinds([vs, httpRoute, tcpRoute]), [['HTTPRoute'], ['TCPRoute']]);
});
