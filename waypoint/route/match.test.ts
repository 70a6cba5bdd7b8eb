import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HttpMatch, HttpRoute, TcpRoute } from '../../shared/waypoint/config.ts';
import type { RequestInfo } from '../types.ts';
import { matchRoute, matchesHttp, matchTcp, parseQuery } from './match.ts';

function req(over: Partial<RequestInfo> & { port?: number } = {}): RequestInfo {
  const { port, ...rest } = over;
  return {
    method: 'GET',
    path: '/',
    query: '',
    authority: 'reviews.demo.svc.cluster.local:9080',
    headers: {},
    grpc: false,
    source: { ip: '10.244.1.5', remoteIp: '10.244.1.5' },
    destination: { service: 'demo/reviews.demo.svc.cluster.local', ip: '10.96.0.20', port: port ?? 9080 },
    ...rest,
  };
}

const cases: Array<{ name: string; m: HttpMatch; r: RequestInfo; want: boolean }> = [
  { name: 'empty match matches all', m: {}, r: req({ path: '/anything' }), want: true },
  // paths
  { name: 'exact path equal', m: { path: { exact: '/a' } }, r: req({ path: '/a' }), want: true },
  { name: 'exact path ignores query', m: { path: { exact: '/a' } }, r: req({ path: '/a', query: 'x=1' }), want: true },
  { name: 'exact path trailing slash differs', m: { path: { exact: '/a' } }, r: req({ path: '/a/' }), want: false },
  { name: 'plain prefix is a string prefix', m: { path: { prefix: '/foo' } }, r: req({ path: '/foobar' }), want: true },
  { name: 'plain prefix no match', m: { path: { prefix: '/foo' } }, r: req({ path: '/fo' }), want: false },
  { name: 'pathPrefix equal', m: { path: { pathPrefix: '/foo' } }, r: req({ path: '/foo' }), want: true },
  { name: 'pathPrefix child segment', m: { path: { pathPrefix: '/foo' } }, r: req({ path: '/foo/bar' }), want: true },
  { name: 'pathPrefix not a partial segment', m: { path: { pathPrefix: '/foo' } }, r: req({ path: '/foobar' }), want: false },
  { name: 'pathPrefix trailing slash ignored', m: { path: { pathPrefix: '/foo/' } }, r: req({ path: '/foo' }), want: true },
  { name: 'pathPrefix / matches all', m: { path: { pathPrefix: '/' } }, r: req({ path: '/x/y' }), want: true },
  { name: 'pathPrefix is case-sensitive', m: { path: { pathPrefix: '/Foo' } }, r: req({ path: '/foo' }), want: false },
  { name: 'regex path anchored full match', m: { path: { regex: '/api/v[0-9]+' } }, r: req({ path: '/api/v2' }), want: true },
  { name: 'regex path does not match a substring', m: { path: { regex: '/api/v[0-9]+' } }, r: req({ path: '/api/v2/users' }), want: false },
  { name: 'regex alternation anchored as a whole', m: { path: { regex: '/a|/b' } }, r: req({ path: '/bx' }), want: false },
  { name: 'regex (?i) flag', m: { path: { regex: '(?i)/ABC' } }, r: req({ path: '/abc' }), want: true },
  { name: 'invalid regex never matches', m: { path: { regex: '/a(' } }, r: req({ path: '/a(' }), want: false },
  // headers
  { name: 'header exact', m: { headers: [{ name: 'x-user', value: { exact: 'jason' } }] }, r: req({ headers: { 'x-user': 'jason' } }), want: true },
  { name: 'header exact mismatch', m: { headers: [{ name: 'x-user', value: { exact: 'jason' } }] }, r: req({ headers: { 'x-user': 'json' } }), want: false },
  { name: 'header missing', m: { headers: [{ name: 'x-user', value: { exact: 'jason' } }] }, r: req(), want: false },
  { name: 'header presence', m: { headers: [{ name: 'x-user' }] }, r: req({ headers: { 'x-user': '' } }), want: true },
  { name: 'header prefix', m: { headers: [{ name: 'x-v', value: { prefix: 'v1' } }] }, r: req({ headers: { 'x-v': 'v1.2' } }), want: true },
  { name: 'header regex full match', m: { headers: [{ name: 'x-v', value: { regex: 'v[12]' } }] }, r: req({ headers: { 'x-v': 'v12' } }), want: false },
  { name: 'multi-value header joined with ,', m: { headers: [{ name: 'set-cookie', value: { exact: 'a=1,b=2' } }] }, r: req({ headers: { 'set-cookie': ['a=1', 'b=2'] } }), want: true },
  { name: 'inverted header value: other value matches', m: { headers: [{ name: 'x-env', value: { exact: 'prod' }, invert: true }] }, r: req({ headers: { 'x-env': 'dev' } }), want: true },
  { name: 'inverted header value: same value excluded', m: { headers: [{ name: 'x-env', value: { exact: 'prod' }, invert: true }] }, r: req({ headers: { 'x-env': 'prod' } }), want: false },
  { name: 'inverted header value: missing header matches', m: { headers: [{ name: 'x-env', value: { exact: 'prod' }, invert: true }] }, r: req(), want: true },
  { name: 'inverted header value: missing is empty for regex .*', m: { headers: [{ name: 'x-env', value: { regex: '.*' }, invert: true }] }, r: req(), want: false },
  { name: 'inverted presence: absent matches', m: { headers: [{ name: 'x-debug', invert: true }] }, r: req(), want: true },
  { name: 'inverted presence: present excluded', m: { headers: [{ name: 'x-debug', invert: true }] }, r: req({ headers: { 'x-debug': '1' } }), want: false },
  { name: ':authority falls back to the request authority', m: { headers: [{ name: ':authority', value: { prefix: 'reviews.' } }] }, r: req(), want: true },
  { name: ':scheme of an HTTP/1.1 request is http', m: { headers: [{ name: ':scheme', value: { exact: 'http' } }] }, r: req(), want: true },
  { name: ':scheme https does not match plain HTTP', m: { headers: [{ name: ':scheme', value: { exact: 'https' } }] }, r: req(), want: false },
  { name: 'host header taken as is when present', m: { headers: [{ name: 'host', value: { exact: 'h:1' } }] }, r: req({ headers: { host: 'h:1' } }), want: true },
  // query
  { name: 'query exact', m: { query: [{ name: 'v', value: { exact: '2' } }] }, r: req({ query: 'a=1&v=2' }), want: true },
  { name: 'query first value wins', m: { query: [{ name: 'v', value: { exact: '2' } }] }, r: req({ query: 'v=1&v=2' }), want: false },
  { name: 'query decoded', m: { query: [{ name: 'q', value: { exact: 'a b/c' } }] }, r: req({ query: 'q=a%20b%2Fc' }), want: true },
  { name: 'query presence without value', m: { query: [{ name: 'debug' }] }, r: req({ query: 'debug' }), want: true },
  { name: 'query missing', m: { query: [{ name: 'debug' }] }, r: req({ query: 'x=1' }), want: false },
  { name: 'query regex', m: { query: [{ name: 'id', value: { regex: '[0-9]+' } }] }, r: req({ query: 'id=42' }), want: true },
  // method, port, AND
  { name: 'method exact', m: { method: { exact: 'POST' } }, r: req({ method: 'POST' }), want: true },
  { name: 'method mismatch', m: { method: { exact: 'POST' } }, r: req(), want: false },
  { name: 'method regex', m: { method: { regex: 'GET|HEAD' } }, r: req({ method: 'HEAD' }), want: true },
  { name: 'port matches', m: { port: 9080 }, r: req(), want: true },
  { name: 'port mismatch', m: { port: 80 }, r: req(), want: false },
  // source (GAMMA consumer routes, VirtualService sourceNamespace / sourceLabels)
  { name: 'source namespace matches', m: { source: { namespaces: ['shop'] } }, r: req({ source: { ip: '10.244.1.5', remoteIp: '10.244.1.5', namespace: 'shop' } }), want: true },
  { name: 'source namespace differs', m: { source: { namespaces: ['shop'] } }, r: req({ source: { ip: '10.244.1.5', remoteIp: '10.244.1.5', namespace: 'demo' } }), want: false },
  { name: 'source namespace unknown (plaintext client) never matches', m: { source: { namespaces: ['shop'] } }, r: req(), want: false },
  { name: 'source workload in the list', m: { source: { workloads: ['w1', 'w2'] } }, r: req({ source: { ip: '10.244.1.5', remoteIp: '10.244.1.5', workload: 'w2' } }), want: true },
  { name: 'source workload not in the list', m: { source: { workloads: ['w1'] } }, r: req({ source: { ip: '10.244.1.5', remoteIp: '10.244.1.5', workload: 'w2' } }), want: false },
  { name: 'empty workload list matches nobody (labels no pod carries)', m: { source: { workloads: [] } }, r: req({ source: { ip: '10.244.1.5', remoteIp: '10.244.1.5', workload: 'w1' } }), want: false },
  {
    name: 'source namespace and workload both needed',
    m: { source: { namespaces: ['shop'], workloads: ['w1'] } },
    r: req({ source: { ip: '10.244.1.5', remoteIp: '10.244.1.5', namespace: 'demo', workload: 'w1' } }),
    want: false,
  },
  {
    name: 'all fields ANDed: one failing fails',
    m: { path: { pathPrefix: '/api' }, method: { exact: 'GET' }, headers: [{ name: 'x-a', value: { exact: '1' } }] },
    r: req({ path: '/api/x', headers: { 'x-a': '2' } }),
    want: false,
  },
  {
    name: 'all fields ANDed: all match',
    m: { path: { pathPrefix: '/api' }, method: { exact: 'GET' }, headers: [{ name: 'x-a', value: { exact: '1' } }], query: [{ name: 'q' }], port: 9080 },
    r: req({ path: '/api/x', headers: { 'x-a': '1' }, query: 'q=' }),
    want: true,
  },
];

