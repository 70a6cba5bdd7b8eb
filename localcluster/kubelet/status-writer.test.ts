import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silent } from '../../shared/log.ts';
import { StatusWriter } from './status-writer.ts';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => { resolve = r; });
  return { promise, resolve };
}

test('StatusWriter coalesces bursts and skips unchanged documents', async () => {
  let value = 1;
  const written: number[] = [];
  let gate = deferred();
  const w = new StatusWriter({
    compute: () => ({ v: value }),
    write: async (doc) => { written.push(doc.v); await gate.promise; },
    signal: new AbortController().signal, log: silent,
  });
  w.changed();                       // write of v=1 starts and blocks
  value = 2; w.changed(); value = 3; w.changed(); w.changed();
  gate.resolve();
  await w.idle();
  assert.deepEqual(written, [1, 3], 'the burst during the write becomes one write of the latest state');
  gate = deferred(); gate.resolve();
  w.changed();
  await w.idle();
  assert.deepEqual(written, [1, 3], 'unchanged document not rewritten');
  value = 4; w.changed();
  await w.idle();
  assert.deepEqual(written, [1, 3, 4]);
});

test('StatusWriter retries failures, stops on 404 and on abort', async () => {
  const attempts: string[] = [];
  let fail: Error & { code?: number } | undefined = Object.assign(new Error('conflict'), { code: 409 });
  const w = new StatusWriter({
    compute: () => ({ v: 1 }),
    write: async () => { attempts.push(fail ? `fail ${fail.code}` : 'ok'); const f = fail; fail = undefined; if (f) throw f; },
    signal: new AbortController().signal, log: silent, retryMs: 1,
  });
  w.changed();
  await w.idle();
  assert.deepEqual(attempts, ['fail 409', 'ok']);

  const gone: string[] = [];
  const w2 = new StatusWriter({ compute: () => ({ v: 1 }), write: async () => { gone.push('x'); throw Object.assign(new Error('gone'), { code: 404 }); }, signal: new AbortController().signal, log: silent, retryMs: 1 });
  w2.changed();
  await w2.idle();
  assert.deepEqual(gone, ['x'], 'a missing pod is not retried');

  const ctl = new AbortController();
  const aborted: string[] = [];
  const w3 = new StatusWriter({ compute: () => ({ v: 1 }), write: async () => { aborted.push('x'); ctl.abort(); throw new Error('down'); }, signal: ctl.signal, log: silent, retryMs: 10_000 });
  w3.changed();
  await w3.idle();
  assert.deepEqual(aborted, ['x'], 'abort ends the retry wait');
});
