import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { classify, declared, sniff } from './sniff.ts';

for (const [name, head, want] of [
  ['h2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00', 'h2'],
  ['partial h2 preface', 'PRI * HT', undefined],
  ['GET', 'GET / HTTP/1.1\r\n', 'http1'],
  ['DELETE', 'DELETE /x HTTP/1.1\r\n', 'http1'],
  ['partial method', 'DEL', undefined],
  ['method without space', 'GETX', 'tcp'],
  ['binary', '\x16\x03\x01\x02', 'tcp'],
  ['text that is no method', 'hello world', 'tcp'],
] as const) {
  test(`classify: ${name}`, () => assert.equal(classify(Buffer.from(head, 'latin1')), want));
}

test('declared protocols skip sniffing; AUTO does not', () => {
  assert.equal(declared('HTTP'), 'http1');
  assert.equal(declared('GRPC'), 'h2');
  assert.equal(declared('HTTP2'), 'h2');
  assert.equal(declared('TCP'), 'tcp');
  assert.equal(declared('AUTO'), undefined);
});

test('sniff puts the bytes back, across chunk boundaries', async () => {
  const s = new PassThrough();
  const p = sniff(s);
  s.write('GE');
  setTimeout(() => s.write('T / HTTP/1.1\r\n'), 10);
  assert.equal(await p, 'http1');
  assert.equal(s.read().toString(), 'GET / HTTP/1.1\r\n');
});

test('sniff: a silent peer is TCP after the deadline', async () => {
  const s = new PassThrough();
  assert.equal(await sniff(s, 30), 'tcp');
});
