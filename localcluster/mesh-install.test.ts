// The installer's apply against the API server: every object of deploy/overlays/local arrives with every field of
// its manifest (CRD schemas keep their x-kubernetes-* markers, which client-node's model would otherwise drop), and
// applying again converges without changing anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { applyObjects, localMeshObjects } from './mesh-install.ts';
import { call, startTestServer, tempStateDir } from './apiserver/testing.ts';
import { kindByGroupKind, splitApiVersion } from './apiserver/kinds.ts';

/** Whether every field of `want` is in `got` with the same value (the server adds metadata and defaults). */
function contains(got: unknown, want: unknown, path: string, out: string[]): void {
  if (want !== null && typeof want === 'object' && !Array.isArray(want)) {
    if (got === null || typeof got !== 'object') { out.push(path); return; }
    for (const [k, v] of Object.entries(want)) contains((got as Record<string, unknown>)[k], v, `${path}.${k}`, out);
  } else if (Array.isArray(want)) {
    if (!Array.isArray(got) || got.length !== want.length) { out.push(path); return; }
    want.forEach((v, i) => contains(got[i], v, `${path}[${i}]`, out));
  } else if (got !== want) out.push(path);
}

test('applyObjects stores every field of every manifest (CRD schema markers included) and re-applies idempotently', async (t) => {
  const state = tempStateDir();
  const server = await startTestServer(state.dir);
  t.after(async () => { await server.close(); state.cleanup(); });
  const kc = new KubeConfig();
  kc.loadFromFile(server.kubeconfigPath);
  const manifests = localMeshObjects() as KubernetesObject[];
  assert.ok(manifests.some((m) => JSON.stringify(m).includes('x-kubernetes-preserve-unknown-fields')));
  await applyObjects(kc, manifests);
  const read = async (m: KubernetesObject): Promise<unknown> => {
    const [group] = splitApiVersion(m.apiVersion!);
    const kind = kindByGroupKind(group, m.kind!)!;
    const ns = kind.namespaced ? `/namespaces/${m.metadata!.namespace}` : '';
    const r = await call(server, state.dir, 'GET', `/${group ? 'apis' : 'api'}/${m.apiVersion}${ns}/${kind.plural}/${m.metadata!.name}`);
    assert.equal(r.status, 200, r.text);
    return r.body;
  };
  for (const m of manifests) {
    const missing: string[] = [];
    contains(await read(m), m, `${m.kind}/${m.metadata!.name}`, missing);
    assert.deepEqual(missing, [], 'fields lost on the way to the API server');
  }
  await applyObjects(kc, manifests);
  for (const m of manifests) {
    const missing: string[] = [];
    contains(await read(m), m, `${m.kind}/${m.metadata!.name}`, missing);
    assert.deepEqual(missing, [], 're-apply');
  }
});
