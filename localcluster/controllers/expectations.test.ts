import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Expectations } from './expectations.ts';

test('Expectations hold an owner until the cache shows its writes, or they lapse', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 0 });
  const e = new Expectations(1000);
  const cache = new Set(['old']);
  const present = (n: string): boolean => cache.has(n);
  assert.equal(e.satisfied('d', present), true, 'nothing pending');
  e.expect('d', ['new'], ['old']);
  assert.equal(e.satisfied('d', present), false);
  cache.add('new');
  assert.equal(e.satisfied('d', present), false, 'deletion not seen yet');
  cache.delete('old');
  assert.equal(e.satisfied('d', present), true);
  e.expect('d', ['lost'], []);
  assert.equal(e.satisfied('d', present), false);
  t.mock.timers.tick(1001);
  assert.equal(e.satisfied('d', present), true, 'lapsed');
  e.expect('d', ['failed'], []);
  e.forget('d', 'failed');
  assert.equal(e.satisfied('d', present), true, 'forgotten');
});
