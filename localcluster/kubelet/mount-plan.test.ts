// Mount plan: volumeMounts resolved to host sources (subPath, subPathExpr, readOnly), parents first, bad mounts
// refused; host mountpoints only for top-level targets; the shim argv.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostMountpoints, MOUNT_SHIM, planMounts, withMounts } from './mount-plan.ts';
import type { VolumePlan } from './volume-plan.ts';

const volumes: VolumePlan[] = [
  { name: 'cfg', kind: 'files', defaultMode: 0o644, sources: [] },
  { name: 'tmp', kind: 'emptyDir' },
  { name: 'run', kind: 'hostPath', path: '/var/run/ztunnel', hostType: 'DirectoryOrCreate' },
];
const dirOf = (v: VolumePlan): string => v.kind === 'hostPath' ? v.path : `/state/pods/u/volumes/${v.name}`;

test('planMounts resolves sources, honours subPath/subPathExpr/readOnly and orders parents first', () => {
  const r = planMounts({
    name: 'c', volumeMounts: [
      { name: 'tmp', mountPath: '/data/cache/' },
      { name: 'cfg', mountPath: '/etc/app/config.yaml', subPath: 'config.yaml', readOnly: true },
      { name: 'tmp', mountPath: '/data', subPathExpr: '$(POD_NAME)' },
      { name: 'run', mountPath: '/var/run/ztunnel' },
    ],
  }, volumes, dirOf, { POD_NAME: 'web-1' });
  assert.ok(r.ok);
  assert.deepEqual(r.binds, [
    { source: '/state/pods/u/volumes/tmp/web-1', target: '/data', readOnly: false },
    { source: '/state/pods/u/volumes/tmp', target: '/data/cache', readOnly: false },
    { source: '/state/pods/u/volumes/cfg/config.yaml', target: '/etc/app/config.yaml', readOnly: true },
    { source: '/var/run/ztunnel', target: '/var/run/ztunnel', readOnly: false },
  ]);
  assert.deepEqual(hostMountpoints(r.binds).map((b) => b.target), ['/data', '/etc/app/config.yaml', '/var/run/ztunnel']);
});

test('planMounts refuses unknown volumes, relative or escaping paths, duplicates and /', () => {
  const cases: [object, RegExp][] = [
    [{ name: 'nope', mountPath: '/x' }, /the pod has no volume nope/],
    [{ name: 'tmp', mountPath: 'rel' }, /must be absolute/],
    [{ name: 'tmp', mountPath: '/a/../b' }, /must be absolute without \.\./],
    [{ name: 'tmp', mountPath: '/x', subPath: '../up' }, /subPath "..\/up" must be relative/],
    [{ name: 'tmp', mountPath: '/x', subPath: '/abs' }, /subPath "\/abs" must be relative/],
    [{ name: 'tmp', mountPath: '/' }, /cannot mount over \//],
  ];
  for (const [m, re] of cases) {
    const r = planMounts({ name: 'c', volumeMounts: [m as never] }, volumes, dirOf);
    assert.equal(r.ok, false, JSON.stringify(m));
    assert.match((r as { message: string }).message, re);
  }
  const dup = planMounts({ name: 'c', volumeMounts: [{ name: 'tmp', mountPath: '/x' }, { name: 'cfg', mountPath: '/x/' }] }, volumes, dirOf);
  assert.match((dup as { message: string }).message, /mountPath \/x is used twice/);
});

test('withMounts: no binds leaves argv alone; the shim goes inside ip netns exec or under unshare', () => {
  assert.deepEqual(withMounts([], ['sleep', '1'], { ownMountNs: true, mountBin: '/bin/mount' }), ['sleep', '1']);
  const binds = [{ source: '/s', target: '/t', readOnly: true }, { source: '/s2', target: '/t2', readOnly: false }];
  const shim = ['/bin/sh', '-c', MOUNT_SHIM, 'kubelet-mounts', '/bin/mount', '2', '/s', '/t', 'ro', '/s2', '/t2', 'rw', 'sleep', '1'];
  assert.deepEqual(withMounts(binds, ['sleep', '1'], { ownMountNs: true, mountBin: '/bin/mount' }), shim);
  assert.deepEqual(withMounts(binds, ['sleep', '1'], { ownMountNs: false, mountBin: '/bin/mount' }), ['unshare', '--mount', '--propagation', 'slave', ...shim]);
});
