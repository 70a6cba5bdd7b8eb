// The dispatcher against loopback servers (node:http, node:http2 h2c, @grpc/grpc-js), through a `connect` that
// returns a plain Duplex (a duplexPair end piped to a real socket), so undici never sees a net.Socket.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { once } from 'node:events';
import { duplexPair, Readable, type Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { createUpstreams, type ConnectFn, type Upstreams } from './dispatcher.ts';
import type { EndpointRef } from './types.ts';

const MiB = 1024 * 1024;

/** Dials 127.0.0.1:port and hands back the far end of a duplexPair piped to the socket (not a socket). */
function tunnelTo(port: number, stats = { connects: 0 }): ConnectFn {
  return (_ep, { signal }) => new Promise<Duplex>((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const onAbort = (): void => { sock.destroy(); };
    signal.addEventListener('abort', onAbort, { once: true });
    sock.once('error', reject);
    sock.once('connect', () => {
      sock.off('error', reject);
      // As ztunnel's sockets do: without it Nagle and delayed ACKs stall HTTP/2 window updates for 40 ms each.
      sock.setNoDelay(true);
      signal.removeEventListener('abort', onAbort);
      stats.connects++;
      const [app, tunnel] = duplexPair();
      sock.pipe(tunnel);
      tunnel.pipe(sock);
      sock.on('error', (err) => app.destroy(err));
      sock.on('close', (hadError) => { if (hadError) app.destroy(); });
      tunnel.on('close', () => sock.destroy());
      assert.ok(!(app instanceof net.Socket));
      resolve(app);
    });
  });
}

function ep(port: number, n = 0): EndpointRef {
  return { id: `uid-${n}:127.0.0.1:${port}`, ip: '127.0.0.1', port };
}

async function listen(server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

function closeServer(s: net.Server | http2.Http2Server): Promise<void> {
  return new Promise((res) => {
    (s as net.Server & { closeAllConnections?: () => void }).closeAllConnections?.();
    s.close(() => res());
  });
}

async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A body of `size` random bytes produced lazily, hashing as it goes. */
function randomBody(size: number): { body: Readable; digest: () => string } {
  const h = createHash('sha256');
  let left = size;
  const body = new Readable({
    read() {
      if (left === 0) return void this.push(null);
      const c = randomBytes(Math.min(left, 256 * 1024));
      left -= c.length;
      h.update(c);
      this.push(c);
    },
  });
  return { body, digest: () => h.digest('hex') };
}

async function sha256Of(r: Readable): Promise<{ hex: string; bytes: number }> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const c of r) {
    h.update(c as Buffer);
    bytes += (c as Buffer).length;
  }
  return { hex: h.digest('hex'), bytes };
}

// ---- servers ----

