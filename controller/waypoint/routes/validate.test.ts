// Table tests for validateRouteObject: what each kind accepts, and every rejection with the field path and reason
// it must name.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateRouteObject } from './index.ts';
import { obj } from './testing.ts';

type Kind = Parameters<typeof validateRouteObject>[0];

const dest = (host: string, extra: object = {}) => ({ destination: { host, ...extra } });
const vs = (http: unknown[], extra: object = {}) => ({ hosts: ['reviews'], http, ...extra });
const rule = (r: object) => vs([{ route: [dest('reviews')], ...r }]);
const hr = (rules: unknown[]) => ({ parentRefs: [{ group: '', kind: 'Service', name: 'reviews', port: 9080 }], rules });
const be = (extra: object = {}) => ({ name: 'reviews-v1', port: 9080, ...extra });

test('accepted: each kind with the fields waypoints use', () => {
  const cases: Array<[Kind, unknown]> = [
    ['VirtualService', vs([{ route: [dest('reviews')] }])],
    ['VirtualService', vs([{
      name: 'all',
      match: [{ uri: { prefix: '/api' }, headers: { 'end-user': { exact: 'jason' }, 'x-any': {} }, withoutHeaders: { 'x-skip': { regex: '(?i)yes' } }, queryParams: { v: { exact: '1' } }, method: { exact: 'GET' }, port: 9080, ignoreUriCase: true }],
      route: [{ ...dest('reviews', { subset: 'v1', port: { number: 9080 } }), weight: 75, headers: { request: { set: { 'x-a': '1' } } } }, { ...dest('reviews.default.svc.cluster.local', { subset: 'v2' }), weight: 25 }],
      headers: { request: { add: { 'x-b': '2' }, remove: ['x-c'] }, response: { set: { 'x-d': '3' } } },
      rewrite: { uri: '/v2', authority: 'reviews.internal' },
      fault: { delay: { fixedDelay: '5s', percentage: { value: 0.1 } }, abort: { grpcStatus: 'UNAVAILABLE', percentage: { value: 1 } } },
      retries: { attempts: 3, perTryTimeout: '2s', retryOn: '5xx,409', backoff: '50ms' },
      timeout: '10s',
      mirror: { host: 'reviews', subset: 'v3' },
      mirrorPercentage: { value: 50 },
      corsPolicy: { allowOrigins: [{ exact: 'https://example.com' }] },
    }], { tcp: [{ match: [{ port: 3306 }], route: [dest('mysql')] }], tls: [{ match: [{ sniHosts: ['x'] }], route: [dest('x')] }] })],
    // For gateways only: fields waypoints cannot evaluate are not ours to refuse.
    ['VirtualService', vs([{ match: [{ sourceLabels: { app: 'x' } }], route: [dest('reviews')] }], { gateways: ['istio-system/ingress'] })],
    ['HTTPRoute', hr([{
      matches: [{ path: { type: 'PathPrefix', value: '/api/' }, headers: [{ name: 'x-a', value: '1' }, { type: 'RegularExpression', name: 'x-b', value: 'v[0-9]' }], queryParams: [{ name: 'q', value: 'x' }], method: 'POST' }],
      filters: [
        { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-s', value: '1' }], add: [{ name: 'x-a', value: '2' }], remove: ['x-r'] } },
        { type: 'ResponseHeaderModifier', responseHeaderModifier: { remove: ['server'] } },
        { type: 'URLRewrite', urlRewrite: { hostname: 'internal', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' } } },
        { type: 'RequestMirror', requestMirror: { backendRef: { name: 'shadow', port: 80 }, fraction: { numerator: 1, denominator: 4 } } },
      ],
      backendRefs: [be({ weight: 0, filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-v', value: '1' }] } }] }), be({ name: 'reviews-v2' })],
      timeouts: { request: '10s', backendRequest: '2s' },
      retry: { attempts: 3, codes: [503, 504], backoff: '100ms' },
    }])],
    ['HTTPRoute', hr([{ filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }] }])],
    ['GRPCRoute', hr([{ matches: [{ method: { service: 'helloworld.Greeter', method: 'SayHello' } }, { method: { type: 'RegularExpression', service: 'pkg\\..*' } }], backendRefs: [be()] }])],
    ['TCPRoute', hr([{ backendRefs: [be()] }])],
    ['DestinationRule', {
      host: 'reviews',
      trafficPolicy: {
        loadBalancer: { consistentHash: { httpCookie: { name: 'user', ttl: '0s' } } },
        connectionPool: { tcp: { maxConnections: 100, connectTimeout: '30ms' }, http: { http2MaxRequests: 1000, maxRequestsPerConnection: 10, idleTimeout: '1h' } },
        outlierDetection: { consecutiveGatewayErrors: 7, interval: '5m', baseEjectionTime: '15m' },
        portLevelSettings: [{ port: { number: 80 }, loadBalancer: { simple: 'LEAST_CONN' } }],
        tls: { mode: 'ISTIO_MUTUAL' },
      },
      subsets: [{ name: 'v1', labels: { version: 'v1' }, trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } } }],
    }],
  ];
  for (const [kind, spec] of cases) {
    const v = validateRouteObject(kind, obj(kind, 'default', 'x', spec));
    assert.deepEqual({ accepted: v.accepted, message: v.message }, { accepted: true, message: '' }, `${kind} ${JSON.stringify(spec).slice(0, 80)}`);
    assert.equal(v.reason, 'Accepted');
  }
});

test('rejected: the message starts with the field path; reason Invalid or UnsupportedValue', () => {
  type Case = [string, Kind, unknown, string, ('Invalid' | 'UnsupportedValue')?];
  const cases: Case[] = [
    // VirtualService
    ['no spec', 'VirtualService', undefined, 'spec: must be an object'],
    ['no hosts', 'VirtualService', { http: [] }, 'spec.hosts: must list at least one host'],
    ['negative weight', 'VirtualService', vs([{ route: [dest('a'), { ...dest('b'), weight: -1 }] }]), 'spec.http[0].route[1].weight: must be an integer 0..1000000'],
    ['fractional weight', 'VirtualService', vs([{ route: [dest('a'), { ...dest('b'), weight: 2.5 }] }]), 'spec.http[0].route[1].weight: must be an integer'],
    ['weights all zero', 'VirtualService', vs([{ route: [{ ...dest('a'), weight: 0 }, dest('b')] }]), 'spec.http[0].route: the total destination weight must be greater than 0'],
    ['missing destination.host', 'VirtualService', vs([{ route: [{ destination: { subset: 'v1' } }] }]), 'spec.http[0].route[0].destination.host: must be a non-empty string'],
    ['wildcard destination', 'VirtualService', vs([{ route: [dest('*.example.com')] }]), 'spec.http[0].route[0].destination.host: must name one service'],
    ['bad destination port', 'VirtualService', vs([{ route: [dest('a', { port: { number: 0 } })] }]), 'spec.http[0].route[0].destination.port.number: must be an integer 1..65535'],
    ['no action', 'VirtualService', vs([{ match: [{ uri: { prefix: '/' } }] }]), 'spec.http[0]: must set one of route, redirect or directResponse'],
    ['redirect and route', 'VirtualService', rule({ redirect: { uri: '/x' } }), 'spec.http[0]: route and redirect cannot be combined'],
    ['redirect and directResponse', 'VirtualService', vs([{ redirect: { uri: '/x' }, directResponse: { status: 200 } }]), 'spec.http[0]: redirect and directResponse cannot be combined'],
    ['rewrite with redirect', 'VirtualService', vs([{ redirect: { uri: '/x' }, rewrite: { uri: '/y' } }]), 'spec.http[0].rewrite: cannot be combined with redirect'],
    ['fault with redirect', 'VirtualService', vs([{ redirect: { uri: '/x' }, fault: { abort: { httpStatus: 500 } } }]), 'spec.http[0].fault: cannot be combined with redirect'],
    ['bad redirect code', 'VirtualService', vs([{ redirect: { uri: '/x', redirectCode: 305 } }]), 'spec.http[0].redirect.redirectCode: must be one of 301, 302, 303, 307, 308'],
    ['direct response status', 'VirtualService', vs([{ directResponse: { status: 99 } }]), 'spec.http[0].directResponse.status: must be an integer 200..599'],
    ['bad uri regex', 'VirtualService', rule({ match: [{ uri: { regex: '([a-z' } }] }), 'spec.http[0].match[0].uri.regex: invalid regular expression'],
    ['lookahead', 'VirtualService', rule({ match: [{ headers: { 'x-a': { regex: 'a(?!b)' } } }] }), 'spec.http[0].match[0].headers.x-a.regex: lookahead/lookbehind is not supported'],
    ['exact and prefix', 'VirtualService', rule({ match: [{ uri: { exact: '/a', prefix: '/b' } }] }), 'spec.http[0].match[0].uri: exact, prefix and regex are mutually exclusive'],
    ['bad header name', 'VirtualService', rule({ match: [{ headers: { 'bad header': { exact: 'x' } } }] }), 'spec.http[0].match[0].headers.bad header: invalid header name'],
    ['match port', 'VirtualService', rule({ match: [{ port: 70000 }] }), 'spec.http[0].match[0].port: must be an integer 1..65535'],
    ['sourceLabels on a tcp rule', 'VirtualService', vs([{ match: [{ sourceLabels: { app: 'x' } }], route: [dest('a')] }], { tcp: [{ match: [{ sourceLabels: { app: 'x' } }], route: [dest('a')] }], http: undefined }), 'spec.tcp[0].match[0].sourceLabels: matching on sourceLabels is not supported by waypoints', 'UnsupportedValue'],
    ['sourceLabels values', 'VirtualService', rule({ match: [{ sourceLabels: { app: 3 } }] }), 'spec.http[0].match[0].sourceLabels.app: must be a string'],
    ['delegate', 'VirtualService', vs([{ delegate: { name: 'x' } }]), 'spec.http[0].delegate: delegation applies to gateways only', 'UnsupportedValue'],
    ['fault percentage', 'VirtualService', rule({ fault: { delay: { fixedDelay: '1s', percentage: { value: 150 } } } }), 'spec.http[0].fault.delay.percentage.value: must be a number 0..100'],
    ['fault legacy percent', 'VirtualService', rule({ fault: { delay: { fixedDelay: '1s', percent: 101 } } }), 'spec.http[0].fault.delay.percent: must be an integer 0..100'],
    ['fault without delay or abort', 'VirtualService', rule({ fault: {} }), 'spec.http[0].fault: must set delay, abort or both'],
    ['delay without fixedDelay', 'VirtualService', rule({ fault: { delay: { percentage: { value: 1 } } } }), 'spec.http[0].fault.delay.fixedDelay: is required'],
    ['exponential delay', 'VirtualService', rule({ fault: { delay: { exponentialDelay: '1s' } } }), 'spec.http[0].fault.delay.exponentialDelay: exponential delays are not supported', 'UnsupportedValue'],
    ['delay below 1ms', 'VirtualService', rule({ fault: { delay: { fixedDelay: '0s' } } }), 'spec.http[0].fault.delay.fixedDelay: must be at least 1ms'],
    ['abort status', 'VirtualService', rule({ fault: { abort: { httpStatus: 600 } } }), 'spec.http[0].fault.abort.httpStatus: must be an integer 200..599'],
    ['abort grpc name', 'VirtualService', rule({ fault: { abort: { grpcStatus: 'UNAVAILABLEX' } } }), 'spec.http[0].fault.abort.grpcStatus: unknown gRPC status "UNAVAILABLEX"'],
    ['abort two kinds', 'VirtualService', rule({ fault: { abort: { httpStatus: 500, grpcStatus: 'INTERNAL' } } }), 'spec.http[0].fault.abort: must set exactly one of httpStatus, grpcStatus and http2Error'],
    ['abort http2Error', 'VirtualService', rule({ fault: { abort: { http2Error: 'REFUSED_STREAM' } } }), 'spec.http[0].fault.abort.http2Error: HTTP/2 error aborts are not supported', 'UnsupportedValue'],
    ['negative attempts', 'VirtualService', rule({ retries: { attempts: -1 } }), 'spec.http[0].retries.attempts: must be an integer 0..1000'],
    ['retryOn unknown', 'VirtualService', rule({ retries: { attempts: 2, retryOn: '5xx,sometimes' } }), 'spec.http[0].retries.retryOn: "sometimes" is not a valid retryOn policy'],
    ['retryOn bad code', 'VirtualService', rule({ retries: { attempts: 2, retryOn: '700' } }), 'spec.http[0].retries.retryOn: 700 is not an HTTP status code'],
    ['settings with attempts 0', 'VirtualService', rule({ retries: { perTryTimeout: '2s' } }), 'spec.http[0].retries.attempts: retry settings are given but attempts is 0'],
    ['negative perTryTimeout', 'VirtualService', rule({ retries: { attempts: 2, perTryTimeout: '-1s' } }), 'spec.http[0].retries.perTryTimeout: must not be negative'],
    ['bad timeout', 'VirtualService', rule({ timeout: '10 seconds' }), 'spec.http[0].timeout: invalid duration "10 seconds"'],
    ['mirror percentage', 'VirtualService', rule({ mirror: { host: 'a' }, mirrorPercentage: { value: 101 } }), 'spec.http[0].mirrorPercentage.value: must be a number 0..100'],
    ['mirror and mirrors', 'VirtualService', rule({ mirror: { host: 'a' }, mirrors: [{ destination: { host: 'b' } }] }), 'spec.http[0].mirrors: mirror and mirrors cannot both be set'],
    ['uri and uriRegexRewrite', 'VirtualService', rule({ rewrite: { uri: '/a', uriRegexRewrite: { match: 'x', rewrite: 'y' } } }), 'spec.http[0].rewrite: uri and uriRegexRewrite cannot both be set'],
    ['tcp without route', 'VirtualService', vs([], { tcp: [{ match: [{ port: 1 }] }] }), 'spec.tcp[0].route: must list at least one destination'],
    // HTTPRoute
    ['backendRef without port', 'HTTPRoute', hr([{ backendRefs: [{ name: 'reviews-v1' }] }]), 'spec.rules[0].backendRefs[0].port: is required when the backend is a Service'],
    ['backend weight', 'HTTPRoute', hr([{ backendRefs: [be({ weight: 1_000_001 })] }]), 'spec.rules[0].backendRefs[0].weight: must be an integer 0..1000000'],
    ['backend hostname', 'HTTPRoute', hr([{ backendRefs: [be({ name: 'reviews.default.svc' })] }]), 'spec.rules[0].backendRefs[0].name: must be the name of the Service'],
    ['backend kind', 'HTTPRoute', hr([{ backendRefs: [be({ group: 'multicluster.x-k8s.io', kind: 'ServiceImport' })] }]), 'spec.rules[0].backendRefs[0].kind: backend multicluster.x-k8s.io/ServiceImport is not supported', 'UnsupportedValue'],
    ['relative path', 'HTTPRoute', hr([{ matches: [{ path: { type: 'Exact', value: 'foo' } }] }]), "spec.rules[0].matches[0].path.value: must be an absolute path starting with '/'"],
    ['dot segments', 'HTTPRoute', hr([{ matches: [{ path: { value: '/a/../b' } }] }]), 'spec.rules[0].matches[0].path.value: must not contain'],
    ['bad path regex', 'HTTPRoute', hr([{ matches: [{ path: { type: 'RegularExpression', value: '*' } }] }]), 'spec.rules[0].matches[0].path.value: invalid regular expression'],
    ['header match type', 'HTTPRoute', hr([{ matches: [{ headers: [{ type: 'Prefix', name: 'a', value: 'b' }] }] }]), 'spec.rules[0].matches[0].headers[0].type: unknown value string "Prefix"'],
    ['method', 'HTTPRoute', hr([{ matches: [{ method: 'FETCH' }] }]), 'spec.rules[0].matches[0].method: unknown value string "FETCH"'],
    ['redirect with backends', 'HTTPRoute', hr([{ filters: [{ type: 'RequestRedirect', requestRedirect: {} }], backendRefs: [be()] }]), 'spec.rules[0].backendRefs: must be empty when a RequestRedirect filter is set'],
    ['redirect and rewrite', 'HTTPRoute', hr([{ filters: [{ type: 'RequestRedirect', requestRedirect: {} }, { type: 'URLRewrite', urlRewrite: { hostname: 'x' } }] }]), 'spec.rules[0].filters: RequestRedirect and URLRewrite filters cannot both be set'],
    ['prefix replace on Exact', 'HTTPRoute', hr([{ matches: [{ path: { type: 'Exact', value: '/a' } }], filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/b' } } }], backendRefs: [be()] }]), 'spec.rules[0].matches: ReplacePrefixMatch needs exactly one match, of type PathPrefix'],
    ['redirect code', 'HTTPRoute', hr([{ filters: [{ type: 'RequestRedirect', requestRedirect: { statusCode: 304 } }] }]), 'spec.rules[0].filters[0].requestRedirect.statusCode: must be one of 301, 302, 303, 307, 308'],
    ['filter body missing', 'HTTPRoute', hr([{ filters: [{ type: 'RequestHeaderModifier' }], backendRefs: [be()] }]), 'spec.rules[0].filters[0].requestHeaderModifier: must be an object'],
    ['ExtensionRef', 'HTTPRoute', hr([{ filters: [{ type: 'ExtensionRef', extensionRef: { group: 'x', kind: 'y', name: 'z' } }], backendRefs: [be()] }]), 'spec.rules[0].filters[0].type: ExtensionRef filters are not supported in a HTTPRoute by waypoints', 'UnsupportedValue'],
    ['repeated header modifier', 'HTTPRoute', hr([{ filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: {} }, { type: 'RequestHeaderModifier', requestHeaderModifier: {} }], backendRefs: [be()] }]), 'spec.rules[0].filters[1].type: RequestHeaderModifier filter cannot be repeated'],
    ['backend mirror filter', 'HTTPRoute', hr([{ backendRefs: [be({ filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'x', port: 1 } } }] })] }]), 'spec.rules[0].backendRefs[0].filters[0].type: RequestMirror filters are not supported on backendRefs', 'UnsupportedValue'],
    ['request timeout', 'HTTPRoute', hr([{ backendRefs: [be()], timeouts: { request: '1.5s' } }]), 'spec.rules[0].timeouts.request: invalid duration'],
    ['backendRequest too long', 'HTTPRoute', hr([{ backendRefs: [be()], timeouts: { request: '1s', backendRequest: '2s' } }]), 'spec.rules[0].timeouts.backendRequest: must not be longer than timeouts.request'],
    ['retry code', 'HTTPRoute', hr([{ backendRefs: [be()], retry: { codes: [200] } }]), 'spec.rules[0].retry.codes[0]: must be an integer 400..599'],
    ['mirror percent and fraction', 'HTTPRoute', hr([{ backendRefs: [be()], filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'x', port: 1 }, percent: 5, fraction: { numerator: 1 } } }] }]), 'spec.rules[0].filters[0].requestMirror: percent and fraction cannot both be set'],
    ['mirror fraction', 'HTTPRoute', hr([{ backendRefs: [be()], filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'x', port: 1 }, fraction: { numerator: 3, denominator: 2 } } }] }]), 'spec.rules[0].filters[0].requestMirror.fraction: numerator 3 must not exceed denominator 2'],
    ['parent port', 'HTTPRoute', { parentRefs: [{ kind: 'Service', name: 'x', port: 0 }], rules: [] }, 'spec.parentRefs[0].port: must be an integer 1..65535'],
    // GRPCRoute
    ['grpc method empty', 'GRPCRoute', hr([{ matches: [{ method: {} }], backendRefs: [be()] }]), 'spec.rules[0].matches[0].method: must set service, method or both'],
    ['grpc service name', 'GRPCRoute', hr([{ matches: [{ method: { service: 'foo/bar' } }], backendRefs: [be()] }]), 'spec.rules[0].matches[0].method.service: invalid gRPC service name'],
    ['grpc rewrite', 'GRPCRoute', hr([{ filters: [{ type: 'URLRewrite', urlRewrite: {} }], backendRefs: [be()] }]), 'spec.rules[0].filters[0].type: URLRewrite filters are not supported in a GRPCRoute', 'UnsupportedValue'],
    // TCPRoute
    ['tcp no rules', 'TCPRoute', hr([]), 'spec.rules: must have at least one rule'],
    ['tcp backend port', 'TCPRoute', hr([{ backendRefs: [{ name: 'db' }] }]), 'spec.rules[0].backendRefs[0].port: is required'],
    // DestinationRule
    ['no host', 'DestinationRule', { subsets: [] }, 'spec.host: must be a non-empty string'],
    ['lb enum', 'DestinationRule', { host: 'a', trafficPolicy: { loadBalancer: { simple: 'FASTEST' } } }, 'spec.trafficPolicy.loadBalancer.simple: unknown value string "FASTEST"'],
    ['simple and hash', 'DestinationRule', { host: 'a', trafficPolicy: { loadBalancer: { simple: 'RANDOM', consistentHash: { useSourceIp: true } } } }, 'spec.trafficPolicy.loadBalancer: simple and consistentHash cannot both be set'],
    ['hash key', 'DestinationRule', { host: 'a', trafficPolicy: { loadBalancer: { consistentHash: { minimumRingSize: 10 } } } }, 'spec.trafficPolicy.loadBalancer.consistentHash: must set exactly one of'],
    ['maxEjectionPercent', 'DestinationRule', { host: 'a', trafficPolicy: { outlierDetection: { maxEjectionPercent: 101 } } }, 'spec.trafficPolicy.outlierDetection.maxEjectionPercent: must be an integer 0..100'],
    ['interval 0', 'DestinationRule', { host: 'a', trafficPolicy: { outlierDetection: { interval: '0s' } } }, 'spec.trafficPolicy.outlierDetection.interval: must be at least 1ms'],
    ['connectTimeout unitless', 'DestinationRule', { host: 'a', trafficPolicy: { connectionPool: { tcp: { connectTimeout: '10' } } } }, 'spec.trafficPolicy.connectionPool.tcp.connectTimeout: invalid duration "10"'],
    ['negative pool', 'DestinationRule', { host: 'a', trafficPolicy: { connectionPool: { http: { http1MaxPendingRequests: -1 } } } }, 'spec.trafficPolicy.connectionPool.http.http1MaxPendingRequests: must be an integer'],
    ['port level port', 'DestinationRule', { host: 'a', trafficPolicy: { portLevelSettings: [{ loadBalancer: { simple: 'RANDOM' } }] } }, 'spec.trafficPolicy.portLevelSettings[0].port: must be an object'],
    ['subset twice', 'DestinationRule', { host: 'a', subsets: [{ name: 'v1' }, { name: 'v1' }] }, 'spec.subsets[1].name: subset "v1" is defined twice'],
    ['subset name', 'DestinationRule', { host: 'a', subsets: [{ name: 'V1' }] }, 'spec.subsets[0].name: invalid name "V1"'],
    ['subset labels', 'DestinationRule', { host: 'a', subsets: [{ name: 'v1', labels: { version: 1 } }] }, 'spec.subsets[0].labels.version: must be a string'],
  ];
  assert.ok(cases.length >= 40);
  for (const [name, kind, spec, message, reason = 'Invalid'] of cases) {
    const v = validateRouteObject(kind, obj(kind, 'default', 'x', spec));
    assert.equal(v.accepted, false, name);
    assert.equal(v.reason, reason, name);
    assert.ok(v.message.startsWith(message), `${name}: ${v.message}`);
    assert.deepEqual([v.kind, v.namespace, v.name, v.generation], [kind, 'default', 'x', 1], name);
  }
});
