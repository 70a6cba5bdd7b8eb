// Service-account tokens: TokenRequest → TokenReview round trip, tampering, expiry, audiences, bearer auth, 401.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ApiServer } from './index.ts';
import { call, startTestServer, tempStateDir } from './testing.ts';

describe('service-account tokens', () => {
  const state = tempStateDir();
  let server: ApiServer;
  let podUid: string;
  before(async () => {
    server = await startTestServer(state.dir);
    await call(server, state.dir, 'POST', '/api/v1/namespaces/default/serviceaccounts', { body: { metadata: { name: 'app' } } });
    const pod = await call(server, state.dir, 'POST', '/api/v1/namespaces/default/pods', { body: { metadata: { name: 'p' }, spec: { serviceAccountName: 'app', containers: [{ name: 'c', image: 'i' }] } } });
    podUid = pod.body.metadata.uid;
  });
  after(async () => { await server.close(); state.cleanup(); });

  const review = (token: string, audiences?: string[]) => call(server, state.dir, 'POST', '/apis/authentication.k8s.io/v1/tokenreviews',
    { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, ...(audiences ? { audiences } : {}) } } });

  it('TokenRequest → TokenReview authenticates the service account and the bound pod', async () => {
    const tr = await call(server, state.dir, 'POST', '/api/v1/namespaces/default/serviceaccounts/app/token', {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: ['istio-ca'], expirationSeconds: 3600, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p', uid: podUid } } },
    });
    assert.equal(tr.status, 201, tr.text);
    assert.ok(Date.parse(tr.body.status.expirationTimestamp) > Date.now());
    const r = await review(tr.body.status.token, ['istio-ca']);
    assert.equal(r.body.status.authenticated, true);
    assert.equal(r.body.status.user.username, 'system:serviceaccount:default:app');
    assert.ok(r.body.status.user.groups.includes('system:serviceaccounts:default'));
    assert.deepEqual(r.body.status.user.extra['authentication.kubernetes.io/pod-name'], ['p']);
    assert.deepEqual(r.body.status.user.extra['authentication.kubernetes.io/pod-uid'], [podUid]);
    assert.deepEqual(r.body.status.audiences, ['istio-ca']);
    const wrongAud = await review(tr.body.status.token, ['other']);
    assert.equal(wrongAud.body.status.authenticated, false);
  });

  it('a tampered token is not authenticated', async () => {
    const token = server.mintServiceAccountToken('default', 'app');
    const [h, p, s] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    claims.sub = 'system:serviceaccount:kube-system:admin';
    const forged = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
    const r = await review(forged);
    assert.equal(r.body.status.authenticated, false);
    assert.match(r.body.status.error, /signature/);
    assert.equal((await review(token)).body.status.authenticated, true);
  });

  it('a token bound to a deleted pod stops authenticating', async () => {
    await call(server, state.dir, 'POST', '/api/v1/namespaces/default/pods', { body: { metadata: { name: 'gone' }, spec: { containers: [{ name: 'c', image: 'i' }] } } });
    const pod = await call(server, state.dir, 'GET', '/api/v1/namespaces/default/pods/gone');
    const token = server.mintServiceAccountToken('default', 'default', { pod: { name: 'gone', uid: pod.body.metadata.uid } });
    assert.equal((await review(token)).body.status.authenticated, true);
    await call(server, state.dir, 'DELETE', '/api/v1/namespaces/default/pods/gone');
    const r = await review(token);
    assert.equal(r.body.status.authenticated, false);
    assert.match(r.body.status.error, /no longer exists/);
  });

  it('bearer tokens authenticate API requests; no credentials → 401 Status', async () => {
    const token = server.mintServiceAccountToken('default', 'app');
    // Authenticated, but RBAC grants a service account nothing until a binding does (rbac.ts).
    const denied = await call(server, state.dir, 'GET', '/api/v1/namespaces/default/pods', { auth: token });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.reason, 'Forbidden');
    await call(server, state.dir, 'POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles', { body: {
      metadata: { name: 'pod-reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }] } });
    await call(server, state.dir, 'POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings', { body: {
      metadata: { name: 'app-reads-pods' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'app', namespace: 'default' }] } });
    const ok = await call(server, state.dir, 'GET', '/api/v1/namespaces/default/pods', { auth: token });
    assert.equal(ok.status, 200);
    const none = await call(server, state.dir, 'GET', '/api/v1/namespaces/default/pods', { auth: false });
    assert.equal(none.status, 401);
    assert.equal(none.body.kind, 'Status');
    assert.equal(none.body.reason, 'Unauthorized');
    const bad = await call(server, state.dir, 'GET', '/api/v1/namespaces/default/pods', { auth: 'not.a.token' });
    assert.equal(bad.status, 401);
    const health = await call(server, state.dir, 'GET', '/healthz', { auth: false });
    assert.equal(health.status, 200);
  });
});
