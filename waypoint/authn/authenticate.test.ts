// Request authentication as Istio waypoints do it (Envoy jwt_authn): table cases with inline keys and a fake
// clock, then remote key sets from a loopback JWKS server (caching, refresh, kid rotation, outage, discovery).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { silent } from '../../shared/log.ts';
import type { JwtPolicy, JwtRule } from '../../shared/waypoint/config.ts';
import { eventually } from '../../test/support/eventually.ts';
import type { RequestInfo } from '../types.ts';
import { createAuthenticator, type AuthnResult } from './index.ts';
import { jwksOf, makeKey, request, signJwt, withAlg } from './testing.ts';

const NOW_S = 1_800_000_000;
const ISS = 'https://issuer.example';
const rsa = makeKey('RS256', 'r1');
const keys = [rsa, withAlg(rsa, 'RS384'), withAlg(rsa, 'RS512'), withAlg(rsa, 'PS256'), makeKey('ES256'), makeKey('ES384'), makeKey('EdDSA')];
const other = makeKey('ES256', 'other');
const JWKS = jwksOf(...keys);
const WEB = 'shop/web.shop.svc.cluster.local';

const policy = (rules: JwtRule[], target: JwtPolicy['target'] = { all: true }, name = 'ra'): JwtPolicy => ({ namespace: 'shop', name, target, rules });
const basic: JwtRule = { issuer: ISS, jwks: JWKS };
const claims = (extra: Record<string, unknown> = {}) => ({ iss: ISS, sub: 'alice', exp: NOW_S + 300, ...extra });
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const token = (extra: Record<string, unknown> = {}, k = rsa) => signJwt(k, claims(extra));

function fixedAuthenticator() {
  return createAuthenticator({ log: silent, now: () => NOW_S * 1000, fetchJwks: () => Promise.reject(new Error('no fetch in this test')) });
}

type Case = {
  name: string;
  policies: JwtPolicy[];
  req: RequestInfo;
  /** Expected failure body; absent: success. */
  fail?: string;
  status?: number;
  principal?: string | null;
  set?: Record<string, string>;
  removed?: string[];
};

