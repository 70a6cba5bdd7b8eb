// Table tests for the pure JWT checks: parse errors in jwt_verify_lib's order, time with Envoy's 60 s skew,
// audience normalisation, JWKS parsing, and signatures of every supported algorithm.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { audienceAllowed, checkTime, parseJwks, parseJwt, verifySignature, type Jwks } from './jwt.ts';
import { jwksOf, makeKey, signJwt, withAlg } from './testing.ts';

const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const tok = (header: unknown, payload: unknown, sig = 'c2ln'): string => `${b64(header)}.${b64(payload)}.${sig}`;

test('parseJwt: errors in jwt_verify_lib order', () => {
  const cases: Array<{ name: string; token: string; error?: string }> = [
    { name: 'two parts', token: 'a.b', error: 'JwtBadFormat' },
    { name: 'empty section', token: `${b64({ alg: 'RS256' })}..c2ln`, error: 'JwtBadFormat' },
    { name: 'header not base64url', token: `a+b.${b64({})}.c2ln`, error: 'JwtHeaderParseErrorBadBase64' },
    { name: 'header not JSON', token: `${b64('nope')}.${b64({})}.c2ln`, error: 'JwtHeaderParseErrorBadJson' },
    { name: 'no alg', token: tok({ typ: 'JWT' }, {}), error: 'JwtHeaderBadAlg' },
    { name: 'alg none', token: tok({ alg: 'none' }, {}), error: 'JwtHeaderNotImplementedAlg' },
    { name: 'kid not a string', token: tok({ alg: 'RS256', kid: 7 }, {}), error: 'JwtHeaderBadKid' },
    { name: 'payload not JSON', token: `${b64({ alg: 'RS256' })}.${b64('x')}.c2ln`, error: 'JwtPayloadParseErrorBadJson' },
    { name: 'iss not a string', token: tok({ alg: 'RS256' }, { iss: 1 }), error: 'JwtPayloadParseErrorIssNotString' },
    { name: 'sub not a string', token: tok({ alg: 'RS256' }, { sub: [] }), error: 'JwtPayloadParseErrorSubNotString' },
    { name: 'exp not an integer', token: tok({ alg: 'RS256' }, { exp: 1.5 }), error: 'JwtPayloadParseErrorExpNotInteger' },
    { name: 'exp negative', token: tok({ alg: 'RS256' }, { exp: -1 }), error: 'JwtPayloadParseErrorExpOutOfRange' },
    { name: 'nbf a string', token: tok({ alg: 'RS256' }, { nbf: '1' }), error: 'JwtPayloadParseErrorNbfNotInteger' },
    { name: 'aud a number', token: tok({ alg: 'RS256' }, { aud: 3 }), error: 'JwtPayloadParseErrorAudNotString' },
    { name: 'signature not base64url', token: `${b64({ alg: 'RS256' })}.${b64({})}.a/b`, error: 'JwtSignatureParseErrorBadBase64' },
    { name: 'good', token: tok({ alg: 'ES256', kid: 'k' }, { iss: 'i', sub: 's', aud: ['a', 'b'], exp: 10, nbf: 5 }) },
  ];
  for (const c of cases) {
    const r = parseJwt(c.token);
    if (c.error) assert.deepEqual(r, { error: c.error }, c.name);
    else {
      assert.ok(!('error' in r), c.name);
      assert.deepEqual({ alg: r.alg, kid: r.kid, iss: r.iss, sub: r.sub, aud: r.audiences, exp: r.exp, nbf: r.nbf }, { alg: 'ES256', kid: 'k', iss: 'i', sub: 's', aud: ['a', 'b'], exp: 10, nbf: 5 });
    }
  }
});

test('checkTime: exp and nbf with 60 s skew; exp absent never expires', () => {
  const now = 1_000_000;
  const cases: Array<{ exp: number; nbf: number; want?: string }> = [
    { exp: 0, nbf: 0 },
    { exp: now - 60, nbf: 0 },
    { exp: now - 61, nbf: 0, want: 'JwtExpired' },
    { exp: 0, nbf: now + 60 },
    { exp: 0, nbf: now + 61, want: 'JwtNotYetValid' },
  ];
  for (const c of cases) assert.equal(checkTime(c, now), c.want, JSON.stringify(c));
});

