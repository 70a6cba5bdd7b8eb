import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffCapMs, backoffResetAfterMs, backoffStartMs, nextCrashCount, restartDelayMs, shouldRestart } from './backoff.ts';

test('shouldRestart follows restartPolicy', () => {
  const cases: Array<[string | undefined, number | null, boolean]> = [
    [undefined, 0, true], ['Always', 0, true], ['Always', 1, true],
    ['OnFailure', 0, false], ['OnFailure', 2, true], ['OnFailure', null, true],
    ['Never', 0, false], ['Never', 1, false],
  ];
  for (const [policy, code, want] of cases) assert.equal(shouldRestart(policy, code), want, `${policy}/${code}`);
});

test('restartDelayMs doubles from the start value up to the cap', () => {
  const delays = [0, 1, 2, 3, 4, 5, 6, 50].map(restartDelayMs);
  assert.equal(delays[0], backoffStartMs);
  for (let i = 1; i < delays.length; i++) assert.ok((delays[i] as number) >= (delays[i - 1] as number));
  assert.equal(delays[1], 2 * backoffStartMs);
  assert.equal(delays.at(-1), backoffCapMs);
});

test('nextCrashCount resets after a long healthy run', () => {
  assert.equal(nextCrashCount(3, 10), 4);
  assert.equal(nextCrashCount(3, backoffResetAfterMs), 0);
  assert.equal(nextCrashCount(0, 0), 1);
});
