// Table tests for RequestAuthentication on waypoints: the verdict (Istio's validation plus our unsupported fields)
// and which waypoint gets which JwtPolicy (Istio's targetRef attachment; selectors never attach to waypoints).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { validateRequestAuthentication, waypointJwtPolicies, type WaypointPolicyContext } from './authn.ts';
import type { KubeObject } from './verdict.ts';

const ra = (namespace: string, spec: unknown, name = 'ra'): KubeObject => ({
  apiVersion: 'security.istio.io/v1', kind: 'RequestAuthentication', metadata: { namespace, name, generation: 3 }, spec,
});
const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
const JWKS = JSON.stringify({ keys: [{ ...jwk, kid: 'k1', alg: 'ES256' }] });
const gwRef = { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint' };
const rule = { issuer: 'https://issuer.example', jwksUri: 'https://issuer.example/jwks.json' };

test('validateRequestAuthentication: accepted objects', () => {
  const cases: Array<{ name: string; spec: unknown }> = [
    { name: 'jwksUri', spec: { targetRefs: [gwRef], jwtRules: [rule] } },
    { name: 'inline jwks', spec: { targetRefs: [gwRef], jwtRules: [{ issuer: 'a', jwks: JWKS }] } },
    { name: 'jwksUri without issuer (Istio ≥1.22)', spec: { targetRefs: [gwRef], jwtRules: [{ jwksUri: 'http://keys.svc:8080/jwks' }] } },
    { name: 'both jwks and jwksUri (inline wins)', spec: { targetRefs: [gwRef], jwtRules: [{ ...rule, jwks: JWKS }] } },
    { name: 'issuer only (keys by discovery)', spec: { targetRefs: [gwRef], jwtRules: [{ issuer: 'https://accounts.example' }] } },
    { name: 'legacy targetRef to a Service', spec: { targetRef: { kind: 'Service', name: 'web' }, jwtRules: [rule] } },
    { name: 'core group Service', spec: { targetRefs: [{ group: 'core', kind: 'Service', name: 'web' }], jwtRules: [rule] } },
    { name: 'selector (ztunnel scope, not for waypoints, still valid)', spec: { selector: { matchLabels: { app: 'web' } }, jwtRules: [rule] } },
    { name: 'empty spec', spec: undefined },
    {
      name: 'every supported field', spec: {
        targetRefs: [gwRef], jwtRules: [{
          ...rule, audiences: ['a', 'b'], fromHeaders: [{ name: 'x-jwt', prefix: 'Bearer ' }], fromParams: ['token'],
          outputClaimToHeaders: [{ header: 'x-sub', claim: 'sub' }], outputPayloadToHeader: 'x-payload', forwardOriginalToken: true, timeout: '5s',
        }],
      },
    },
  ];
  for (const c of cases) {
    const v = validateRequestAuthentication(ra('shop', c.spec));
    assert.deepEqual(v, { kind: 'RequestAuthentication', namespace: 'shop', name: 'ra', generation: 3, accepted: true, reason: 'Accepted', message: '' }, c.name);
  }
});

test('validateRequestAuthentication: rejections name the field', () => {
  const cases: Array<{ name: string; spec: unknown; field: string; reason?: string }> = [
    { name: 'no issuer nor jwksUri', spec: { targetRefs: [gwRef], jwtRules: [{ jwks: JWKS }] }, field: 'spec.jwtRules[0].issuer' },
    { name: 'jwksUri scheme', spec: { targetRefs: [gwRef], jwtRules: [{ issuer: 'a', jwksUri: 'ftp://x/jwks' }] }, field: 'spec.jwtRules[0].jwksUri' },
    { name: 'jwksUri not a URL', spec: { targetRefs: [gwRef], jwtRules: [{ issuer: 'a', jwksUri: 'keys.json' }] }, field: 'spec.jwtRules[0].jwksUri' },
    { name: 'jwks not JSON', spec: { targetRefs: [gwRef], jwtRules: [{ issuer: 'a', jwks: '{nope' }] }, field: 'spec.jwtRules[0].jwks' },
    { name: 'jwks without keys', spec: { targetRefs: [gwRef], jwtRules: [{ issuer: 'a', jwks: '{"keys":[]}' }] }, field: 'spec.jwtRules[0].jwks' },
    { name: 'jwks with a bad RSA key', spec: { targetRefs: [gwRef], jwtRules: [{ issuer: 'a', jwks: '{"keys":[{"kty":"RSA","n":"!!","e":"AQAB"}]}' }] }, field: 'spec.jwtRules[0].jwks.keys[0].n' },
    { name: 'jwks with a bad EC point', spec: { targetRefs: [gwRef], jwtRules: [{ issuer: 'a', jwks: '{"keys":[{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}]}' }] }, field: 'spec.jwtRules[0].jwks.keys[0]' },
    { name: 'jwks with an oct key', spec: { targetRefs: [gwRef], jwtRules: [{ issuer: 'a', jwks: '{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}' }] }, field: 'spec.jwtRules[0].jwks.keys[0]' },
    { name: 'empty audience', spec: { targetRefs: [gwRef], jwtRules: [{ ...rule, audiences: [''] }] }, field: 'spec.jwtRules[0].audiences[0]' },
    { name: 'fromHeaders without name', spec: { targetRefs: [gwRef], jwtRules: [{ ...rule, fromHeaders: [{ prefix: 'x' }] }] }, field: 'spec.jwtRules[0].fromHeaders[0].name' },
    { name: 'fromHeaders bad name', spec: { targetRefs: [gwRef], jwtRules: [{ ...rule, fromHeaders: [{ name: 'x jwt' }] }] }, field: 'spec.jwtRules[0].fromHeaders[0].name' },
    { name: 'empty fromParams', spec: { targetRefs: [gwRef], jwtRules: [{ ...rule, fromParams: [''] }] }, field: 'spec.jwtRules[0].fromParams[0]' },
    { name: 'claim header invalid', spec: { targetRefs: [gwRef], jwtRules: [{ ...rule, outputClaimToHeaders: [{ header: 'x:y', claim: 'sub' }] }] }, field: 'spec.jwtRules[0].outputClaimToHeaders[0].header' },
    { name: 'claim header reserved', spec: { targetRefs: [gwRef], jwtRules: [{ ...rule, outputClaimToHeaders: [{ header: 'Host', claim: 'sub' }] }] }, field: 'spec.jwtRules[0].outputClaimToHeaders[0].header' },
    { name: 'claim empty', spec: { targetRefs: [gwRef], jwtRules: [{ ...rule, outputClaimToHeaders: [{ header: 'x-a', claim: '' }] }] }, field: 'spec.jwtRules[0].outputClaimToHeaders[0]' },
    { name: 'bad timeout', spec: { targetRefs: [gwRef], jwtRules: [{ ...rule, timeout: 'soon' }] }, field: 'spec.jwtRules[0].timeout' },
    { name: 'unknown rule field', spec: { targetRefs: [gwRef], jwtRules: [{ ...rule, issuers: ['x'] }] }, field: 'spec.jwtRules[0].issuers' },
    { name: 'selector and targetRefs', spec: { selector: { matchLabels: { a: 'b' } }, targetRefs: [gwRef], jwtRules: [rule] }, field: 'spec' },
    { name: 'targetRef with namespace', spec: { targetRefs: [{ ...gwRef, namespace: 'other' }], jwtRules: [rule] }, field: 'spec.targetRefs[0].namespace' },
    { name: 'targetRef unsupported kind', spec: { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'r' }], jwtRules: [rule] }, field: 'spec.targetRefs[0]' },
    { name: 'Gateway with the wrong group', spec: { targetRefs: [{ kind: 'Gateway', name: 'w' }], jwtRules: [rule] }, field: 'spec.targetRefs[0]' },
    { name: 'fromCookies is unsupported', spec: { targetRefs: [gwRef], jwtRules: [{ ...rule, fromCookies: ['session'] }] }, field: 'spec.jwtRules[0].fromCookies', reason: 'UnsupportedValue' },
    { name: 'spaceDelimitedClaims is unsupported', spec: { targetRefs: [gwRef], jwtRules: [{ ...rule, spaceDelimitedClaims: ['roles'] }] }, field: 'spec.jwtRules[0].spaceDelimitedClaims', reason: 'UnsupportedValue' },
  ];
  for (const c of cases) {
    const v = validateRequestAuthentication(ra('shop', c.spec));
    assert.equal(v.accepted, false, c.name);
    assert.equal(v.reason, c.reason ?? 'Invalid', c.name);
    assert.ok(v.message.startsWith(`${c.field}: `), `${c.name}: ${v.message}`);
  }
});