const h1Stats = { connects: 0 };
const h1Sockets = new Set<net.Socket>();
const h1 = http.createServer((req, res) => {
  const url = new URL(req.url!, 'http://x');
  switch (url.pathname) {
    case '/hello':
      res.setHeader('x-upstream', 'h1');
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.end(JSON.stringify({ method: req.method, headers: req.headers, path: req.url }));
      return;
    case '/echo':
      req.pipe(res);
      return;
    case '/reset':
      req.socket.destroy();
      return;
    case '/partial':
      res.writeHead(200, { 'content-length': '1000' });
      res.write('x'.repeat(100), () => setTimeout(() => req.socket.destroy(), 20));
      return;
    case '/hang':
      return; // never answers
    case '/big': {
      // Writes 32 MiB honouring backpressure; reports how much it got out before the client read anything.
      let sent = 0;
      const total = 32 * MiB;
      const chunk = Buffer.alloc(64 * 1024, 7);
      res.writeHead(200);
      const pump = (): void => {
        while (sent < total) {
          sent += chunk.length;
          bigSent.value = sent;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
      return;
    }
    case '/trailers':
      res.writeHead(200, { trailer: 'x-checksum', 'transfer-encoding': 'chunked' });
      res.write('body');
      res.addTrailers({ 'x-checksum': 'abc' });
      res.end();
      return;
    case '/slow-ok':
      setTimeout(() => res.end('late'), Number(url.searchParams.get('ms') ?? 50));
      return;
    case '/conn-unused':
      res.end(String(h1.listenerCount('connection')));
      return;
    default:
      res.statusCode = 404;
      res.end();
  }
});
const bigSent = { value: 0 };
h1.on('connection', (s: net.Socket) => {
  h1Sockets.add(s);
  s.on('close', () => h1Sockets.delete(s));
});
const h1Port = await listen(h1);

const h2 = http2.createServer();
h2.on('stream', (stream, headers) => {
  stream.on('error', () => {}); // resets this test provokes
  const path = headers[':path'] ?? '';
  if (path === '/hello') {
    stream.respond({ ':status': 200, 'x-upstream': 'h2', 'content-type': 'application/json' });
    stream.end(JSON.stringify({ authority: headers[':authority'], te: headers.te, method: headers[':method'] }));
  } else if (path === '/echo') {
    stream.respond({ ':status': 200 });
    stream.pipe(stream);
  } else if (path === '/trailers') {
    stream.respond({ ':status': 200 }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'x-trailer': 'yes' }));
    stream.end('with trailers');
  } else if (path === '/refuse') {
    stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
  } else if (path === '/rst') {
    stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  } else if (path === '/big') {
    let sent = 0;
    const chunk = Buffer.alloc(64 * 1024, 7);
    stream.respond({ ':status': 200 });
    const pump = (): void => {
      while (sent < 32 * MiB) {
        sent += chunk.length;
        bigSent.value = sent;
        if (!stream.write(chunk)) return void stream.once('drain', pump);
      }
      stream.end();
    };
    pump();
  } else if (path === '/hang') {
    // never answers
  } else {
    stream.respond({ ':status': 404 });
    stream.end();
  }
});
h2.on('error', () => {});
const h2Port = await listen(h2 as unknown as net.Server);

const grpcServer = new grpc.Server();
const passthrough = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };
grpcServer.addService({
  Echo: {
    path: '/test.Echo/Echo', requestStream: false, responseStream: false, originalName: 'Echo',
    requestSerialize: passthrough.serialize, requestDeserialize: passthrough.deserialize,
    responseSerialize: passthrough.serialize, responseDeserialize: passthrough.deserialize,
  },
  Fail: {
    path: '/test.Echo/Fail', requestStream: false, responseStream: false, originalName: 'Fail',
    requestSerialize: passthrough.serialize, requestDeserialize: passthrough.deserialize,
    responseSerialize: passthrough.serialize, responseDeserialize: passthrough.deserialize,
  },
} as grpc.ServiceDefinition, {
  Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
    call.sendMetadata(new grpc.Metadata());
    cb(null, Buffer.concat([Buffer.from('echo:'), call.request]));
  },
  Fail: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
    cb({ code: grpc.status.NOT_FOUND, details: 'no such thing' });
  },
});
const grpcPort = await new Promise<number>((res, rej) =>
  grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? rej(err) : res(port))));

const ups: Upstreams = createUpstreams({ connect: tunnelTo(h1Port, h1Stats) });
const ups2: Upstreams = createUpstreams({ connect: tunnelTo(h2Port) });

after(async () => {
  await ups.close(100);
  await ups2.close(100);
  grpcServer.forceShutdown();
  await closeServer(h1);
  await closeServer(h2);
});

// ---- HTTP/1.1 ----

test('h1: a GET goes through a plain Duplex with headers and body', async () => {
  const r = await ups.request(ep(h1Port), 'http1', {
    method: 'GET', path: '/hello?x=1', headers: { host: 'reviews.demo:9080', 'x-req': 'a', accept: ['text/plain', 'application/json'] }, body: null,
  });
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-upstream'], 'h1');
  assert.deepEqual(r.headers['set-cookie'], ['a=1', 'b=2']);
  const got = JSON.parse((await readAll(r.body)).toString());
  assert.equal(got.path, '/hello?x=1');
  assert.equal(got.headers.host, 'reviews.demo:9080');
  assert.equal(got.headers['x-req'], 'a');
  assert.deepEqual(await r.trailers, {});
});

