// Table tests for the leaf value conversions: `*` string forms, IP/CIDR bytes, ports, label syntax.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLabelKey, isLabelValue, selects, toAddress, toPort, toStringMatch } from './values.ts';

test('toStringMatch: Istio `*` forms', () => {
  const cases: [string, unknown][] = [
    ['a', { exact: 'a' }], ['*', { presence: {} }], ['*.b', { suffix: '.b' }], ['a.*', { prefix: 'a.' }],
    ['', undefined], ['a*b', undefined], ['**', undefined], ['*a*', undefined], ['a**', undefined],
  ];
  for (const [v, want] of cases) assert.deepEqual(toStringMatch(v), want, v);
});

test('toAddress: IPv4/IPv6, bare and CIDR', () => {
  const cases: [string, number[] | undefined, number?][] = [
    ['1.2.3.4', [1, 2, 3, 4], 32], ['10.0.0.0/8', [10, 0, 0, 0], 8], ['0.0.0.0/0', [0, 0, 0, 0], 0],
    ['::', new Array(16).fill(0), 128], ['2001:db8::1/64', [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 64],
    ['::ffff:1.2.3.4', [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4], 128],
    ['1:2:3:4:5:6:7:8', [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8], 128],
    ['1.2.3', undefined], ['01.2.3.4', undefined], ['1.2.3.4/', undefined], ['1.2.3.4/-1', undefined],
    ['::1/129', undefined], ['1::2::3', undefined], ['1:2:3:4:5:6:7:8:9', undefined], ['fe80::1%eth0', undefined], ['host', undefined],
  ];
  for (const [v, bytes, length] of cases) {
    assert.deepEqual(toAddress(v), bytes ? { address: Uint8Array.from(bytes), length } : undefined, v);
  }
});

test('toPort, label syntax and selection', () => {
  assert.deepEqual(['1', '80', '65535', '0', '65536', '08', '-1', '8a', ''].map(toPort), [1, 80, 65535, undefined, undefined, undefined, undefined, undefined, undefined]);
  assert.deepEqual(['app', 'app.kubernetes.io/name', 'a_b-c.d', '-a', 'a/', 'UPPER.io/x', 'a b', 'x'.repeat(64)].map(isLabelKey),
    [true, true, true, false, false, false, false, false]);
  assert.deepEqual(['', 'v1', 'a.b_c-d', 'v*', '-v', 'x'.repeat(64)].map(isLabelValue), [true, true, true, false, false, false]);
  assert.equal(selects({}, { a: 'b' }), true);
  assert.equal(selects({ a: 'b' }, { a: 'b', c: 'd' }), true);
  assert.equal(selects({ a: 'b' }, { a: 'c' }), false);
  assert.equal(selects({ toString: '' }, {}), false);
});
