// Pure parts of anonymous pod netns holders, and the safety of killHolder against pids that are not holders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { holderArgv, holderNetnsPath, killHolder } from './holder.ts';
import { processStartTime } from '../../shared/procfs.ts';

test('holderArgv enters the named netns and sleeps; the netns path is the holder\'s', () => {
  assert.deepEqual(holderArgv('mc1-pod-abcd1234'), ['nsenter', '--net=/var/run/netns/mc1-pod-abcd1234', '--', 'sleep', 'infinity']);
  assert.equal(holderNetnsPath({ pid: 4242 }), '/proc/4242/ns/net');
});

test('killHolder leaves alone a pid whose start time differs, and a process in our own netns', async (t) => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  const pid = child.pid!;
  let start: number | undefined;
  for (let i = 0; i < 100 && (start = processStartTime(pid)) === undefined; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(start !== undefined);
  assert.deepEqual(await killHolder({ pid, start: start + 1 }), [], 'a reused pid (other start time) is not killed');
  assert.deepEqual(await killHolder({ pid, start }), [], 'a sleep in the root netns is no holder: nothing killed');
  assert.equal(child.exitCode, null);
  assert.equal(processStartTime(pid), start, 'still running');
});