test('h1: hop-by-hop and pseudo headers are not forwarded', async () => {
  const r = await ups.request(ep(h1Port), 'http1', {
    method: 'GET', path: '/hello',
    headers: { host: 'h', connection: 'keep-alive, x-hop', 'x-hop': '1', 'keep-alive': 'timeout=5', upgrade: 'h2c', ':method': 'GET', te: 'trailers', expect: '100-continue', 'x-keep': 'y' },
    body: null,
  });
  const got = JSON.parse((await readAll(r.body)).toString());
  assert.equal(got.headers['x-hop'], undefined);
  assert.equal(got.headers.upgrade, undefined);
  assert.equal(got.headers.expect, undefined);
  assert.equal(got.headers['x-keep'], 'y');
  assert.equal(got.headers.te, 'trailers');
});

test('h1: 10 MiB up and down stream intact (sha256)', async () => {
  const { body, digest } = randomBody(10 * MiB);
  const r = await ups.request(ep(h1Port), 'http1', { method: 'POST', path: '/echo', headers: { host: 'h' }, body });
  assert.equal(r.status, 200);
  const got = await sha256Of(r.body);
  assert.equal(got.bytes, 10 * MiB);
  assert.equal(got.hex, digest());
});

test('h1: a response body that is not read holds the upstream back (backpressure)', async () => {
  bigSent.value = 0;
  const r = await ups.request(ep(h1Port), 'http1', { method: 'GET', path: '/big', headers: { host: 'h' }, body: null });
  await sleep(300);
  const before = bigSent.value;
  // Loopback socket buffers hold a few MiB; the rest must wait for the reader.
  assert.ok(before < 10 * MiB, `upstream wrote ${before} bytes while nobody read`);
  const got = await sha256Of(r.body);
  assert.equal(got.bytes, 32 * MiB);
});

test('h1: chunked trailers arrive', async () => {
  const r = await ups.request(ep(h1Port), 'http1', { method: 'GET', path: '/trailers', headers: { host: 'h' }, body: null });
  assert.equal((await readAll(r.body)).toString(), 'body');
  assert.deepEqual(await r.trailers, { 'x-checksum': 'abc' });
});

test('h1: 200 concurrent requests all succeed', async () => {
  const rs = await Promise.all(Array.from({ length: 200 }, (_, i) =>
    ups.request(ep(h1Port), 'http1', { method: 'POST', path: '/echo', headers: { host: 'h', 'content-length': String(String(i).length) }, body: Readable.from([Buffer.from(String(i))]) })
      .then(async (r) => ({ status: r.status, text: (await readAll(r.body)).toString() }))));
  rs.forEach((r, i) => assert.deepEqual(r, { status: 200, text: String(i) }));
  assert.equal(ups.active(ep(h1Port).id), 0);
});

test('h1: maxRequestsPerConnection 1 opens a connection per request', async () => {
  const stats = { connects: 0 };
  const u = createUpstreams({ connect: tunnelTo(h1Port, stats) });
  try {
    for (let i = 0; i < 3; i++) {
      const r = await u.request(ep(h1Port, 9), 'http1', { method: 'GET', path: '/hello', headers: { host: 'h' }, body: null, maxRequestsPerConnection: 1 });
      await readAll(r.body);
    }
    assert.equal(stats.connects, 3);
    for (let i = 0; i < 3; i++) {
      const r = await u.request(ep(h1Port, 9), 'http1', { method: 'GET', path: '/hello', headers: { host: 'h' }, body: null });
      await readAll(r.body);
    }
    // undici may open a second connection when the next request races the first one's completion.
    assert.ok(stats.connects <= 5, `without the limit connections are kept alive (${stats.connects - 3} for 3 requests)`);
  } finally {
    await u.close(100);
  }
});

// ---- failures ----

