import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveResource, collectionPath, type ResourceInfo } from './discovery.ts';

const r = (group: string, kind: string, plural: string, shortNames: string[] = [], namespaced = true): ResourceInfo =>
  ({ group, version: group === '' ? 'v1' : 'v1', kind, plural, singular: kind.toLowerCase(), shortNames, namespaced });

const all = [
  r('', 'Pod', 'pods', ['po']),
  r('', 'Namespace', 'namespaces', ['ns'], false),
  r('apps', 'Deployment', 'deployments', ['deploy']),
  r('networking.istio.io', 'Gateway', 'gateways', ['gw']),
  r('gateway.networking.k8s.io', 'Gateway', 'gateways', ['gtw']),
  r('security.istio.io', 'AuthorizationPolicy', 'authorizationpolicies', ['ap']),
];

const cases: Array<[string, string, string]> = [
  ['po', '', 'Pod'],
  ['pods', '', 'Pod'],
  ['Pod', '', 'Pod'],
  ['deploy', 'apps', 'Deployment'],
  ['ap', 'security.istio.io', 'AuthorizationPolicy'],
  ['authorizationpolicy', 'security.istio.io', 'AuthorizationPolicy'],
  ['gateways', 'gateway.networking.k8s.io', 'Gateway'],
  ['gw', 'networking.istio.io', 'Gateway'],
  ['gateways.networking.istio.io', 'networking.istio.io', 'Gateway'],
];
for (const [typed, group, kind] of cases) {
  test(`resolves ${typed}`, () => {
    const got = resolveResource(all, typed);
    assert.equal(got.kind, kind);
    assert.equal(got.group, group);
  });
}

test('unknown kinds say so', () => {
  assert.throws(() => resolveResource(all, 'widgets'), /doesn't have a resource type "widgets"/);
});

test('collection paths for core, grouped and cluster-scoped kinds', () => {
  assert.equal(collectionPath(all[0]!, 'demo'), '/api/v1/namespaces/demo/pods');
  assert.equal(collectionPath(all[0]!, undefined), '/api/v1/pods');
  assert.equal(collectionPath(all[1]!, 'demo'), '/api/v1/namespaces');
  assert.equal(collectionPath(all[2]!, 'x'), '/apis/apps/v1/namespaces/x/deployments');
});
