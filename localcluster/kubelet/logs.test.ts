import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { openPodLogs, tailText } from './logs.ts';

test('tailText keeps the last n lines', () => {
  const cases: Array<[string, number | undefined, string]> = [
    ['a\nb\nc\n', undefined, 'a\nb\nc\n'],
    ['a\nb\nc\n', 2, 'b\nc\n'],
    ['a\nb\nc\n', 10, 'a\nb\nc\n'],
    ['a\nb\nc\n', 0, ''],
    ['', 3, ''],
    ['a\nb', 1, 'b\n'],
  ];
  for (const [input, n, want] of cases) assert.equal(tailText(input, n), want, `${JSON.stringify(input)}/${n}`);
});

test('openPodLogs reads a finished pod, a live pod, and follows until the pod is gone', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-logs-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const podDir = path.join(dir, 'ns1_web_uid1');
  fs.mkdirSync(podDir);
  fs.writeFileSync(path.join(podDir, 'app.log'), 'one\ntwo\nthree\n');
  assert.equal(await text(openPodLogs(dir, 'ns1', 'web', { tailLines: 2 }, undefined)!), 'two\nthree\n');
  assert.equal(openPodLogs(dir, 'ns1', 'nope', {}, undefined), undefined, 'not on this node');

  let alive = true;
  const live = { dir: podDir, containers: ['app'], alive: () => alive };
  assert.throws(() => openPodLogs(dir, 'ns1', 'web', { container: 'other' }, live), { code: 'KUBELET_CONTAINER_NOT_FOUND' });
  const stream = openPodLogs(dir, 'ns1', 'web', { follow: true, tailLines: 1 }, live)!;
  const collected = text(stream);
  fs.appendFileSync(path.join(podDir, 'app.log'), 'four\n');
  setTimeout(() => { alive = false; }, 500);
  assert.equal(await collected, 'three\nfour\n');
});