const ctx: WaypointPolicyContext = {
  rootNamespace: 'istio-system',
  waypoint: { namespace: 'shop', name: 'waypoint', podLabels: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' } },
  boundServices: [
    { key: 'shop/web.shop.svc.cluster.local', namespace: 'shop', name: 'web' },
    { key: 'shop/api.shop.svc.cluster.local', namespace: 'shop', name: 'api' },
    { key: 'shop/ext.example.com', namespace: 'shop', name: 'ext', kind: 'ServiceEntry' },
  ],
};

test('waypointJwtPolicies: attachment follows Istio for waypoints', () => {
  const svc = (name: string, group = '') => ({ group, kind: 'Service', name });
  const cases: Array<{ name: string; obj: KubeObject; target?: unknown }> = [
    { name: 'Gateway ref to this waypoint', obj: ra('shop', { targetRefs: [gwRef], jwtRules: [rule] }), target: { all: true } },
    { name: 'Gateway ref to another waypoint', obj: ra('shop', { targetRefs: [{ ...gwRef, name: 'other' }], jwtRules: [rule] }) },
    { name: 'Gateway ref from another namespace', obj: ra('web', { targetRefs: [gwRef], jwtRules: [rule] }) },
    { name: 'GatewayClass istio-waypoint from the root namespace', obj: ra('istio-system', { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'GatewayClass', name: 'istio-waypoint' }], jwtRules: [rule] }), target: { all: true } },
    { name: 'GatewayClass from another namespace', obj: ra('shop', { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'GatewayClass', name: 'istio-waypoint' }], jwtRules: [rule] }) },
    { name: 'GatewayClass of another name', obj: ra('istio-system', { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'GatewayClass', name: 'istio' }], jwtRules: [rule] }) },
    { name: 'bound Service', obj: ra('shop', { targetRefs: [svc('web')], jwtRules: [rule] }), target: { services: ['shop/web.shop.svc.cluster.local'] } },
    { name: 'two bound Services, sorted', obj: ra('shop', { targetRefs: [svc('web'), svc('api', 'core')], jwtRules: [rule] }), target: { services: ['shop/api.shop.svc.cluster.local', 'shop/web.shop.svc.cluster.local'] } },
    { name: 'unbound Service', obj: ra('shop', { targetRefs: [svc('db')], jwtRules: [rule] }) },
    { name: 'Service ref does not match a ServiceEntry of that name', obj: ra('shop', { targetRefs: [svc('ext')], jwtRules: [rule] }) },
    { name: 'ServiceEntry ref', obj: ra('shop', { targetRefs: [{ group: 'networking.istio.io', kind: 'ServiceEntry', name: 'ext' }], jwtRules: [rule] }), target: { services: ['shop/ext.example.com'] } },
    { name: 'Service and Gateway → all', obj: ra('shop', { targetRefs: [svc('web'), gwRef], jwtRules: [rule] }), target: { all: true } },
    { name: 'selector matching the waypoint pods (Istio: never for waypoints)', obj: ra('shop', { selector: { matchLabels: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' } }, jwtRules: [rule] }) },
    { name: 'namespace-wide (no selector, no targetRefs)', obj: ra('shop', { jwtRules: [rule] }) },
    { name: 'root namespace mesh-wide', obj: ra('istio-system', { jwtRules: [rule] }) },
    { name: 'invalid object is left out', obj: ra('shop', { targetRefs: [gwRef], jwtRules: [{ jwksUri: 'ftp://x' }] }) },
    { name: 'no rules: nothing to enforce', obj: ra('shop', { targetRefs: [gwRef] }) },
  ];
  for (const c of cases) {
    const out = waypointJwtPolicies([c.obj], ctx);
    if (c.target === undefined) assert.deepEqual(out, [], c.name);
    else assert.deepEqual(out.map((p) => p.target), [c.target], c.name);
  }
});

test('waypointJwtPolicies: rules are normalised and policies sorted', () => {
  const objs = [
    ra('shop', { targetRefs: [gwRef], jwtRules: [{ ...rule, jwks: JWKS, fromHeaders: [{ name: 'X-JWT', prefix: '' }], outputClaimToHeaders: [{ header: 'X-Sub', claim: 'sub' }], forwardOriginalToken: false }] }, 'b'),
    ra('shop', { targetRefs: [gwRef], jwtRules: [{ ...rule, audiences: ['aud'], fromParams: ['t'], outputPayloadToHeader: 'X-Payload', forwardOriginalToken: true }] }, 'a'),
  ];
  assert.deepEqual(waypointJwtPolicies(objs, ctx), [
    {
      namespace: 'shop', name: 'a', target: { all: true },
      rules: [{ issuer: rule.issuer, audiences: ['aud'], jwksUri: rule.jwksUri, fromParams: ['t'], outputPayloadToHeader: 'x-payload', forwardOriginalToken: true }],
    },
    {
      namespace: 'shop', name: 'b', target: { all: true },
      rules: [{ issuer: rule.issuer, jwks: JWKS, fromHeaders: [{ name: 'x-jwt' }], outputClaimToHeaders: [{ header: 'x-sub', claim: 'sub' }] }],
    },
  ]);
});
