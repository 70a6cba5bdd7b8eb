// A /proc/<pid>/ns/net path is trusted only while its pid names the process it named when found.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { procPathCurrent, procPathPid, rememberProcPath } from './proc-path.ts';
import { processStartTime, startTimeOf } from '../../shared/procfs.ts';
import { preferByUid, uidsInEnviron } from './netns.ts';
import { ensureNetns } from './exec.ts';

test('startTimeOf (shared/procfs) on stat lines; procPathPid', () => {
  const tail = 'S 1 2 3 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 555 1000 200';
  assert.equal(startTimeOf(`9 (sleep) ${tail}`), 555);
  assert.equal(startTimeOf(`9 (x) (y) ${tail}`), 555);
  assert.equal(startTimeOf('9 (sleep) S 1'), undefined);
  assert.equal(startTimeOf(''), undefined);
  assert.equal(procPathPid('/proc/123/ns/net'), 123);
  assert.equal(procPathPid('/var/run/netns/x'), undefined);
  assert.equal(procPathPid('/proc/self/ns/net'), undefined);
  assert.equal(procPathPid('/proc/123/ns/net/../x'), undefined);
});

test('uidsInEnviron and preferByUid: a holder carrying the uid picks among namespaces without names', () => {
  assert.deepEqual(uidsInEnviron('PATH=/bin\0LOCALCLUSTER_POD_UID=u-1\0X=LOCALCLUSTER_POD_UID=no\0'), ['u-1']);
  assert.deepEqual(uidsInEnviron(''), []);
  const carried = new Map([['/proc/7/ns/net', ['u-1']], ['/proc/9/ns/net', ['u-2']]]);
  assert.equal(preferByUid(['/proc/7/ns/net', '/proc/9/ns/net'], 'u-2', carried), '/proc/9/ns/net');
  assert.equal(preferByUid(['/proc/7/ns/net', '/proc/9/ns/net'], 'u-3', carried), undefined);
  assert.equal(preferByUid(['/proc/7/ns/net', '/proc/9/ns/net'], undefined, carried), undefined);
  assert.equal(preferByUid(['/var/run/netns/c-pod-u3000000', '/proc/9/ns/net'], 'u3000000-x', carried), '/var/run/netns/c-pod-u3000000');
});

test('a remembered /proc path stops being accepted once its process exits', async (t) => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  const path = `/proc/${child.pid}/ns/net`;
  for (let i = 0; i < 100 && processStartTime(child.pid!) === undefined; i++) await new Promise((r) => setTimeout(r, 10));
  rememberProcPath(path);
  assert.equal(procPathCurrent(path), true);
  ensureNetns(path);
  assert.equal(procPathCurrent('/var/run/netns/anything'), true, 'other paths are not judged here');
  child.kill('SIGKILL');
  await once(child, 'exit');
  assert.equal(procPathCurrent(path), false);
  assert.throws(() => ensureNetns(path), { code: 'ZT_CAPTURE_NETNS_MISSING' });
});
