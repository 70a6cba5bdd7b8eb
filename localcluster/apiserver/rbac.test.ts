import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allows, forbiddenMessage, isRbacSubject, type RbacObjects, type RequestAttributes } from './rbac.ts';
import type { UserInfo } from './auth.ts';

const sa = (ns: string, name: string): UserInfo => ({ username: `system:serviceaccount:${ns}:${name}`, uid: 'u', groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'], extra: {} });
const rbac: RbacObjects = {
  clusterRoles: [
    { metadata: { name: 'reader' }, rules: [{ apiGroups: [''], resources: ['pods', 'namespaces'], verbs: ['get', 'list', 'watch'] }] },
    { metadata: { name: 'status' }, rules: [{ apiGroups: ['networking.istio.io'], resources: ['*/status'], verbs: ['update', 'patch'] }] },
    { metadata: { name: 'named' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'], resourceNames: ['only-this'] }] },
    { metadata: { name: 'all' }, rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] },
  ],
  roles: [{ metadata: { name: 'secrets', namespace: 'istio-system' }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'create'] }] }],
  clusterRoleBindings: [
    { metadata: {}, roleRef: { kind: 'ClusterRole', name: 'reader' }, subjects: [{ kind: 'ServiceAccount', name: 'ztunnel', namespace: 'istio-system' }] },
    { metadata: {}, roleRef: { kind: 'ClusterRole', name: 'status' }, subjects: [{ kind: 'Group', name: 'system:serviceaccounts:istio-system' }] },
    { metadata: {}, roleRef: { kind: 'ClusterRole', name: 'named' }, subjects: [{ kind: 'User', name: 'system:serviceaccount:a:b' }] },
  ],
  roleBindings: [
    { metadata: { namespace: 'istio-system' }, roleRef: { kind: 'Role', name: 'secrets' }, subjects: [{ kind: 'ServiceAccount', name: 'istiod' }] },
    { metadata: { namespace: 'team' }, roleRef: { kind: 'ClusterRole', name: 'all' }, subjects: [{ kind: 'ServiceAccount', name: 'admin', namespace: 'team' }] },
  ],
};
const req = (verb: string, resource: string, o: Partial<RequestAttributes> = {}): RequestAttributes => ({ verb, apiGroup: '', resource, ...o });

test('allows: bindings, groups, namespaces, subresources, resource names, wildcards (table)', () => {
  const rows: [string, UserInfo, RequestAttributes, boolean][] = [
    ['clusterrole read', sa('istio-system', 'ztunnel'), req('list', 'pods'), true],
    ['clusterrole read in a namespace', sa('istio-system', 'ztunnel'), req('get', 'pods', { namespace: 'x', name: 'p' }), true],
    ['no write', sa('istio-system', 'ztunnel'), req('patch', 'pods', { namespace: 'x', name: 'p' }), false],
    ['other resource', sa('istio-system', 'ztunnel'), req('list', 'secrets'), false],
    ['other SA', sa('default', 'ztunnel'), req('list', 'pods'), false],
    ['group binding, */status', sa('istio-system', 'anything'), req('patch', 'virtualservices', { apiGroup: 'networking.istio.io', subresource: 'status', namespace: 'n', name: 'v' }), true],
    ['*/status is not the main resource', sa('istio-system', 'anything'), req('patch', 'virtualservices', { apiGroup: 'networking.istio.io', namespace: 'n', name: 'v' }), false],
    ['pods/status is not pods', sa('istio-system', 'ztunnel'), req('get', 'pods', { subresource: 'status', namespace: 'n', name: 'p' }), false],
    ['role in its namespace (subject namespace defaults to the binding\'s)', sa('istio-system', 'istiod'), req('create', 'secrets', { namespace: 'istio-system' }), true],
    ['role elsewhere', sa('istio-system', 'istiod'), req('create', 'secrets', { namespace: 'default' }), false],
    ['role at cluster scope', sa('istio-system', 'istiod'), req('list', 'secrets'), false],
    ['resourceNames match', sa('a', 'b'), req('get', 'configmaps', { namespace: 'n', name: 'only-this' }), true],
    ['resourceNames miss', sa('a', 'b'), req('get', 'configmaps', { namespace: 'n', name: 'other' }), false],
    ['resourceNames never allow list', sa('a', 'b'), req('list', 'configmaps', { namespace: 'n' }), false],
    ['clusterrole through a rolebinding: its namespace only', sa('team', 'admin'), req('delete', 'deployments', { apiGroup: 'apps', namespace: 'team', name: 'd' }), true],
    ['… not another namespace', sa('team', 'admin'), req('delete', 'deployments', { apiGroup: 'apps', namespace: 'prod', name: 'd' }), false],
  ];
  for (const [name, user, a, want] of rows) assert.equal(allows(user, a, rbac), want, name);
});

test('only service accounts are subject to RBAC; the refusal names the verb, resource, group and namespace', () => {
  assert.equal(isRbacSubject(sa('a', 'b')), true);
  assert.equal(isRbacSubject({ username: 'admin', uid: '', groups: ['system:masters'], extra: {} }), false);
  assert.equal(forbiddenMessage(sa('istio-system', 'ztunnel'), req('create', 'pods', { namespace: 'x' })),
    'pods is forbidden: User "system:serviceaccount:istio-system:ztunnel" cannot create resource "pods" in API group "" in the namespace "x"; grant it in a Role or ClusterRole bound to the service account');
});