const cases: Case[] = [
  { name: 'no policies: nothing to do', policies: [], req: request({ headers: bearer('garbage') }), principal: null, removed: [] },
  { name: 'no token: passes unauthenticated', policies: [policy([basic])], req: request(), principal: null, removed: [] },
  ...keys.map((k): Case => ({
    name: `valid ${k.alg}: principal iss/sub, token header removed`, policies: [policy([basic])],
    req: request({ headers: bearer(token({}, k)) }), principal: `${ISS}/alice`, removed: ['authorization'], set: {},
  })),
  { name: 'tampered signature', policies: [policy([basic])], req: request({ headers: bearer(token().slice(0, -4) + 'AAAA') }), fail: 'Jwt verification fails' },
  { name: 'signed by a key not in the JWKS', policies: [policy([basic])], req: request({ headers: bearer(signJwt({ ...other, kid: 'es256' }, claims())) }), fail: 'Jwt verification fails' },
  { name: 'unknown kid', policies: [policy([basic])], req: request({ headers: bearer(token({}, other)) }), fail: "Jwks doesn't have key to match kid or alg from Jwt" },
  { name: 'expired beyond the 60 s skew', policies: [policy([basic])], req: request({ headers: bearer(token({ exp: NOW_S - 61 })) }), fail: 'Jwt is expired' },
  { name: 'expired within the skew', policies: [policy([basic])], req: request({ headers: bearer(token({ exp: NOW_S - 59 })) }), principal: `${ISS}/alice` },
  { name: 'not yet valid', policies: [policy([basic])], req: request({ headers: bearer(token({ nbf: NOW_S + 120 })) }), fail: 'Jwt not yet valid' },
  { name: 'no exp never expires', policies: [policy([basic])], req: request({ headers: bearer(signJwt(rsa, { iss: ISS, sub: 'bob' })) }), principal: `${ISS}/bob` },
  { name: 'issuer not configured', policies: [policy([basic])], req: request({ headers: bearer(token({ iss: 'https://evil.example' })) }), fail: 'Jwt issuer is not configured' },
  { name: 'audience not allowed → 403', policies: [policy([{ ...basic, audiences: ['api'] }])], req: request({ headers: bearer(token({ aud: 'web' })) }), fail: 'Audiences in Jwt are not allowed', status: 403 },
  { name: 'audience allowed (normalised)', policies: [policy([{ ...basic, audiences: ['https://api/'] }])], req: request({ headers: bearer(token({ aud: ['x', 'api'] })) }), principal: `${ISS}/alice` },
  { name: 'malformed token', policies: [policy([basic])], req: request({ headers: bearer('abc.def') }), fail: 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections' },
  { name: 'alg none', policies: [policy([basic])], req: request({ headers: bearer(`${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}.x`) }), fail: 'Jwt header [alg] is not supported' },
  { name: 'lower-case bearer is not the Bearer prefix (Envoy is case-sensitive)', policies: [policy([basic])], req: request({ headers: { authorization: `bearer ${token()}` } }), principal: null },
  { name: 'token after other text in the header', policies: [policy([basic])], req: request({ headers: { authorization: `Foo, Bearer ${token()}; x=1` } }), principal: `${ISS}/alice` },
  { name: 'default access_token query parameter', policies: [policy([basic])], req: request({ query: `a=1&access_token=${token()}` }), principal: `${ISS}/alice`, removed: [] },
  {
    name: 'forwardOriginalToken keeps the header', policies: [policy([{ ...basic, forwardOriginalToken: true }])],
    req: request({ headers: bearer(token()) }), principal: `${ISS}/alice`, removed: [],
  },
  {
    name: 'custom header location with prefix; the default location is then not used', policies: [policy([{ ...basic, fromHeaders: [{ name: 'x-jwt', prefix: 'Token ' }] }])],
    req: request({ headers: { 'x-jwt': `Token ${token()}`, authorization: 'Bearer garbage' } }), principal: `${ISS}/alice`, removed: ['x-jwt'],
  },
  {
    name: 'custom header without prefix takes the whole value', policies: [policy([{ ...basic, fromHeaders: [{ name: 'x-jwt' }] }])],
    req: request({ headers: { 'x-jwt': `Bearer ${token()}` } }), fail: 'Jwt header is an invalid Base64url encoded',
  },
  {
    name: 'custom query parameter', policies: [policy([{ ...basic, fromParams: ['jwt'] }])],
    req: request({ query: `jwt=${token()}` }), principal: `${ISS}/alice`,
  },
  {
    name: 'claims and payload to headers; forged values stripped', policies: [policy([{
      ...basic, outputPayloadToHeader: 'x-payload',
      outputClaimToHeaders: [
        { header: 'x-sub', claim: 'sub' }, { header: 'x-n', claim: 'n' }, { header: 'x-admin', claim: 'admin' },
        { header: 'x-team', claim: 'org.team' }, { header: 'x-groups', claim: 'groups' }, { header: 'x-missing', claim: 'nope' },
      ],
    }])],
    req: request({ headers: { ...bearer(signJwt(rsa, { iss: ISS, sub: 'alice', n: 42, admin: true, org: { team: 'blue' }, groups: ['a', 'b'] })), 'x-missing': 'forged', 'x-sub': 'forged' } }),
    principal: `${ISS}/alice`,
    set: {
      'x-payload': Buffer.from(JSON.stringify({ iss: ISS, sub: 'alice', n: 42, admin: true, org: { team: 'blue' }, groups: ['a', 'b'] })).toString('base64url'),
      'x-sub': 'alice', 'x-n': '42', 'x-admin': 'true', 'x-team': 'blue', 'x-groups': Buffer.from('["a","b"]').toString('base64'),
    },
    removed: ['x-missing', 'authorization'],
  },
  {
    name: 'no token still strips forged output headers', policies: [policy([{ ...basic, outputClaimToHeaders: [{ header: 'x-sub', claim: 'sub' }], outputPayloadToHeader: 'x-payload' }])],
    req: request({ headers: { 'x-sub': 'forged' } }), principal: null, removed: ['x-sub', 'x-payload'],
  },
  {
    name: 'policy for another service does not apply', policies: [policy([basic], { services: ['shop/api.shop.svc.cluster.local'] })],
    req: request({ headers: bearer('garbage') }), principal: null, removed: [],
  },
  {
    name: 'policy for this service applies', policies: [policy([basic], { services: [WEB] })],
    req: request({ headers: bearer('garbage') }), fail: 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections',
  },
  {
    name: 'CORS preflight bypasses authentication', policies: [policy([basic])],
    req: request({ method: 'OPTIONS', headers: { ...bearer('garbage'), origin: 'https://app', 'access-control-request-method': 'POST' } }), principal: null,
  },
  {
    name: 'two issuers: each token checked by its own rule', policies: [policy([basic]), policy([{ issuer: 'https://other.example', jwks: jwksOf(other) }], { all: true }, 'rb')],
    req: request({ headers: bearer(signJwt(other, claims({ iss: 'https://other.example', sub: 'carol' }))) }), principal: 'https://other.example/carol',
  },
  {
    name: 'same issuer in two policies: either audience is accepted', policies: [policy([{ ...basic, audiences: ['a'] }]), policy([{ ...basic, audiences: ['b'] }], { all: true }, 'rb')],
    req: request({ headers: bearer(token({ aud: 'b' })) }), principal: `${ISS}/alice`,
  },
  {
    name: 'a valid and an invalid token: rejected', policies: [policy([{ ...basic, fromHeaders: [{ name: 'x-a' }, { name: 'x-b' }] }])],
    req: request({ headers: { 'x-a': token(), 'x-b': token({ exp: 1 }) } }), fail: 'Jwt is expired',
  },
  {
    name: 'issuer-less rule accepts any issuer with its keys', policies: [policy([{ issuer: '', jwks: JWKS }])],
    req: request({ headers: bearer(token({ iss: 'https://anyone.example' })) }), principal: 'https://anyone.example/alice',
  },
];

test('authenticate: table', async () => {
  const authn = fixedAuthenticator();
  for (const c of cases) {
    const r = await authn.authenticate(c.policies, c.req);
    if (c.fail) {
      assert.equal(r.ok, false, c.name);
      const f = r as Extract<AuthnResult, { ok: false }>;
      assert.equal(f.message, c.fail, c.name);
      assert.equal(f.status, c.status ?? 401, c.name);
      continue;
    }
    assert.equal(r.ok, true, `${c.name}: ${JSON.stringify(r)}`);
    const ok = r as Extract<AuthnResult, { ok: true }>;
    if (c.principal !== undefined) assert.equal(ok.auth?.principal ?? null, c.principal, c.name);
    if (c.set) assert.deepEqual(ok.setHeaders, c.set, c.name);
    if (c.removed) assert.deepEqual([...ok.removeHeaders].sort(), [...c.removed].sort(), c.name);
  }
  assert.ok(cases.length >= 25);
});

test('authenticate: claims split scope and permission; failures carry WWW-Authenticate', async () => {
  const authn = fixedAuthenticator();
  const ok = await authn.authenticate([policy([basic])], request({ headers: bearer(token({ scope: 'read  write', permission: 'x', groups: ['g'] })) }));
  assert.ok(ok.ok);
  assert.deepEqual(ok.auth?.claims, { ...claims({ scope: ['read', 'write'], permission: ['x'], groups: ['g'] }) });
  const bad = await authn.authenticate([policy([basic])], request({ path: '/a', query: 'b=1', headers: bearer(token({ exp: 5 })) }));
  assert.deepEqual(bad, {
    ok: false, status: 401, message: 'Jwt is expired',
    wwwAuthenticate: 'Bearer realm="http://web.shop.svc.cluster.local/a?b=1", error="invalid_token"',
  });
});

// ---- remote key sets from a loopback server ----

interface JwksServer {
  url: string;
  hits: Map<string, number>;
  body: Map<string, string>;
  close(): Promise<void>;
}

async function jwksServer(): Promise<JwksServer> {
  const hits = new Map<string, number>();
  const body = new Map<string, string>();
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const b = body.get(path);
    if (b === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(b);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url, hits, body,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

test('jwksUri: fetched once, cached, refreshed in the background, refetched for a rotated kid at most once a minute', async (t) => {
  const srv = await jwksServer();
  t.after(() => srv.close());
  let nowMs = NOW_S * 1000;
  const authn = createAuthenticator({ log: silent, now: () => nowMs, refreshMs: 600_000 });
  const k1 = makeKey('ES256', 'k1');
  const k2 = makeKey('ES256', 'k2');
  const k3 = makeKey('ES256', 'k3');
  srv.body.set('/jwks', jwksOf(k1));
  const pol = [policy([{ issuer: ISS, jwksUri: `${srv.url}/jwks` }])];
  const withKey = (k: typeof k1) => request({ headers: bearer(signJwt(k, claims({ exp: NOW_S + 86_400 }))) });

  for (let i = 0; i < 5; i++) assert.equal((await authn.authenticate(pol, withKey(k1))).ok, true);
  assert.equal(srv.hits.get('/jwks'), 1, 'one fetch for five requests');

  // The issuer rotates to k2: the unknown kid triggers one refetch.
  srv.body.set('/jwks', jwksOf(k2));
  assert.equal((await authn.authenticate(pol, withKey(k2))).ok, true);
  assert.equal(srv.hits.get('/jwks'), 2);
  // Another unknown kid within the minute: no refetch, and the request fails.
  srv.body.set('/jwks', jwksOf(k2, k3));
  const r = await authn.authenticate(pol, withKey(k3));
  assert.deepEqual(r.ok ? r : r.message, "Jwks doesn't have key to match kid or alg from Jwt");
  assert.equal(srv.hits.get('/jwks'), 2);
  // A minute later it may refetch.
  nowMs += 61_000;
  assert.equal((await authn.authenticate(pol, withKey(k3))).ok, true);
  assert.equal(srv.hits.get('/jwks'), 3);

  // After refreshMs the old set is served while a background fetch replaces it.
  srv.body.set('/jwks', jwksOf(k3));
  nowMs += 600_000;
  assert.equal((await authn.authenticate(pol, withKey(k2))).ok, true, 'stale keys still served during refresh');
  await eventually(() => srv.hits.get('/jwks') === 4, 5_000, 10);
  await eventually(async () => !(await authn.authenticate(pol, withKey(k2))).ok, 5_000, 10);
});

test('jwksUri: server down → 401 Jwks remote fetch is failed, and later recovery', async (t) => {
  const srv = await jwksServer();
  t.after(() => srv.close());
  let nowMs = NOW_S * 1000;
  const authn = createAuthenticator({ log: silent, now: () => nowMs });
  const k = makeKey('ES256', 'k');
  const pol = [policy([{ issuer: ISS, jwksUri: `${srv.url}/jwks` }])];
  const req = request({ headers: bearer(signJwt(k, claims())) });
  const r = await authn.authenticate(pol, req);
  assert.deepEqual(r, { ok: false, status: 401, message: 'Jwks remote fetch is failed', wwwAuthenticate: 'Bearer realm="http://web.shop.svc.cluster.local/api", error="invalid_token"' });
  // Failing fast: no second fetch right away.
  assert.equal((await authn.authenticate(pol, req)).ok, false);
  assert.equal(srv.hits.get('/jwks'), 1);
  // No token at all still passes while keys are unavailable.
  assert.equal((await authn.authenticate(pol, request())).ok, true);
  srv.body.set('/jwks', jwksOf(k));
  nowMs += 10_000;
  assert.equal((await authn.authenticate(pol, req)).ok, true);
});

test('issuer without keys: jwks_uri from OpenID discovery', async (t) => {
  const srv = await jwksServer();
  t.after(() => srv.close());
  const k = makeKey('RS256', 'd1');
  const issuer = `${srv.url}/realm`;
  srv.body.set('/realm/.well-known/openid-configuration', JSON.stringify({ issuer, jwks_uri: `${srv.url}/realm/certs` }));
  srv.body.set('/realm/certs', jwksOf(k));
  const authn = createAuthenticator({ log: silent });
  const r = await authn.authenticate([policy([{ issuer }])], request({ headers: bearer(signJwt(k, { iss: issuer, sub: 'svc', exp: Math.floor(Date.now() / 1000) + 60 })) }));
  assert.equal(r.ok && r.auth?.principal, `${issuer}/svc`);
  assert.equal(srv.hits.get('/realm/.well-known/openid-configuration'), 1);
});