test('connect failure (refused) is WP_UPSTREAM_CONNECT_FAILED / UF', async () => {
  const dead = net.createServer();
  const port = await listen(dead);
  await closeServer(dead);
  const u = createUpstreams({ connect: tunnelTo(port) });
  try {
    await assert.rejects(u.request(ep(port), 'http1', { method: 'GET', path: '/', headers: {}, body: null }), (err: any) => {
      assert.equal(err.code, 'WP_UPSTREAM_CONNECT_FAILED');
      assert.equal(err.kind, 'connect-failure');
      assert.equal(err.timedOut, false);
      assert.equal(err.responseFlag, 'UF');
      assert.equal(err.status, 503);
      assert.equal(err.cause.code, 'ECONNREFUSED');
      return true;
    });
    await assert.rejects(u.request(ep(port), 'h2c', { method: 'GET', path: '/', headers: {}, body: null }), { code: 'WP_UPSTREAM_CONNECT_FAILED' });
  } finally {
    await u.close(100);
  }
});

test('connect timeout is a connect failure with timedOut', async () => {
  let aborted = false;
  const u = createUpstreams({
    connect: (_e, { signal }) => new Promise((_res, rej) => signal.addEventListener('abort', () => { aborted = true; rej(signal.reason); })),
    connectTimeoutMs: 100,
  });
  try {
    const t0 = Date.now();
    await assert.rejects(u.request(ep(1), 'http1', { method: 'GET', path: '/', headers: {}, body: null }),
      (err: any) => err.code === 'WP_UPSTREAM_CONNECT_FAILED' && err.timedOut === true);
    assert.ok(Date.now() - t0 < 2000);
    assert.ok(aborted, 'connect() got its signal aborted');
  } finally {
    await u.close(100);
  }
});

test('h1: the endpoint closing the connection before answering is WP_UPSTREAM_RESET', async () => {
  await assert.rejects(ups.request(ep(h1Port), 'http1', { method: 'GET', path: '/reset', headers: { host: 'h' }, body: null }),
    (err: any) => err.code === 'WP_UPSTREAM_RESET' && err.kind === 'reset' && err.responseFlag === 'UC');
});

test('h1: a reset mid-body errors the body stream and the trailers', async () => {
  const r = await ups.request(ep(h1Port), 'http1', { method: 'GET', path: '/partial', headers: { host: 'h' }, body: null });
  assert.equal(r.status, 200);
  await assert.rejects(readAll(r.body), (err: any) => err.code === 'WP_UPSTREAM_RESET' || err.code === 'WP_UPSTREAM_PROTOCOL_ERROR');
  await assert.rejects(r.trailers);
});

test('timeoutMs without response headers is WP_UPSTREAM_TIMEOUT / 504', async () => {
  await assert.rejects(ups.request(ep(h1Port), 'http1', { method: 'GET', path: '/hang', headers: { host: 'h' }, body: null, timeoutMs: 150 }),
    (err: any) => err.code === 'WP_UPSTREAM_TIMEOUT' && err.status === 504 && err.responseFlag === 'UT');
  await assert.rejects(ups2.request(ep(h2Port), 'h2c', { method: 'GET', path: '/hang', headers: { host: 'h' }, body: null, timeoutMs: 150 }),
    { code: 'WP_UPSTREAM_TIMEOUT' });
  // The pool is still usable afterwards.
  const r = await ups.request(ep(h1Port), 'http1', { method: 'GET', path: '/slow-ok?ms=10', headers: { host: 'h' }, body: null, timeoutMs: 2000 });
  assert.equal((await readAll(r.body)).toString(), 'late');
});

test('an AbortSignal.timeout() reason is a timeout; another abort is a cancellation', async () => {
  await assert.rejects(ups.request(ep(h1Port), 'http1', { method: 'GET', path: '/hang', headers: { host: 'h' }, body: null, signal: AbortSignal.timeout(100) }),
    { code: 'WP_UPSTREAM_TIMEOUT' });
  const ac = new AbortController();
  const p = ups.request(ep(h1Port), 'http1', { method: 'GET', path: '/hang', headers: { host: 'h' }, body: null, signal: ac.signal });
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(p, { code: 'WP_UPSTREAM_CANCELLED' });
});

