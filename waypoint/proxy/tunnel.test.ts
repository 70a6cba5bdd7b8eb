// The HTTP servers fed with tunnels drain gracefully: HTTP/1.1 responses start carrying `Connection: close` (and
// their connection closes after), idle HTTP/1.1 connections close when told, HTTP/2 sessions get a GOAWAY while
// their streams in flight finish. Loopback sockets stand in for HBONE tunnels.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { once } from 'node:events';
import { eventually } from '../../test/support/eventually.ts';
import { createHttpServers, type Tunnel } from './tunnel.ts';

const tunnel = (downstream: Tunnel['downstream']): Tunnel => ({
  source: { ip: '10.0.0.1' } as Tunnel['source'],
  destination: { ip: '10.96.0.50', port: 9080 },
  protocol: 'HTTP',
  downstream,
});

/** A loopback listener whose connections are fed to the servers as tunnels of `downstream`. */
async function serve(t: TestContext, downstream: Tunnel['downstream'], handler: Parameters<typeof createHttpServers>[0]) {
  const servers = createHttpServers(handler);
  const listener = net.createServer((s) => servers.feed(s, tunnel(downstream)));
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  t.after(() => {
    servers.closeAll();
    listener.close();
  });
  return { servers, port: (listener.address() as net.AddressInfo).port };
}

/** A handler that holds each response until release(), then answers `body`; `arrived` once a request came. */
function holding(body: string): { handler: Parameters<typeof createHttpServers>[0]; arrived: boolean; release(): void } {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const h = {
    arrived: false,
    release,
    handler: ((_req, res) => {
      h.arrived = true;
      void held.then(() => res.end(body));
    }) as Parameters<typeof createHttpServers>[0],
  };
  return h;
}

test('HTTP/1.1: keep-alive until drain, then Connection: close on the next response; idle connections close on closeIdle', async (t) => {
  const { servers, port } = await serve(t, 'http1', (_req, res) => res.end('ok'));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const get = () => new Promise<{ connection: string | undefined; body: string; socket: net.Socket }>((resolve, reject) => {
    let socket: net.Socket;
    http.get({ host: '127.0.0.1', port, agent }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ connection: res.headers.connection, body, socket }));
    }).on('error', reject).on('socket', (s) => (socket = s));
  });
  const first = await get();
  assert.equal(first.connection, 'keep-alive');
  const second = await get();
  assert.equal(second.socket, first.socket, 'the connection was reused');

  // A second client's connection, answered once and then idle.
  const idle = net.connect(port, '127.0.0.1');
  idle.resume();
  await once(idle, 'connect');
  idle.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
  await eventually(() => idle.bytesRead > 0); // answered, and now idle
  const idleClosed = once(idle, 'close');

  servers.drain();
  // The pooled connection, reused after the drain started, answers with `Connection: close` and is closed after.
  const during = await get();
  assert.equal(during.socket, first.socket);
  assert.deepEqual([during.body, during.connection], ['ok', 'close']);
  await eventually(() => during.socket.destroyed);
  // Idle connections stay until closeIdle, and then only those idle for its minimum.
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(idle.destroyed, false);
  servers.closeIdle();
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(idle.destroyed, false, 'answered a moment ago: not idle long enough');
  const fresh = net.connect(port, '127.0.0.1');
  fresh.on('error', () => {});
  await once(fresh, 'connect');
  servers.closeIdle(150);
  await idleClosed;
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(fresh.readableEnded, false, 'a connection opened a moment ago (its request still on the way) stays');
  fresh.end('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
  fresh.setEncoding('latin1');
  let answer = '';
  fresh.on('data', (d: string) => (answer += d));
  await once(fresh, 'end');
  assert.match(answer, /^HTTP\/1\.1 200[^]*connection: close[^]*ok$/i);
});

test('HTTP/1.1: a request in flight when the drain starts is answered, with Connection: close', async (t) => {
  const hold = holding('late');
  const { servers, port } = await serve(t, 'http1', hold.handler);
  const agent = new http.Agent({ keepAlive: true });
  t.after(() => agent.destroy());
  let socket: net.Socket | undefined;
  const answered = new Promise<{ connection: string | undefined; body: string }>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, agent }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ connection: res.headers.connection, body }));
    }).on('error', reject).on('socket', (s) => (socket = s));
  });
  await eventually(() => hold.arrived);
  servers.drain();
  hold.release();
  assert.deepEqual(await answered, { connection: 'close', body: 'late' });
  await eventually(() => socket?.destroyed === true);
});

test('HTTP/2: drain sends GOAWAY; the stream in flight completes', async (t) => {
  const hold = holding('done');
  const { servers, port } = await serve(t, 'h2', hold.handler);
  const client = http2.connect(`http://127.0.0.1:${port}`);
  t.after(() => client.destroy());
  const goaway = once(client, 'goaway');
  const req = client.request({ ':path': '/' });
  let body = '';
  req.on('data', (d) => (body += d));
  const ended = once(req, 'end');
  await eventually(() => hold.arrived);
  servers.drain();
  const [code] = await goaway;
  assert.equal(code, http2.constants.NGHTTP2_NO_ERROR);
  hold.release();
  await ended;
  assert.equal(body, 'done');
});
