// Persistence: a restart on the same stateDir keeps objects, the CA, and moves resourceVersions forward.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { call, startTestServer, tempStateDir } from './testing.ts';

describe('restart', () => {
  it('resumes with the same objects and a greater resourceVersion; old watches get 410', async () => {
    const state = tempStateDir();
    try {
      const s1 = await startTestServer(state.dir);
      const created = await call(s1, state.dir, 'POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'keep' }, data: { a: '1' } } });
      assert.equal(created.status, 201);
      const ca = s1.caCertPem;
      await s1.close();

      const s2 = await startTestServer(state.dir);
      try {
        assert.equal(s2.caCertPem, ca);
        const got = await call(s2, state.dir, 'GET', '/api/v1/namespaces/default/configmaps/keep');
        assert.equal(got.status, 200);
        assert.equal(got.body.metadata.uid, created.body.metadata.uid);
        assert.equal(got.body.data.a, '1');
        const updated = await call(s2, state.dir, 'PATCH', '/api/v1/namespaces/default/configmaps/keep',
          { body: { data: { a: '2' } }, contentType: 'application/merge-patch+json' });
        assert.equal(updated.status, 200);
        assert.ok(Number(updated.body.metadata.resourceVersion) > Number(created.body.metadata.resourceVersion));
        const w = await call(s2, state.dir, 'GET', `/api/v1/configmaps?watch=true&timeoutSeconds=5&resourceVersion=${created.body.metadata.resourceVersion}`);
        const ev = JSON.parse(w.text.split('\n')[0]!);
        assert.equal(ev.type, 'ERROR');
        assert.equal(ev.object.code, 410);
        const ns = await call(s2, state.dir, 'GET', '/api/v1/namespaces');
        assert.deepEqual(ns.body.items.map((n: any) => n.metadata.name), ['default', 'kube-node-lease', 'kube-public', 'kube-system']);
      } finally {
        await s2.close();
      }
    } finally {
      state.cleanup();
    }
  });
});

describe('startup failures', () => {
  it('a corrupt state file is a StateError naming the file', async () => {
    const state = tempStateDir();
    try {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(`${state.dir}/objects.json`, '{not json');
      await assert.rejects(startTestServer(state.dir), (e: Error & { code?: string }) => e.code === 'APISERVER_STATE_CORRUPT' && /objects\.json/.test(e.message));
    } finally {
      state.cleanup();
    }
  });
  it('a busy port is a ListenError', async () => {
    const a = tempStateDir();
    const b = tempStateDir();
    const s1 = await startTestServer(a.dir);
    try {
      await assert.rejects(startTestServer(b.dir, { port: s1.port }), (e: Error & { code?: string }) => e.code === 'APISERVER_LISTEN');
    } finally {
      await s1.close();
      a.cleanup();
      b.cleanup();
    }
  });
});