test('destroying the response body resets the upstream request', async () => {
  const r = await ups.request(ep(h1Port), 'http1', { method: 'GET', path: '/big', headers: { host: 'h' }, body: null });
  const before = h1Sockets.size;
  r.body.destroy();
  await assert.rejects(r.trailers, { code: 'WP_UPSTREAM_CANCELLED' });
  for (let i = 0; i < 50 && h1Sockets.size >= before; i++) await sleep(20);
  assert.ok(h1Sockets.size < before, 'the upstream connection was closed');
});

test('the caller\'s body stream survives an upstream failure', async () => {
  const body = new Readable({ read() {} });
  body.push('some bytes');
  await assert.rejects(ups.request(ep(h1Port), 'http1', { method: 'POST', path: '/reset', headers: { host: 'h' }, body }), { code: 'WP_UPSTREAM_RESET' });
  assert.equal(body.destroyed, false);
  body.destroy();
});

test('a request undici cannot send is WP_UPSTREAM_REQUEST_INVALID, and the body survives', async () => {
  const body = new Readable({ read() {} });
  await assert.rejects(ups.request(ep(h1Port), 'http1', { method: 'POST', path: '/echo', headers: { host: 'h', 'x-bad': 'a\r\nb' }, body }),
    (err: any) => err.code === 'WP_UPSTREAM_REQUEST_INVALID' && err.status === 400);
  await assert.rejects(ups2.request(ep(h2Port), 'h2c', { method: 'GET', path: 'no-slash', headers: {}, body: null }), { code: 'WP_UPSTREAM_REQUEST_INVALID' });
  assert.equal(body.destroyed, false);
  body.destroy();
  assert.equal(ups.active(ep(h1Port).id), 0);
});

test('a failing request body is a cancellation', async () => {
  const body = new Readable({ read() {} });
  body.push('start');
  const p = ups.request(ep(h1Port), 'http1', { method: 'POST', path: '/hang', headers: { host: 'h' }, body });
  setTimeout(() => body.destroy(new Error('client went away')), 50);
  await assert.rejects(p, { code: 'WP_UPSTREAM_CANCELLED' });
});

// ---- h2c ----

test('h2c: GET carries :authority from host, te: trailers, and streams the body', async () => {
  const r = await ups2.request(ep(h2Port), 'h2c', { method: 'GET', path: '/hello', headers: { host: 'reviews.demo:9080', te: 'trailers', connection: 'keep-alive' }, body: null });
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-upstream'], 'h2');
  assert.equal(r.headers[':status'], undefined);
  assert.deepEqual(JSON.parse((await readAll(r.body)).toString()), { authority: 'reviews.demo:9080', te: 'trailers', method: 'GET' });
});

test('h2c: 10 MiB up and down stream intact (sha256)', async () => {
  const { body, digest } = randomBody(10 * MiB);
  const r = await ups2.request(ep(h2Port), 'h2c', { method: 'POST', path: '/echo', headers: { host: 'h' }, body });
  const got = await sha256Of(r.body);
  assert.equal(got.bytes, 10 * MiB);
  assert.equal(got.hex, digest());
});

test('h2c: a response body that is not read holds the upstream back (flow control)', async () => {
  bigSent.value = 0;
  const r = await ups2.request(ep(h2Port), 'h2c', { method: 'GET', path: '/big', headers: { host: 'h' }, body: null });
  await sleep(300);
  assert.ok(bigSent.value < 4 * MiB, `upstream wrote ${bigSent.value} bytes while nobody read`);
  const got = await sha256Of(r.body);
  assert.equal(got.bytes, 32 * MiB);
});

test('h2c: trailers arrive', async () => {
  const r = await ups2.request(ep(h2Port), 'h2c', { method: 'GET', path: '/trailers', headers: { host: 'h' }, body: null });
  assert.equal((await readAll(r.body)).toString(), 'with trailers');
  assert.deepEqual(await r.trailers, { 'x-trailer': 'yes' });
});

