import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { Duplex } from 'node:stream';
import { splice } from './splice.ts';
import { SpliceError } from './errors.ts';

/** A loopback TCP pair (both sides half-open capable). */
async function pair(): Promise<[net.Socket, net.Socket, () => void]> {
  const server = net.createServer({ allowHalfOpen: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const acceptedP = once(server, 'connection');
  const c = net.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
  await once(c, 'connect');
  const [s] = (await acceptedP) as [net.Socket];
  return [c, s, () => server.close()];
}

function collect(s: Duplex): Promise<string> {
  let out = '';
  s.setEncoding('utf8');
  s.on('data', (d: string) => (out += d));
  return once(s, 'end').then(() => out);
}

test('splice: copies both ways, passes each end on separately, counts bytes', async () => {
  // client1 <-> [a | splice | b] <-> client2
  const [client1, a, close1] = await pair();
  const [b, client2, close2] = await pair();
  a.allowHalfOpen = false; // splice must switch this back on
  const done = splice(a, b);
  const got2 = collect(client2);
  client1.end('hello'); // one direction ends ...
  assert.equal(await got2, 'hello');
  const got1 = collect(client1);
  client2.write('still '); // ... the other keeps flowing
  client2.end('here');
  assert.equal(await got1, 'still here');
  assert.deepEqual(await done, { aToB: 5, bToA: 10 });
  close1();
  close2();
});

test('splice: an error on one side destroys both and rejects with the counts', async () => {
  // Independent sides (a PassThrough would loop a's output back into b).
  const side = (): Duplex => new Duplex({ read() {}, write(_c, _e, cb) { cb(); } });
  const a = side();
  const b = side();
  const done = splice(a, b);
  a.push('abc');
  await new Promise((r) => setImmediate(r));
  a.destroy(new Error('boom'));
  const err = await done.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof SpliceError);
  assert.equal(err.code, 'ZT_CONNECTION_FAILED');
  assert.equal(err.aToB, 3);
  assert.match(err.message, /boom/);
  assert.ok(b.destroyed);
});

test('splice: a close without end is a failure, not a clean finish', async () => {
  const [c1, a, close1] = await pair();
  const [b, c2, close2] = await pair();
  c2.on('error', () => {});
  c1.on('error', () => {});
  const done = splice(a, b);
  c1.resetAndDestroy();
  await assert.rejects(done, { code: 'ZT_CONNECTION_FAILED' });
  c2.resume();
  await once(c2, 'end');
  close1();
  close2();
});

test('splice: respects backpressure (a slow reader does not buffer the whole stream)', async () => {
  const [c1, a, close1] = await pair();
  const [b, c2, close2] = await pair();
  const done = splice(a, b);
  c2.pause();
  const chunk = Buffer.alloc(1 << 20);
  for (let i = 0; i < 64; i++) c1.write(chunk); // buffered in c1 until the reader resumes
  c1.end();
  await new Promise((r) => setTimeout(r, 100));
  // Kernel buffers plus one high-water mark per stream, far below the 64 MiB written.
  assert.ok(b.writableLength < 8 << 20, `b buffered ${b.writableLength}`);
  let n = 0;
  c2.on('data', (d: Buffer) => (n += d.length));
  c2.resume();
  await once(c2, 'end');
  assert.equal(n, 64 << 20);
  c2.end();
  assert.deepEqual(await done, { aToB: 64 << 20, bToA: 0 });
  close1();
  close2();
});
