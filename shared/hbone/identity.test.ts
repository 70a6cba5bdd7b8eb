import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAuthority, spiffeIdsOf } from './identity.ts';
import { chooseConnection, type ConnView } from './choose.ts';

test('spiffeIdsOf: URI SANs that are SPIFFE workload ids, in order', () => {
  const cases: Array<[string | undefined, string[]]> = [
    [undefined, []],
    ['', []],
    ['URI:spiffe://cluster.local/ns/a/sa/b', ['spiffe://cluster.local/ns/a/sa/b']],
    ['DNS:x.example, URI:spiffe://td/ns/a/sa/b, URI:spiffe://td/ns/c/sa/d', ['spiffe://td/ns/a/sa/b', 'spiffe://td/ns/c/sa/d']],
    ['URI:https://example.com/x', []],
    ['URI:spiffe://td/ns/a', []],
    ['URI:spiffe://td/ns/a/sa/b/extra', []],
    ['URI:"spiffe://td/ns/a,b/sa/c"', []],
    ['DNS:URI:spiffe://td/ns/a/sa/b', []],
  ];
  for (const [input, want] of cases) assert.deepEqual(spiffeIdsOf(input), want, String(input));
});

test('parseAuthority: ip:port and [v6]:port only', () => {
  const cases: Array<[string | undefined, { host: string; port: number } | undefined]> = [
    ['10.0.0.1:8080', { host: '10.0.0.1', port: 8080 }],
    ['[fd00::5]:443', { host: 'fd00::5', port: 443 }],
    ['fd00::5:443', undefined],
    ['[10.0.0.1]:80', undefined],
    ['example.com:80', undefined],
    ['10.0.0.1', undefined],
    ['10.0.0.1:0', undefined],
    ['10.0.0.1:65536', undefined],
    ['10.0.0.1:99999999', undefined],
    ['10.0.0.1:-1', undefined],
    ['', undefined],
    [undefined, undefined],
  ];
  for (const [input, want] of cases) assert.deepEqual(parseAuthority(input), want, String(input));
});

test('chooseConnection: busiest with room, else wait for the dial in flight, else dial', () => {
  const c = (active: number, maxStreams = 100, draining = false): ConnView => ({ active, maxStreams, draining });
  const cases: Array<[string, ConnView[], boolean, ReturnType<typeof chooseConnection>]> = [
    ['nothing: dial', [], false, { dial: true }],
    ['nothing but a dial in flight: wait', [], true, { wait: true }],
    ['one with room', [c(3)], false, { use: 0 }],
    ['one with room beats a dial in flight', [c(3)], true, { use: 0 }],
    ['full: dial', [c(100)], false, { dial: true }],
    ['full, dial in flight: wait', [c(100)], true, { wait: true }],
    ['packs onto the busiest with room', [c(5), c(99), c(100)], false, { use: 1 }],
    ['draining is skipped', [c(1, 100, true), c(0)], false, { use: 1 }],
    ['peer limit below ours', [c(10, 10), c(2, 10)], false, { use: 1 }],
    ['all draining: dial', [c(0, 100, true)], false, { dial: true }],
  ];
  for (const [name, conns, dialing, want] of cases) assert.deepEqual(chooseConnection(conns, dialing), want, name);
});