test('audienceAllowed: empty config allows all; scheme and trailing slash ignored', () => {
  const cases: Array<{ cfg?: string[]; aud: string[]; want: boolean }> = [
    { aud: [], want: true },
    { cfg: [], aud: ['x'], want: true },
    { cfg: ['api'], aud: ['api'], want: true },
    { cfg: ['api'], aud: ['web', 'api'], want: true },
    { cfg: ['api'], aud: ['web'], want: false },
    { cfg: ['api'], aud: [], want: false },
    { cfg: ['https://api.example/'], aud: ['api.example'], want: true },
    { cfg: ['api.example'], aud: ['http://api.example'], want: true },
  ];
  for (const c of cases) assert.equal(audienceAllowed(c.cfg, c.aud), c.want, JSON.stringify(c));
});

test('parseJwks: errors, skipped keys, kid and alg kept', () => {
  const es = makeKey('ES256', 'e1');
  assert.deepEqual(parseJwks('nope'), { error: 'JwksParseError' });
  assert.deepEqual(parseJwks('{}'), { error: 'JwksNoKeys' });
  assert.deepEqual(parseJwks('{"keys":{}}'), { error: 'JwksBadKeys' });
  assert.deepEqual(parseJwks('{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}'), { error: 'JwksNoValidKeys' });
  const r = parseJwks(JSON.stringify({ keys: [{ kty: 'RSA', n: '', e: 'AQAB' }, { kty: 'oct', k: 'eA' }, es.jwk] }));
  assert.ok(!('error' in r));
  assert.deepEqual(r.keys.map((k) => [k.kty, k.kid, k.alg]), [['EC', 'e1', 'ES256']]);
});

test('verifySignature: every algorithm; kid/alg selection; tampering', () => {
  const rsa = makeKey('RS256');
  const keys = [rsa, withAlg(rsa, 'RS384'), withAlg(rsa, 'RS512'), withAlg(rsa, 'PS256'), withAlg(rsa, 'PS384'), withAlg(rsa, 'PS512'),
    makeKey('ES256'), makeKey('ES384'), makeKey('ES512'), makeKey('EdDSA')];
  const set = parseJwks(jwksOf(...keys)) as Jwks;
  for (const k of keys) {
    const jwt = parseJwt(signJwt(k, { iss: 'i', sub: 's' }));
    assert.ok(!('error' in jwt));
    assert.equal(verifySignature(jwt, set), undefined, k.alg);
    // A key without kid/alg is tried too.
    const bare = parseJwks(JSON.stringify({ keys: [{ ...k.jwk, kid: undefined, alg: undefined }] })) as Jwks;
    assert.equal(verifySignature(jwt, bare), undefined, `${k.alg} without kid`);
  }
  const es = keys[6]!;
  const good = signJwt(es, { iss: 'i', sub: 's' });
  const [h, , s] = good.split('.');
  const tampered = parseJwt(`${h}.${b64({ iss: 'i', sub: 'admin' })}.${s}`);
  assert.ok(!('error' in tampered));
  assert.equal(verifySignature(tampered, set), 'JwtVerificationFail');
  const unknownKid = parseJwt(signJwt({ ...es, kid: 'rotated' }, { iss: 'i' }));
  assert.ok(!('error' in unknownKid));
  assert.equal(verifySignature(unknownKid, set), 'JwksKidAlgMismatch');
  // An HS256 token against public keys that declare their alg: no key matches.
  const hs = parseJwt(tok({ alg: 'HS256', kid: 'es256' }, { iss: 'i' }));
  assert.ok(!('error' in hs));
  assert.equal(verifySignature(hs, set), 'JwksKidAlgMismatch');
  // EdDSA signature of the wrong size.
  const ed = parseJwt(tok({ alg: 'EdDSA', kid: 'eddsa' }, { iss: 'i' }, b64('short')));
  assert.ok(!('error' in ed));
  assert.equal(verifySignature(ed, set), 'JwtEd25519SignatureWrongLength');
});
