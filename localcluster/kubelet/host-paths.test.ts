// Host mountpoints: created parents are recorded (real paths, outermost first) before they exist; cleanup from
// the record removes only what is still empty and mounted nowhere. The shim's bind mounts (privileged) stay
// inside the container's own mount namespace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanupFromRecordDetailed, readRecord, removeHostPath } from '../network/record.ts';
import { ensureHostPath, recorderFor } from './host-paths.ts';
import { withMounts } from './mount-plan.ts';
import { findMount } from './volume-api.ts';
import { requirePrivileges } from '../../test/support/privileged.ts';

function temp(t: { after: (fn: () => void) => void }): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'zth6-hostpaths-')));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('ensureHostPath records each missing level (through symlinks, by real path) and cleanup removes them', async (t) => {
  const dir = temp(t);
  const state = join(dir, 'state');
  mkdirSync(join(dir, 'real'));
  symlinkSync(join(dir, 'real'), join(dir, 'link')); // like /var/run → /run
  const made = ensureHostPath(join(dir, 'link/secrets/kubernetes.io/serviceaccount'), 'dir', recorderFor(state));
  const want = ['secrets', 'secrets/kubernetes.io', 'secrets/kubernetes.io/serviceaccount'].map((p) => join(dir, 'real', p));
  assert.deepEqual(made, want);
  assert.deepEqual(readRecord(state), want.map((path) => ({ kind: 'host-path', path, type: 'dir' })));
  assert.deepEqual(ensureHostPath(join(dir, 'link/secrets/kubernetes.io/serviceaccount'), 'dir', recorderFor(state)), [], 'existing: nothing');
  ensureHostPath(join(dir, 'real/etc/app.yaml'), 'file', recorderFor(state));
  writeFileSync(join(dir, 'real/keep-me'), 'not ours');
  const report = await cleanupFromRecordDetailed(state);
  assert.deepEqual(report.removedHostPaths?.sort(), [...want, join(dir, 'real/etc'), join(dir, 'real/etc/app.yaml')].sort());
  assert.equal(existsSync(join(dir, 'real/secrets')), false);
  assert.ok(existsSync(join(dir, 'real/keep-me')));
});

test('removeHostPath leaves non-empty dirs, non-empty files, wrong types and mountpoints', (t) => {
  const dir = temp(t);
  mkdirSync(join(dir, 'full'));
  writeFileSync(join(dir, 'full/x'), '');
  writeFileSync(join(dir, 'data'), 'content');
  mkdirSync(join(dir, 'mounted'));
  mkdirSync(join(dir, 'empty'));
  const cases: [string, 'dir' | 'file', boolean][] = [
    ['full', 'dir', false], ['data', 'file', false], ['full/x', 'dir', false], ['mounted', 'dir', false], ['nothere', 'dir', false], ['empty', 'dir', true], ['full/x', 'file', true],
  ];
  for (const [p, type, removed] of cases) assert.equal(removeHostPath({ path: join(dir, p), type }, new Set([join(dir, 'mounted')])), removed, p);
});

test('the mount shim binds volumes (read-only honoured, nested mountpoints inside the volume) in a private namespace', (t) => {
  if (!requirePrivileges(t)) return;
  const dir = temp(t);
  mkdirSync(join(dir, 'vol'));
  writeFileSync(join(dir, 'vol/f'), 'hello');
  mkdirSync(join(dir, 'scratch'));
  mkdirSync(join(dir, 'target'));
  const binds = [
    { source: join(dir, 'vol'), target: join(dir, 'target'), readOnly: true },
    { source: join(dir, 'scratch'), target: join(dir, 'target/nested'), readOnly: false },
  ];
  // the nested target lies inside the read-only volume: it must already exist there, as in Kubernetes
  mkdirSync(join(dir, 'vol/nested'));
  const argv = withMounts(binds, ['sh', '-c', `cat ${dir}/target/f; touch ${dir}/target/nested/w && echo nested-ok; touch ${dir}/target/g 2>/dev/null || echo ro-ok`], { ownMountNs: false, mountBin: findMount() });
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'hellonested-ok\nro-ok\n');
  assert.ok(existsSync(join(dir, 'scratch/w')), 'the write went to the nested volume');
  assert.equal(existsSync(join(dir, 'target/f')), false, 'nothing mounted on the host');
});