for (const c of cases) {
  test(`matchesHttp: ${c.name}`, () => {
    assert.equal(matchesHttp(c.m, c.r), c.want);
  });
}

function route(id: string, matches: HttpMatch[]): HttpRoute {
  return { id, source: { kind: 'HTTPRoute', namespace: 'demo', name: id }, matches, action: { kind: 'respond', status: 200 } };
}

test('matchRoute: first route in order wins, and the match that hit is returned', () => {
  const m2: HttpMatch = { path: { pathPrefix: '/v2' } };
  const routes = [route('a', [{ path: { exact: '/x' } }, m2]), route('b', [{ path: { pathPrefix: '/' } }])];
  const got = matchRoute(routes, req({ path: '/v2/list' }));
  assert.equal(got?.route.id, 'a');
  assert.equal(got?.match, m2);
  assert.equal(matchRoute(routes, req({ path: '/other' }))?.route.id, 'b');
});

test('matchRoute: a route without matches matches everything, with match undefined', () => {
  const routes = [route('narrow', [{ method: { exact: 'POST' } }]), route('all', [])];
  const got = matchRoute(routes, req());
  assert.equal(got?.route.id, 'all');
  assert.equal(got?.match, undefined);
});

test('matchRoute: no route matches → undefined (the caller answers 404)', () => {
  assert.equal(matchRoute([route('a', [{ path: { exact: '/x' } }])], req({ path: '/y' })), undefined);
  assert.equal(matchRoute([], req()), undefined);
});

test('matchTcp: first route for the port; a portless route takes any port', () => {
  const t = (id: string, port?: number): TcpRoute => ({ id, source: { kind: 'TCPRoute', namespace: 'demo', name: id }, port, backends: [] });
  const routes = [t('p5432', 5432), t('any')];
  assert.equal(matchTcp(routes, 5432)?.id, 'p5432');
  assert.equal(matchTcp(routes, 3306)?.id, 'any');
  assert.equal(matchTcp([t('p1', 1)], 2), undefined);
});

test('parseQuery: first value per name, + is a space, bare names are empty', () => {
  const q = parseQuery('a=1&a=2&b=x+y&c');
  assert.deepEqual([...q], [['a', '1'], ['b', 'x y'], ['c', '']]);
  assert.equal(parseQuery('').size, 0);
});
