// Malformed and invalid requests get the right metav1 Status, and the server keeps serving afterwards.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ApiServer } from './index.ts';
import { call, startTestServer, tempStateDir } from './testing.ts';

const goodPod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });

describe('error responses', () => {
  const state = tempStateDir();
  let server: ApiServer;
  before(async () => { server = await startTestServer(state.dir); });
  after(async () => { await server.close(); state.cleanup(); });

  const cases: { name: string; method: string; path: string; body?: unknown; contentType?: string; code: number; reason: string; message: RegExp }[] = [
    { name: 'malformed JSON', method: 'POST', path: '/api/v1/namespaces/default/pods', body: '{"metadata": ', code: 400, reason: 'BadRequest', message: /not valid JSON/ },
    { name: 'malformed YAML', method: 'POST', path: '/api/v1/namespaces/default/pods', body: 'metadata: [unclosed', contentType: 'application/yaml', code: 400, reason: 'BadRequest', message: /not valid YAML/ },
    { name: 'unknown resource', method: 'GET', path: '/api/v1/namespaces/default/widgets', code: 404, reason: 'NotFound', message: /widgets/ },
    { name: 'unknown group version', method: 'GET', path: '/apis/example.com/v1', code: 404, reason: 'NotFound', message: /example\.com/ },
    { name: 'missing object', method: 'GET', path: '/api/v1/namespaces/default/pods/nope', code: 404, reason: 'NotFound', message: /pods "nope" not found/ },
    { name: 'missing namespace', method: 'POST', path: '/api/v1/namespaces/ghost/pods', body: goodPod('x'), code: 404, reason: 'NotFound', message: /namespaces "ghost" not found/ },
    { name: 'pod without containers', method: 'POST', path: '/api/v1/namespaces/default/pods', body: { metadata: { name: 'x' }, spec: {} }, code: 422, reason: 'Invalid', message: /spec\.containers: Required value/ },
    { name: 'container without image', method: 'POST', path: '/api/v1/namespaces/default/pods', body: { metadata: { name: 'x' }, spec: { containers: [{ name: 'c' }] } }, code: 422, reason: 'Invalid', message: /containers\[0\]\.image/ },
    { name: 'bad name', method: 'POST', path: '/api/v1/namespaces/default/configmaps', body: { metadata: { name: 'Bad_Name' } }, code: 422, reason: 'Invalid', message: /RFC 1123/ },
    { name: 'service without ports', method: 'POST', path: '/api/v1/namespaces/default/services', body: { metadata: { name: 's' }, spec: { selector: { a: 'b' } } }, code: 422, reason: 'Invalid', message: /spec\.ports/ },
    { name: 'deployment selector mismatch', method: 'POST', path: '/apis/apps/v1/namespaces/default/deployments', body: { metadata: { name: 'd' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'c' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } }, code: 422, reason: 'Invalid', message: /selector/ },
    { name: 'bad label selector', method: 'GET', path: '/api/v1/pods?labelSelector=a%20in%20(b', code: 400, reason: 'BadRequest', message: /unable to parse requirement/ },
    { name: 'unsupported field selector', method: 'GET', path: '/api/v1/pods?fieldSelector=spec.foo%3Dbar', code: 400, reason: 'BadRequest', message: /field label not supported/ },
    { name: 'wrong method', method: 'POST', path: '/api/v1/namespaces/default/pods/x', body: goodPod('x'), code: 405, reason: 'MethodNotAllowed', message: /POST/ },
    { name: 'unknown patch type', method: 'PATCH', path: '/api/v1/namespaces/default/pods/x', body: '{}', contentType: 'text/plain', code: 415, reason: 'UnsupportedMediaType', message: /unknown format/ },
    { name: 'unknown body type', method: 'POST', path: '/api/v1/namespaces/default/pods', body: 'x', contentType: 'text/plain', code: 415, reason: 'UnsupportedMediaType', message: /unknown format/ },
    { name: 'kind mismatch', method: 'POST', path: '/api/v1/namespaces/default/pods', body: { kind: 'Service', metadata: { name: 'x' } }, code: 400, reason: 'BadRequest', message: /Service/ },
    { name: 'bad resourceVersion on watch', method: 'GET', path: '/api/v1/pods?watch=true&resourceVersion=abc', code: 400, reason: 'BadRequest', message: /resourceVersion/ },
  ];

  for (const c of cases) {
    it(`${c.name} → ${c.code} ${c.reason}, then a good request succeeds`, async () => {
      const r = await call(server, state.dir, c.method, c.path, { body: c.body, ...(c.contentType ? { contentType: c.contentType } : {}) });
      assert.equal(r.status, c.code, r.text);
      assert.equal(r.body.kind, 'Status');
      assert.equal(r.body.status, 'Failure');
      assert.equal(r.body.reason, c.reason);
      assert.equal(r.body.code, c.code);
      assert.match(r.body.message, c.message);
      const ok = await call(server, state.dir, 'GET', '/api/v1/namespaces/default/services/kubernetes');
      assert.equal(ok.status, 200);
    });
  }

  it('invalid objects carry details.causes', async () => {
    const r = await call(server, state.dir, 'POST', '/api/v1/namespaces/default/pods', { body: { metadata: { name: 'x' }, spec: { containers: [{}] } } });
    assert.equal(r.status, 422);
    const fields = r.body.details.causes.map((c: { field: string }) => c.field).sort();
    assert.deepEqual(fields, ['spec.containers[0].image', 'spec.containers[0].name']);
    assert.equal(r.body.details.kind, 'Pod');
  });

  it('stale resourceVersion on update → 409 Conflict; duplicate create → 409 AlreadyExists', async () => {
    const created = await call(server, state.dir, 'POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'cm' }, data: { a: '1' } } });
    assert.equal(created.status, 201);
    const first = await call(server, state.dir, 'PUT', '/api/v1/namespaces/default/configmaps/cm', { body: { ...created.body, data: { a: '2' } } });
    assert.equal(first.status, 200);
    const stale = await call(server, state.dir, 'PUT', '/api/v1/namespaces/default/configmaps/cm', { body: { ...created.body, data: { a: '3' } } });
    assert.equal(stale.status, 409);
    assert.equal(stale.body.reason, 'Conflict');
    const dup = await call(server, state.dir, 'POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'cm' } } });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.reason, 'AlreadyExists');
  });

  it('a watch from a compacted resourceVersion gets an ERROR event with 410', async () => {
    const small = tempStateDir();
    const s2 = await startTestServer(small.dir, { historyLimit: 4 });
    for (let i = 0; i < 6; i++) {
      await call(s2, small.dir, 'POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: `c${i}` } } });
    }
    const r = await call(s2, small.dir, 'GET', '/api/v1/configmaps?watch=true&resourceVersion=2&timeoutSeconds=5');
    await s2.close();
    small.cleanup();
    assert.equal(r.status, 200);
    const ev = JSON.parse(r.text.trim().split('\n')[0]!);
    assert.equal(ev.type, 'ERROR');
    assert.equal(ev.object.code, 410);
    assert.match(ev.object.message, /too old resource version/);
  });
});
