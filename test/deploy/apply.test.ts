// `kubectl apply -k deploy/` against the local API server, as the README's install step runs it on a real cluster:
// a server-side dry run accepts every object and stores nothing, the real apply creates them all, a second apply
// changes nothing, and `kubectl delete -k` removes them. kubectl is required in CI.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { startTestApi } from '../support/control-plane.ts';
import { kustomize } from '../../localcluster/kustomize.ts';

const DEPLOY = resolve(import.meta.dirname, '../../deploy');
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;

function needKubectl(t: TestContext): boolean {
  if (hasKubectl) return true;
  if (process.env.CI === 'true') assert.fail('kubectl is required for the install test under CI=true');
  t.skip('kubectl not installed');
  return false;
}

test('kubectl apply --dry-run=server -k deploy/ accepts every object; apply, re-apply and delete behave', { timeout: 120_000 }, async (t) => {
  if (!needKubectl(t)) return;
  const { api } = await startTestApi(t);
  // Asynchronous: the API server runs in this process and must keep answering while kubectl runs.
  const kubectl = (...args: string[]): Promise<{ code: number; out: string }> => new Promise((done) => {
    execFile('kubectl', ['--kubeconfig', api.kubeconfigPath, ...args], { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}${stderr}` });
    });
  });
  const objects = kustomize(DEPLOY);
  const lines = (out: string): string[] => out.split('\n').filter((l) => /\S/.test(l) && !l.startsWith('Warning:'));

  // A dry run creates nothing, so (as on a real API server) the objects inside istio-system need the namespace to
  // exist already; the real apply below creates it first, kustomize's order putting Namespaces first.
  assert.equal((await kubectl('create', 'namespace', 'istio-system')).code, 0);
  const dry = (await kubectl('apply', '--dry-run=server', '-k', DEPLOY));
  assert.equal(dry.code, 0, dry.out);
  const dryLines = lines(dry.out);
  assert.equal(dryLines.length, objects.length, dry.out);
  for (const l of dryLines) assert.match(l, / (created|configured) \(server dry run\)$/);
  assert.equal(dryLines.filter((l) => / created \(server dry run\)$/.test(l)).length, objects.length - 1, 'all but the namespace are new');
  assert.equal((await kubectl('get', 'deployment', '-n', 'istio-system', 'istiod')).code, 1, 'a dry run stores nothing');
  assert.equal((await kubectl('delete', 'namespace', 'istio-system', '--wait=true')).code, 0);

  const applied = (await kubectl('apply', '-k', DEPLOY));
  assert.equal(applied.code, 0, applied.out);
  assert.equal(lines(applied.out).filter((l) => / created$/.test(l)).length, objects.length, applied.out);
  const again = (await kubectl('apply', '-k', DEPLOY));
  assert.equal(again.code, 0, again.out);
  // Every object unchanged, except that client-side apply always re-sends a PodDisruptionBudget's selector (its
  // patch strategy is `replace`, and this API server's OpenAPI carries no patch metadata), which reads "configured".
  const againLines = lines(again.out);
  assert.equal(againLines.length, objects.length, again.out);
  for (const l of againLines) assert.ok(/ unchanged$/.test(l) || l === 'poddisruptionbudget.policy/istiod configured', l);

  const deleted = (await kubectl('delete', '-k', DEPLOY, '--wait=false'));
  assert.equal(deleted.code, 0, deleted.out);
  assert.equal((await kubectl('get', 'daemonset', '-n', 'istio-system', 'ztunnel')).code, 1, 'deleted');
});
