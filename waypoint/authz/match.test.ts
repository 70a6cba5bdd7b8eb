// Table tests for the leaf matchers: Istio string forms, hosts, path normalisation, path templates, IPs, claims.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  claimPath, claimStrings, headerName, matchHeader, matchHost, matchIp, matchPath, matchString, normalizePath, stripPort,
} from './match.ts';

test('matchString: exact, prefix*, *suffix, * (non-empty), absent', () => {
  const cases: Array<[string, string | undefined, boolean]> = [
    ['GET', 'GET', true],
    ['GET', 'get', false],
    ['/api*', '/api', true],
    ['/api*', '/api/v1', true],
    ['/api*', '/ap', false],
    ['*.txt', 'a.txt', true],
    ['*.txt', '.txt', true],
    ['*.txt', 'a.txtx', false],
    ['*', 'x', true],
    ['*', '', false],
    ['*', undefined, false],
    ['x', undefined, false],
    ['*a*', 'xa*', true], // leading * wins: suffix `a*`
    ['a*b', 'a*b', true], // inner * is literal, as Istio
  ];
  for (const [p, v, want] of cases) assert.equal(matchString(p, v), want, `${p} vs ${v}`);
});

test('matchHeader: * means present even when empty', () => {
  assert.equal(matchHeader('*', ''), true);
  assert.equal(matchHeader('*', undefined), false);
  assert.equal(matchHeader('Mozilla/*', 'Mozilla/5.0'), true);
  assert.equal(matchHeader('abc', 'abcd'), false);
});

test('hosts: case-insensitive, request port ignored', () => {
  const cases: Array<[string, string, boolean]> = [
    ['www.example.com', 'WWW.Example.com', true],
    ['www.example.com', 'www.example.com:8080', true],
    ['*.example.com', 'api.EXAMPLE.com:443', true],
    ['api.*', 'API.internal', true],
    ['www.example.com', 'example.com', false],
    ['www.example.com:8080', 'www.example.com:8080', true],
    ['www.example.com:8080', 'www.example.com:9090', false],
    ['[::1]', '[::1]:80', true],
    ['*', 'anything', true],
  ];
  for (const [p, v, want] of cases) assert.equal(matchHost(p, v), want, `${p} vs ${v}`);
  assert.equal(matchHost('*', ''), false);
  assert.equal(stripPort('a.b:80'), 'a.b');
  assert.equal(stripPort('[fd00::1]:8080'), '[fd00::1]');
  assert.equal(stripPort('fd00::1'), 'fd00::1');
});

test('normalizePath: Envoy BASE normalisation', () => {
  const cases: Array<[string, string]> = [
    ['/a/b', '/a/b'],
    ['/a/../b', '/b'],
    ['/a/./b', '/a/b'],
    ['/a/b/..', '/a/'],
    ['/../a', '/a'],
    ['/a/%2E%2E/b', '/b'],
    ['/%61dmin', '/admin'],
    ['/a%2Fb', '/a%2Fb'],
    ['/a\\..\\admin', '/admin'],
    ['/a//b', '/a//b'],
    ['/a#frag', '/a'],
    ['/', '/'],
    ['*', '*'],
  ];
  for (const [raw, want] of cases) assert.equal(normalizePath(raw), want, raw);
});

test('paths: templates {*} (one segment) and {**} (the rest), Envoy uri_template semantics', () => {
  const cases: Array<[string, string, boolean]> = [
    ['/foo/{*}', '/foo/bar', true],
    ['/foo/{*}', '/foo/bar/baz', false],
    ['/foo/{*}', '/foo/', false],
    ['/foo/{**}', '/foo/bar/baz', true],
    ['/foo/{**}', '/foo/', true],
    ['/foo/{**}', '/foo', false],
    ['/foo/{**}/', '/foo/bar/', true],
    ['/foo/{**}/', '/foo//', true],
    ['/foo/{**}/', '/foo/bar', false],
    ['/foo/{*}/bar/{**}', '/foo/buzz/bar/', true],
    ['/foo/{*}/bar/{**}', '/foo/buzz/bar/baz', true],
    ['/foo/{*}/bar/{**}', '/foo/buzz/qux/baz', false],
    ['/api/v1.0/{*}', '/api/v1x0/x', false], // literal dots are escaped
    ['/{*}', '/*', false], // `*` is not a pchar for templates
    ['/api*', '/api/x', true], // plain Istio forms still work
    ['/api', '/api', true],
  ];
  for (const [p, path, want] of cases) assert.equal(matchPath(p, path), want, `${p} vs ${path}`);
});

test('ip blocks: single IPs, CIDRs, IPv6, mapped IPv4, bad input', () => {
  const cases: Array<[string, string | undefined, boolean]> = [
    ['10.0.0.1', '10.0.0.1', true],
    ['10.0.0.1', '10.0.0.2', false],
    ['10.0.0.0/8', '10.244.1.7', true],
    ['10.0.0.0/8', '11.0.0.1', false],
    ['0.0.0.0/0', '192.0.2.1', true],
    ['fd00::/8', 'fd00::5', true],
    ['fd00::/8', '10.0.0.1', false],
    ['10.0.0.0/8', '::ffff:10.1.2.3', true],
    ['10.0.0.0/33', '10.0.0.1', false],
    ['bogus', '10.0.0.1', false],
    ['10.0.0.0/8', undefined, false],
    ['10.0.0.0/8', 'not-an-ip', false],
  ];
  for (const [cidr, ip, want] of cases) assert.equal(matchIp(cidr, ip), want, `${cidr} vs ${ip}`);
});

test('claim keys, header keys and claim values', () => {
  assert.deepEqual(claimPath('request.auth.claims[groups]'), ['groups']);
  assert.deepEqual(claimPath('request.auth.claims[realm_access][roles]'), ['realm_access', 'roles']);
  assert.equal(claimPath('request.auth.claims[]'), undefined);
  assert.equal(claimPath('request.auth.claims'), undefined);
  assert.equal(headerName('request.headers[X-Token]'), 'x-token');
  assert.equal(headerName('request.headers[]'), undefined);
  const claims = { iss: 'i', groups: ['a', 'b', 3], nested: { roles: ['admin'] }, n: 5, t: true };
  assert.deepEqual(claimStrings(claims, ['iss']), ['i']);
  assert.deepEqual(claimStrings(claims, ['groups']), ['a', 'b']);
  assert.deepEqual(claimStrings(claims, ['nested', 'roles']), ['admin']);
  assert.deepEqual(claimStrings(claims, ['n']), []);
  assert.deepEqual(claimStrings(claims, ['t']), []);
  assert.deepEqual(claimStrings(claims, ['missing', 'x']), []);
  assert.deepEqual(claimStrings(undefined, ['iss']), []);
  assert.deepEqual(claimStrings(claims, ['toString']), []); // own properties only
});
