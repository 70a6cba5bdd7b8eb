// Table test for the ReferenceGrant decision: same namespace, grants by kind, namespace and name, the core group.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../verdict.ts';
import { referenceAllowed } from './reference-grant.ts';

const GW = 'gateway.networking.k8s.io';
function grant(namespace: string, from: object[], to: object[], name = 'g'): KubeObject {
  return { apiVersion: `${GW}/v1beta1`, kind: 'ReferenceGrant', metadata: { namespace, name }, spec: { from, to } };
}
const fromRoutes = (kind = 'HTTPRoute', namespace = 'default') => ({ group: GW, kind, namespace });
const services = (extra: object = {}) => ({ group: '', kind: 'Service', ...extra });

test('referenceAllowed: same namespace always; across namespaces only with a matching ReferenceGrant in the referent\'s', () => {
  const http = { kind: 'HTTPRoute', namespace: 'default' };
  const toShop = { namespace: 'shop', name: 'cart' };
  const cases: Array<[string, KubeObject[], { kind: string; namespace: string }, { namespace: string; name: string }, boolean]> = [
    ['same namespace, no grant', [], http, { namespace: 'default', name: 'cart' }, true],
    ['other namespace, no grant', [], http, toShop, false],
    ['grant for every Service', [grant('shop', [fromRoutes()], [services()])], http, toShop, true],
    ['grant naming the Service', [grant('shop', [fromRoutes()], [services({ name: 'cart' })])], http, toShop, true],
    ['grant naming another Service', [grant('shop', [fromRoutes()], [services({ name: 'orders' })])], http, toShop, false],
    ['empty name means every Service', [grant('shop', [fromRoutes()], [services({ name: '' })])], http, toShop, true],
    ['group absent means core', [grant('shop', [fromRoutes()], [{ kind: 'Service' }])], http, toShop, true],
    ['group spelled core', [grant('shop', [fromRoutes()], [services({ group: 'core' })])], http, toShop, true],
    ['to another group', [grant('shop', [fromRoutes()], [services({ group: 'example.com' })])], http, toShop, false],
    ['to another kind', [grant('shop', [fromRoutes()], [{ group: '', kind: 'Secret' }])], http, toShop, false],
    ['from another route kind', [grant('shop', [fromRoutes('GRPCRoute')], [services()])], http, toShop, false],
    ['from the right route kind', [grant('shop', [fromRoutes('GRPCRoute')], [services()])], { kind: 'GRPCRoute', namespace: 'default' }, toShop, true],
    ['TCPRoute', [grant('shop', [fromRoutes('TCPRoute')], [services()])], { kind: 'TCPRoute', namespace: 'default' }, toShop, true],
    ['from another namespace', [grant('shop', [fromRoutes('HTTPRoute', 'other')], [services()])], http, toShop, false],
    ['from another group', [grant('shop', [{ group: 'networking.istio.io', kind: 'HTTPRoute', namespace: 'default' }], [services()])], http, toShop, false],
    ['grant in the route\'s namespace does not count', [grant('default', [fromRoutes()], [services()])], http, toShop, false],
    ['grant in a third namespace does not count', [grant('other', [fromRoutes()], [services()])], http, toShop, false],
    ['one of several from and to entries', [grant('shop', [fromRoutes('TCPRoute'), fromRoutes()], [services({ name: 'x' }), services({ name: 'cart' })])], http, toShop, true],
    ['one of several grants', [
      grant('shop', [fromRoutes('GRPCRoute')], [services()], 'a'),
      grant('other', [fromRoutes()], [services()], 'b'),
      grant('shop', [fromRoutes()], [services({ name: 'cart' })], 'c'),
    ], http, toShop, true],
    ['several grants, none matching', [
      grant('shop', [fromRoutes('GRPCRoute')], [services()], 'a'),
      grant('shop', [fromRoutes()], [services({ name: 'orders' })], 'b'),
    ], http, toShop, false],
    ['malformed grant grants nothing', [{ metadata: { namespace: 'shop', name: 'bad' }, spec: { from: 'all', to: [null, 3] } }], http, toShop, false],
    ['grant without spec', [{ metadata: { namespace: 'shop', name: 'bad' } }], http, toShop, false],
  ];
  for (const [name, grants, from, to, want] of cases) assert.equal(referenceAllowed(grants, from, to), want, name);
});
