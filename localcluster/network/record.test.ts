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