test('h2c: 200 concurrent requests multiplex and all succeed', async () => {
  const rs = await Promise.all(Array.from({ length: 200 }, (_, i) =>
    ups2.request(ep(h2Port), 'h2c', { method: 'POST', path: '/echo', headers: { host: 'h' }, body: Readable.from([Buffer.from(`n${i}`)]) })
      .then(async (r) => (await readAll(r.body)).toString())));
  rs.forEach((t, i) => assert.equal(t, `n${i}`));
});

test('h2c: REFUSED_STREAM is WP_UPSTREAM_REFUSED_STREAM; another reset is WP_UPSTREAM_RESET', async () => {
  await assert.rejects(ups2.request(ep(h2Port), 'h2c', { method: 'GET', path: '/refuse', headers: { host: 'h' }, body: null }),
    (err: any) => err.code === 'WP_UPSTREAM_REFUSED_STREAM' && err.kind === 'refused-stream' && err.responseFlag === 'UR');
  await assert.rejects(ups2.request(ep(h2Port), 'h2c', { method: 'POST', path: '/refuse', headers: { host: 'h' }, body: Readable.from([Buffer.from('x')]) }),
    { code: 'WP_UPSTREAM_REFUSED_STREAM' });
  await assert.rejects(ups2.request(ep(h2Port), 'h2c', { method: 'GET', path: '/rst', headers: { host: 'h' }, body: null }),
    { code: 'WP_UPSTREAM_RESET' });
});

test('h2c spoken to an HTTP/1.1 server fails as a protocol error or reset, not a hang', async () => {
  const u = createUpstreams({ connect: tunnelTo(h1Port) });
  try {
    await assert.rejects(u.request(ep(h1Port, 5), 'h2c', { method: 'GET', path: '/hello', headers: { host: 'h' }, body: null, timeoutMs: 3000 }),
      (err: any) => ['WP_UPSTREAM_PROTOCOL_ERROR', 'WP_UPSTREAM_RESET'].includes(err.code));
  } finally {
    await u.close(100);
  }
});

// ---- gRPC ----

function grpcFrame(msg: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(msg.length, 1);
  return Buffer.concat([head, msg]);
}

test('gRPC unary end to end: response message and grpc-status in trailers', async () => {
  const u = createUpstreams({ connect: tunnelTo(grpcPort) });
  try {
    const r = await u.request(ep(grpcPort), 'h2c', {
      method: 'POST', path: '/test.Echo/Echo',
      headers: { host: 'echo.demo:50051', 'content-type': 'application/grpc', te: 'trailers' },
      body: Readable.from([grpcFrame(Buffer.from('ping'))]),
    });
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^application\/grpc/);
    const bytes = await readAll(r.body);
    assert.equal(bytes.readUInt32BE(1), bytes.length - 5);
    assert.equal(bytes.subarray(5).toString(), 'echo:ping');
    const trailers = await r.trailers;
    assert.equal(trailers['grpc-status'], '0');

    const f = await u.request(ep(grpcPort), 'h2c', {
      method: 'POST', path: '/test.Echo/Fail',
      headers: { host: 'echo.demo:50051', 'content-type': 'application/grpc', te: 'trailers' },
      body: Readable.from([grpcFrame(Buffer.from('x'))]),
    });
    await readAll(f.body);
    const t = await f.trailers;
    // A failure without messages may come trailers-only (status in the headers).
    assert.equal(t['grpc-status'] ?? f.headers['grpc-status'], String(grpc.status.NOT_FOUND));
    assert.equal(decodeURIComponent(String(t['grpc-message'] ?? f.headers['grpc-message'])), 'no such thing');
  } finally {
    await u.close(100);
  }
});

test('close() rejects later requests', async () => {
  const u = createUpstreams({ connect: tunnelTo(h1Port) });
  await u.close(100);
  await assert.rejects(u.request(ep(h1Port), 'http1', { method: 'GET', path: '/hello', headers: {}, body: null }), { code: 'WP_UPSTREAM_CANCELLED' });
});
