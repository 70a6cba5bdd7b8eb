// The creation record: appended lines, torn or unsafe lines ignored, cleanup safe when nothing exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanupFromRecord, cleanupFromRecordDetailed, readRecord, recordCreation, RECORD_FILE } from './record.ts';

function stateDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'record-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('entries are appended in order and read back; torn and unsafe lines are skipped', (t) => {
  const dir = stateDir(t);
  recordCreation(dir, { kind: 'netns', name: 'tabc123-fabric' });
  recordCreation(dir, { kind: 'etc-netns', name: 'tabc123-node-1' });
  appendFileSync(join(dir, RECORD_FILE), '{"kind":"netns","name":"../../etc"}\n{"kind":"bogus","name":"x"}\n{"kind":"netns","na');
  assert.deepEqual(readRecord(dir), [
    { kind: 'netns', name: 'tabc123-fabric' },
    { kind: 'etc-netns', name: 'tabc123-node-1' },
  ]);
  assert.throws(() => recordCreation(dir, { kind: 'netns', name: '../x' }), { code: 'NET_BAD_CONFIG' });
});

test('cleanup of a record whose things are all gone removes nothing and truncates it; missing dir is fine', async (t) => {
  const dir = stateDir(t);
  recordCreation(dir, { kind: 'netns', name: 'tnothere-pod-00000000' });
  recordCreation(dir, { kind: 'etc-netns', name: 'tnothere-pod-00000000' });
  assert.deepEqual(await cleanupFromRecordDetailed(dir), { killed: [], deletedNetns: [], removedDirs: [], removedTables: [] });
  assert.equal(readFileSync(join(dir, RECORD_FILE), 'utf8'), '');
  assert.equal(await cleanupFromRecord(join(dir, 'never-created')), '');
});

test('holder entries are recorded with pid and start time; unsafe ones are refused or skipped', (t) => {
  const dir = stateDir(t);
  recordCreation(dir, { kind: 'holder', pid: 4242, start: 1234, netns: 'tabc123-pod-deadbeef' });
  appendFileSync(join(dir, RECORD_FILE), [
    '{"kind":"holder","pid":1,"start":5,"netns":"tabc123-pod-1"}',
    '{"kind":"holder","pid":-7,"start":5,"netns":"tabc123-pod-1"}',
    '{"kind":"holder","pid":77,"start":"5","netns":"tabc123-pod-1"}',
    '{"kind":"holder","pid":77,"start":5,"netns":"../x"}',
    '',
  ].join('\n'));
  assert.deepEqual(readRecord(dir), [{ kind: 'holder', pid: 4242, start: 1234, netns: 'tabc123-pod-deadbeef' }]);
  assert.throws(() => recordCreation(dir, { kind: 'holder', pid: 0, start: 1, netns: 'x' }), { code: 'NET_BAD_CONFIG' });
});

test('cleanup skips a holder whose pid now names another process (start time differs)', async (t) => {
  const dir = stateDir(t);
  const { spawn } = await import('node:child_process');
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  recordCreation(dir, { kind: 'holder', pid: child.pid!, start: 1, netns: 'tabc123-pod-deadbeef' });
  assert.deepEqual((await cleanupFromRecordDetailed(dir)).killed, []);
  assert.equal(child.exitCode, null);
  assert.equal(child.signalCode, null);
});
