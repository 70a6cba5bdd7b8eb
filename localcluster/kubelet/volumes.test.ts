// PodVolumes on a temp dir with a fake API: files published atomically, ConfigMap changes picked up by the
// poll, tokens reissued at 80% of their life (mock timers), missing sources reported, the pod dir removed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { silent } from '../../shared/log.ts';
import { PodVolumes, type VolumeApi } from './volumes.ts';
import { writeAtomic } from './atomic-writer.ts';
import { SA_VOLUME_NAME } from './volume-plan.ts';

function fakeApi(): VolumeApi & { cm: Record<string, Record<string, string>>; tokens: { audience?: string; pod: string }[] } {
  const api = {
    cm: { cfg: { 'mesh.yaml': 'v1' } } as Record<string, Record<string, string>>,
    tokens: [] as { audience?: string; pod: string }[],
    async data(kind: 'ConfigMap' | 'Secret', _ns: string, name: string) {
      const d = kind === 'ConfigMap' ? api.cm[name] : undefined;
      return d && Object.fromEntries(Object.entries(d).map(([k, v]) => [k, Buffer.from(v)]));
    },
    async token(_ns: string, _sa: string, req: { audience?: string; expirationSeconds: number; pod: { name: string } }) {
      api.tokens.push({ audience: req.audience, pod: req.pod.name });
      return { token: `tok-${api.tokens.length}`, expiresAtMs: Date.now() + req.expirationSeconds * 1000 };
    },
    clusterCA: () => 'CA-PEM',
  };
  return api;
}

const pod: V1Pod = {
  metadata: { name: 'zt', namespace: 'istio-system', uid: 'uid-1', labels: { app: 'ztunnel' } },
  spec: {
    containers: [{ name: 'c' }],
    volumes: [
      { name: 'istio-token', projected: { sources: [{ serviceAccountToken: { audience: 'istio-ca', expirationSeconds: 1000, path: 'istio-token' } }] } },
      { name: 'cfg', configMap: { name: 'cfg' } },
      { name: 'tmp', emptyDir: {} },
    ],
  },
};

const flush = async (): Promise<void> => { for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r)); };

test('PodVolumes publishes files, follows ConfigMap changes and reissues tokens at 80% (mock timers)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'zth6-volumes-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  t.mock.timers.enable({ apis: ['Date', 'setTimeout'], now: 0 });
  const api = fakeApi();
  const vols = new PodVolumes(pod, { api, podsDir: dir, record: () => assert.fail('nothing to create on the host'), log: silent, pollMs: 5000 });
  await vols.setup();
  const at = (v: string, f: string): string => readFileSync(join(dir, 'uid-1', 'volumes', v, f), 'utf8');
  assert.equal(at('istio-token', 'istio-token'), 'tok-1');
  assert.equal(at('cfg', 'mesh.yaml'), 'v1');
  assert.equal(at(SA_VOLUME_NAME, 'ca.crt'), 'CA-PEM', 'kube-root-ca.crt falls back to the API server CA');
  assert.equal(at(SA_VOLUME_NAME, 'namespace'), 'istio-system');
  assert.equal(at(SA_VOLUME_NAME, 'token'), 'tok-2');
  assert.deepEqual(api.tokens, [{ audience: 'istio-ca', pod: 'zt' }, { audience: undefined, pod: 'zt' }]);
  assert.ok(statSync(join(dir, 'uid-1', 'volumes', 'tmp')).isDirectory());
  assert.equal(readlinkSync(join(dir, 'uid-1', 'volumes', 'cfg', 'mesh.yaml')), '..data/mesh.yaml');

  vols.start();
  api.cm.cfg = { 'mesh.yaml': 'v2' };
  t.mock.timers.tick(5000);
  await flush();
  assert.equal(at('cfg', 'mesh.yaml'), 'v2', 'updated within one poll');
  assert.equal(readdirSync(join(dir, 'uid-1', 'volumes', 'cfg')).filter((n) => /^\.\.\d/.test(n)).length, 1, 'old version removed');
  assert.equal(api.tokens.length, 2, 'tokens reused while fresh');
  for (let now = 5000; now < 800_000; now += 5000) { t.mock.timers.tick(5000); await flush(); }
  assert.equal(at('istio-token', 'istio-token'), 'tok-3', 'istio-ca token reissued at 80% of 1000 s');
  assert.equal(api.tokens.length, 3, 'the 3607 s token is not due yet');

  delete api.cm.cfg;
  t.mock.timers.tick(5000);
  await flush();
  assert.equal(at('cfg', 'mesh.yaml'), 'v2', 'a deleted ConfigMap keeps the last content');
  vols.remove();
  assert.equal(existsSync(join(dir, 'uid-1')), false);
});

test('PodVolumes.setup names a missing required ConfigMap; unsupported volumes throw at construction', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'zth6-volumes-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const api = fakeApi();
  api.cm = {};
  const vols = new PodVolumes(pod, { api, podsDir: dir, record: () => {}, log: silent });
  await assert.rejects(vols.setup(), { code: 'KUBELET_VOLUME_SETUP', message: /configmap istio-system\/cfg not found/ });
  assert.throws(() => new PodVolumes({ ...pod, spec: { containers: [], volumes: [{ name: 'x', nfs: { server: 'a', path: '/' } }] } }, { api, podsDir: dir, record: () => {}, log: silent }), { code: 'KUBELET_VOLUME_SETUP' });
});

test('writeAtomic: unchanged content writes nothing; removed keys disappear', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'zth6-atomic-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const f = (s: string) => ({ content: Buffer.from(s), mode: 0o644 });
  assert.equal(writeAtomic(dir, new Map([['a', f('1')], ['sub/b', f('2')]])), true);
  assert.equal(writeAtomic(dir, new Map([['a', f('1')], ['sub/b', f('2')]])), false);
  assert.equal(readFileSync(join(dir, 'sub/b'), 'utf8'), '2');
  assert.equal(writeAtomic(dir, new Map([['a', f('3')]])), true);
  assert.deepEqual(readdirSync(dir).filter((n) => !n.startsWith('..')), ['a']);
  assert.equal(readFileSync(join(dir, 'a'), 'utf8'), '3');
});

test('cachedData shares reads within the TTL and across concurrent callers; errors are not cached (mock timers)', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 0 });
  const { cachedData } = await import('./volume-api.ts');
  let reads = 0;
  let fail = false;
  const base = { ...fakeApi(), async data() { reads++; if (fail) throw new Error('boom'); return { k: Buffer.from('v') }; } };
  const api = cachedData(base, 4500);
  await Promise.all([api.data('ConfigMap', 'ns', 'a'), api.data('ConfigMap', 'ns', 'a')]);
  assert.equal(reads, 1);
  await api.data('ConfigMap', 'ns', 'b');
  assert.equal(reads, 2, 'other objects are separate');
  t.mock.timers.tick(4499);
  await api.data('ConfigMap', 'ns', 'a');
  assert.equal(reads, 2);
  t.mock.timers.tick(1);
  fail = true;
  await assert.rejects(api.data('ConfigMap', 'ns', 'a'));
  fail = false;
  assert.deepEqual(await api.data('ConfigMap', 'ns', 'a'), { k: Buffer.from('v') });
  assert.equal(reads, 4, 'a failed read is retried at once');
});
