import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, intOrPercent, stableHash } from './util.ts';
import { labelSelectorMatches as selectorMatches } from '../../shared/labels.ts';

test('canonicalJson and stableHash ignore key order and undefined', () => {
  assert.equal(canonicalJson({ b: 1, a: [1, { d: undefined, c: 2 }] }), '{"a":[1,{"c":2}],"b":1}');
  assert.equal(stableHash({ a: 1, b: { c: 2 } }), stableHash({ b: { c: 2 }, a: 1, z: undefined }));
  assert.notEqual(stableHash({ a: 1 }), stableHash({ a: 2 }));
  assert.match(stableHash({}), /^[bcdfghjklmnpqrstvwxz2456789]{10}$/);
});

test('intOrPercent', () => {
  const cases: Array<[number | string | undefined, number, string, boolean, number]> = [
    [undefined, 4, '25%', true, 1], [undefined, 3, '25%', true, 1], [undefined, 3, '25%', false, 0],
    [2, 10, '25%', true, 2], ['50%', 5, '25%', true, 3], ['50%', 5, '25%', false, 2], ['3', 5, '1', false, 3],
  ];
  for (const [v, total, fb, up, want] of cases) assert.equal(intOrPercent(v, total, fb, up), want, `${v}/${total}/${up}`);
});

test('selectorMatches supports matchLabels and expressions', () => {
  const labels = { app: 'web', tier: 'front' };
  const cases: Array<[Parameters<typeof selectorMatches>[0], boolean]> = [
    [{ matchLabels: { app: 'web' } }, true],
    [{ matchLabels: { app: 'db' } }, false],
    [{ matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'x'] }] }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] }, false],
    [{ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, true],
    [{ matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, false],
    [undefined, false],
  ];
  for (const [sel, want] of cases) assert.equal(selectorMatches(sel, labels), want, JSON.stringify(sel));
});
