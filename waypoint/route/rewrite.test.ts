import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HttpMatch, PathRewrite, Redirect } from '../../shared/waypoint/config.ts';
import type { RequestInfo } from '../types.ts';
import { applyHeaderOps, redirectLocation, rewritePath } from './rewrite.ts';

const pp = (pathPrefix: string): HttpMatch => ({ path: { pathPrefix } });

// Gateway API's ReplacePrefixMatch table (HTTPPathModifier docs), plus Envoy prefix/regex/full rewrites.
const rewriteCases: Array<{ path: string; rw: PathRewrite; m: HttpMatch | undefined; want: string }> = [
  { path: '/foo/bar', rw: { prefix: '/xyz' }, m: pp('/foo'), want: '/xyz/bar' },
  { path: '/foo/bar', rw: { prefix: '/xyz/' }, m: pp('/foo'), want: '/xyz/bar' },
  { path: '/foo/bar', rw: { prefix: '/xyz' }, m: pp('/foo/'), want: '/xyz/bar' },
  { path: '/foo/bar', rw: { prefix: '/xyz/' }, m: pp('/foo/'), want: '/xyz/bar' },
  { path: '/foo', rw: { prefix: '/xyz' }, m: pp('/foo'), want: '/xyz' },
  { path: '/foo/', rw: { prefix: '/xyz' }, m: pp('/foo'), want: '/xyz/' },
  { path: '/foo/bar', rw: { prefix: '' }, m: pp('/foo'), want: '/bar' },
  { path: '/foo/', rw: { prefix: '' }, m: pp('/foo'), want: '/' },
  { path: '/foo', rw: { prefix: '' }, m: pp('/foo'), want: '/' },
  { path: '/foo/', rw: { prefix: '/' }, m: pp('/foo'), want: '/' },
  { path: '/foo', rw: { prefix: '/' }, m: pp('/foo'), want: '/' },
  { path: '/foo/bar?x=1', rw: { prefix: '/xyz' }, m: pp('/foo'), want: '/xyz/bar?x=1' },
  // VirtualService uri.prefix: Envoy's plain prefix_rewrite.
  { path: '/foobar', rw: { prefix: '/baz' }, m: { path: { prefix: '/foo' } }, want: '/bazbar' },
  { path: '/foo/bar', rw: { prefix: '/' }, m: { path: { prefix: '/foo/' } }, want: '/bar' },
  // Exact and regex matches: the whole path is what matched.
  { path: '/login', rw: { prefix: '/auth/login' }, m: { path: { exact: '/login' } }, want: '/auth/login' },
  { path: '/v1/x', rw: { prefix: '/new' }, m: { path: { regex: '/v1/.*' } }, want: '/new' },
  // No path in the match: the PathPrefix '/' Gateway API defaults to.
  { path: '/a', rw: { prefix: '/v2' }, m: undefined, want: '/v2/a' },
  { path: '/a', rw: { prefix: '/v2' }, m: { method: { exact: 'GET' } }, want: '/v2/a' },
  // Full and regex.
  { path: '/anything/here?q=1', rw: { full: '/fixed' }, m: pp('/anything'), want: '/fixed?q=1' },
  { path: '/service/foo/v1/api', rw: { regex: '^/service/([^/]+)(/.*)$', substitution: '\\2/instance/\\1' }, m: undefined, want: '/v1/api/instance/foo' },
  { path: '/aaa/baa', rw: { regex: 'a', substitution: 'x' }, m: undefined, want: '/xxx/bxx' },
  { path: '/price', rw: { regex: '/price', substitution: '/$1' }, m: undefined, want: '/$1' },
];

for (const c of rewriteCases) {
  test(`rewritePath ${c.path} ${JSON.stringify(c.rw)} with ${JSON.stringify(c.m?.path)} → ${c.want}`, () => {
    assert.equal(rewritePath(c.path, c.rw, c.m), c.want);
  });
}

function req(over: Partial<RequestInfo> = {}): RequestInfo {
  return {
    method: 'GET', path: '/old', query: '', authority: 'web.demo.svc.cluster.local', headers: {}, grpc: false,
    source: { ip: '10.244.1.5', remoteIp: '10.244.1.5' },
    destination: { ip: '10.96.0.20', port: 80 },
    ...over,
  };
}

const redirectCases: Array<{ name: string; r: RequestInfo; rd: Redirect; m?: HttpMatch; want: string }> = [
  { name: 'host only, port 80 omitted', r: req(), rd: { host: 'example.com', status: 302 }, want: 'http://example.com/old' },
  { name: 'scheme https: its default port, omitted', r: req(), rd: { scheme: 'https', status: 301 }, want: 'https://web.demo.svc.cluster.local/old' },
  { name: 'request port kept when no scheme is set', r: req({ authority: 'web:8080', destination: { ip: '10.96.0.20', port: 8080 } }), rd: { host: 'other', status: 302 }, want: 'http://other:8080/old' },
  { name: 'scheme set drops the request port', r: req({ authority: 'web:8080', destination: { ip: '10.96.0.20', port: 8080 } }), rd: { scheme: 'https', status: 302 }, want: 'https://web/old' },
  { name: 'explicit port', r: req(), rd: { port: 8443, scheme: 'https', status: 302 }, want: 'https://web.demo.svc.cluster.local:8443/old' },
  { name: 'explicit default port omitted', r: req(), rd: { port: 443, scheme: 'https', status: 302 }, want: 'https://web.demo.svc.cluster.local/old' },
  { name: 'query kept', r: req({ query: 'a=1' }), rd: { host: 'x', status: 302 }, want: 'http://x/old?a=1' },
  { name: 'full path', r: req({ path: '/a/b' }), rd: { path: { full: '/new' }, status: 302 }, want: 'http://web.demo.svc.cluster.local/new' },
  { name: 'prefix path', r: req({ path: '/a/b' }), rd: { path: { prefix: '/z' }, status: 302 }, m: pp('/a'), want: 'http://web.demo.svc.cluster.local/z/b' },
  { name: 'x-forwarded-proto https is the request scheme', r: req({ headers: { 'x-forwarded-proto': 'https' }, destination: { ip: '10.96.0.20', port: 443 } }), rd: { host: 'x', status: 302 }, want: 'https://x/old' },
  { name: 'IPv6 host bracketed', r: req(), rd: { host: 'fd00::1', status: 302 }, want: 'http://[fd00::1]/old' },
];

for (const c of redirectCases) {
  test(`redirectLocation: ${c.name}`, () => {
    assert.equal(redirectLocation(c.r, c.rd, c.m), c.want);
  });
}

test('applyHeaderOps: remove, then set, then add (appends); input untouched', () => {
  const input = { a: '1', b: '2', c: ['x', 'y'], d: '4' };
  const out = applyHeaderOps(input, {
    remove: ['D', 'b'],
    set: { a: 'one', e: 'five' },
    add: { a: 'uno', c: 'z', f: 'six', b: 'again' },
  });
  assert.deepEqual(out, { a: ['one', 'uno'], c: ['x', 'y', 'z'], e: 'five', f: 'six', b: 'again' });
  assert.deepEqual(input, { a: '1', b: '2', c: ['x', 'y'], d: '4' });
});

test('applyHeaderOps: no ops → a copy; pseudo-headers are never touched', () => {
  const input = { ':path': '/', host: 'h' };
  const copy = applyHeaderOps(input, undefined);
  assert.notEqual(copy, input);
  assert.deepEqual(copy, input);
  assert.deepEqual(applyHeaderOps(input, { set: { ':path': '/x' }, remove: [':path'], add: { ':authority': 'y' } }), input);
});
