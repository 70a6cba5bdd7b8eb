// URL parsing and discovery documents derived from the kind table.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiGroupList, openApiV3Doc, openApiV3Index, resourceList } from './discovery.ts';
import { parseResourcePath } from './http.ts';
import { KINDS } from './kinds.ts';

describe('resource paths', () => {
  const cases: [string, object | undefined][] = [
    ['/api/v1/pods', { group: '', version: 'v1', plural: 'pods' }],
    ['/api/v1/namespaces', { group: '', version: 'v1', plural: 'namespaces' }],
    ['/api/v1/namespaces/default', { group: '', version: 'v1', plural: 'namespaces', name: 'default' }],
    ['/api/v1/namespaces/default/status', { group: '', version: 'v1', plural: 'namespaces', name: 'default', sub: 'status' }],
    ['/api/v1/namespaces/default/pods', { group: '', version: 'v1', namespace: 'default', plural: 'pods' }],
    ['/api/v1/namespaces/default/pods/p/log', { group: '', version: 'v1', namespace: 'default', plural: 'pods', name: 'p', sub: 'log' }],
    ['/apis/apps/v1/namespaces/ns/deployments/d/scale', { group: 'apps', version: 'v1', namespace: 'ns', plural: 'deployments', name: 'd', sub: 'scale' }],
    ['/apis/security.istio.io/v1beta1/authorizationpolicies', { group: 'security.istio.io', version: 'v1beta1', plural: 'authorizationpolicies' }],
    ['/api/v1/namespaces/a/pods/p/log/extra', undefined],
    ['/apis/apps', undefined],
  ];
  for (const [path, want] of cases) it(path, () => assert.deepEqual(parseResourcePath(path), want));
});

describe('discovery', () => {
  it('every kind is listed at every version it serves, with its status subresource', () => {
    for (const k of KINDS) {
      for (const v of k.versions) {
        const list = resourceList(k.group, v)!;
        const names = list.resources.map((r: { name: string }) => r.name);
        assert.ok(names.includes(k.plural), `${k.plural} in ${k.group}/${v}`);
        assert.equal(names.includes(`${k.plural}/status`), k.status, `${k.plural}/status in ${k.group}/${v}`);
      }
    }
  });
  it('groups prefer their first version', () => {
    const istio = apiGroupList().groups.find((g: { name: string }) => g.name === 'networking.istio.io');
    assert.equal(istio.preferredVersion.version, 'v1');
    assert.deepEqual(istio.versions.map((v: { version: string }) => v.version), ['v1', 'v1beta1', 'v1alpha3']);
  });
  it('OpenAPI v3 has a document per group-version, declaring fieldValidation on PATCH', () => {
    for (const path of Object.keys(openApiV3Index().paths)) {
      const doc = openApiV3Doc(path)!;
      assert.ok(doc, path);
      for (const [p, ops] of Object.entries(doc.paths as Record<string, any>)) {
        if (p.endsWith('{name}')) assert.ok(ops.patch.parameters.some((x: { name: string }) => x.name === 'fieldValidation'), p);
      }
    }
  });
});
