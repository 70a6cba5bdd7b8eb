// Tests of the resource store: content-hash versions, change detection, removals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResourceStore, resourceVersion } from './store.ts';

test('store reports only real changes', () => {
  const s = new ResourceStore();
  const t = 'type.googleapis.com/x';
  assert.deepStrictEqual(s.update(t, [{ name: 'a', resource: Buffer.from('1') }, { name: 'b', resource: Buffer.from('1') }], []), ['a', 'b']);
  assert.deepStrictEqual(s.update(t, [{ name: 'a', resource: Buffer.from('1') }], []), [], 'same bytes: no change');
  assert.deepStrictEqual(s.update(t, [{ name: 'a', resource: Buffer.from('2') }], ['b', 'never']), ['a', 'b']);
  assert.deepStrictEqual([...s.resources(t).keys()], ['a']);
  assert.equal(s.resources(t).get('a')?.version, resourceVersion(Buffer.from('2')));
  assert.notEqual(resourceVersion(Buffer.from('1')), resourceVersion(Buffer.from('2')));
  assert.equal(s.resources('other').size, 0);
});
