import { test } from 'node:test';
import assert from 'node:assert/strict';
import { processStartTime, startTimeOf, statField } from './procfs.ts';

test('startTimeOf reads field 22, also when the command holds spaces and parentheses', () => {
  const tail = 'S 1 1 1 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 987654 1000 100';
  assert.equal(startTimeOf(`42 (sleep) ${tail}`), 987654);
  assert.equal(startTimeOf(`42 (a b) c)) ${tail}`), 987654);
  assert.equal(startTimeOf('42 (sleep'), undefined);
  assert.equal(startTimeOf('42 (sleep) S 1'), undefined);
  assert.equal(startTimeOf(''), undefined);
  assert.equal(statField(`42 (a b) ${tail}`, 5), 1, 'pgrp');
  assert.equal(statField(`42 (a b) ${tail}`, 3), undefined, 'state is not a number');
});

test('processStartTime: this process has one and keeps it; a pid that cannot exist has none', () => {
  const a = processStartTime(process.pid);
  assert.ok(a !== undefined && a > 0);
  assert.equal(processStartTime(process.pid), a);
  assert.equal(processStartTime(2 ** 31 - 1), undefined);
});
