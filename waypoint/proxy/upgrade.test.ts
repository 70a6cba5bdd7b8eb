// HTTP/1.1 Upgrade (WebSocket) through the waypoint: the pure pieces, the whole path on the loopback test bed (HBONE
// in, policy and routing, HBONE out to the endpoint, 101 and bytes both ways), refusals and non-101 answers, and the
// drain of an upgraded connection inside a tunnel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { Writable, type Duplex } from 'node:stream';
import { pino } from 'pino';
import { eventually } from '../../test/support/eventually.ts';
import type { HttpRoute } from '../../shared/waypoint/config.ts';
import { startBed, SVC, VIP, type Bed } from './testbed.ts';
import { createHttpServers, type Tunnel } from './tunnel.ts';
import { isUpgrade, switchingHead, upgradeHeaders, wantsUpgrade } from './upgrade.ts';

test('wantsUpgrade: Connection must list upgrade; any protocol but h2c', () => {
  const cases: Array<[http.IncomingHttpHeaders, boolean]> = [
    [{ connection: 'Upgrade', upgrade: 'websocket' }, true],
    [{ connection: 'keep-alive, Upgrade', upgrade: 'WebSocket' }, true],
    [{ connection: 'upgrade', upgrade: 'spdy/3.1' }, true],
    [{ connection: 'Upgrade, HTTP2-Settings', upgrade: 'h2c' }, false],
    [{ connection: 'upgrade', upgrade: 'h2c, websocket' }, false],
    [{ upgrade: 'websocket' }, false],
    [{ connection: 'upgrade' }, false],
    [{ connection: 'keep-alive' }, false],
  ];
  for (const [h, want] of cases) assert.equal(wantsUpgrade(h), want, JSON.stringify(h));
  assert.deepEqual(upgradeHeaders({ upgrade: 'websocket' }), { connection: 'upgrade', upgrade: 'websocket' });
});

test('switchingHead: the raw 101 head, without headers that could split it', () => {
  assert.equal(switchingHead(101, { upgrade: 'websocket', 'set-cookie': ['a=1', 'b=2'], bad: 'x\r\ninjected: 1', skip: undefined }),
    'HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nset-cookie: a=1\r\nset-cookie: b=2\r\n\r\n');
});

const route = (id: string, r: Partial<HttpRoute>): HttpRoute => ({
  id, source: { kind: 'HTTPRoute', namespace: 'demo', name: 'reviews' }, matches: [],
  action: { kind: 'forward', backends: [{ service: SVC, weight: 1 }] }, ...r,
});
const accept = (key: string): string => createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');

/** A client's side of one connection: what came back so far, and whether it ended. */
function collect(s: Duplex): { text(): string; ended(): boolean } {
  let buf = Buffer.alloc(0);
  let ended = false;
  s.on('data', (d: Buffer) => (buf = Buffer.concat([buf, d])));
  s.on('end', () => (ended = true));
  s.on('close', () => (ended = true));
  s.on('error', () => {});
  return { text: () => buf.toString('latin1'), ended: () => ended };
}

/** Send an upgrade request through a fresh tunnel to the VIP and wait for the answer's head. */
async function upgradeVia(bed: Bed, path: string, o: { protocol?: string; headers?: string[]; before?: { request: string; answered(text: string): boolean } } = {}) {
  const s = await bed.tunnel(`${VIP}:80`);
  const got = collect(s);
  const key = randomBytes(16).toString('base64');
  if (o.before) {
    // Not pipelined: Node's HTTP/1.1 parser drops what follows a request with an Upgrade it does not take.
    s.write(o.before.request);
    await eventually(() => o.before!.answered(got.text()));
  }
  s.write(`${[`GET ${path} HTTP/1.1`, 'host: reviews.demo.svc.cluster.local', 'connection: Upgrade', `upgrade: ${o.protocol ?? 'websocket'}`,
    `sec-websocket-key: ${key}`, 'sec-websocket-version: 13', ...(o.headers ?? [])].join('\r\n')}\r\n\r\n`);
  // With a request `before`, its answer comes first: this answer's head is the second one.
  const start = (): number => (o.before ? got.text().indexOf('HTTP/1.1', got.text().indexOf('\r\n\r\n') + 4) : 0);
  await eventually(() => (start() >= 0 && got.text().indexOf('\r\n\r\n', start()) >= 0) || got.ended());
  const from = start();
  const end = got.text().indexOf('\r\n\r\n', from);
  const lines = got.text().slice(from, end).split('\r\n');
  const headers = Object.fromEntries(lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
  /** Bytes after this answer's head. */
  const after = (): string => got.text().slice(end + 4);
  return { s, got, key, status, headers, after };
}

test('WebSocket upgrades through the waypoint', { timeout: 60_000 }, async (t) => {
  const records: Array<Record<string, unknown>> = [];
  const sink = new Writable({ write(chunk, _enc, cb) { records.push(JSON.parse(String(chunk)) as Record<string, unknown>); cb(); } });
  const bed = await startBed([{ version: 'v1' }], { hbone: true, firstIp: 40, accessLog: pino({ level: 'info' }, sink) });
  t.after(() => bed.close());
  const app = bed.apps[0]!;
  const upgrades: http.IncomingMessage[] = [];
  app.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex) => {
    upgrades.push(req);
    socket.on('error', () => {});
    if (req.url === '/refuse') return void socket.end('HTTP/1.1 426 Upgrade Required\r\ncontent-length: 4\r\nx-app: 1\r\nconnection: close\r\n\r\nnope');
    let switched = false;
    socket.on('data', (d: Buffer) => void (switched && socket.write(`echo:${d.toString()}`)));
    socket.on('end', () => socket.end(switched ? 'bye' : undefined));
    const reply = (): void => {
      if (socket.writableEnded || socket.destroyed) return;
      switched = true;
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-accept: ${accept(String(req.headers['sec-websocket-key']))}\r\n\r\nhello`);
    };
    if (req.url === '/slow') setTimeout(reply, 1500);
    else reply();
  });
  const configure = (timeoutMs?: number) => bed.configure({
    services: [{ service: SVC, ports: [{ port: 80, protocol: 'HTTP' }], tcp: [], http: [
      route('ws', {
        matches: [{ path: { pathPrefix: '/' } }],
        requestHeaders: { set: { 'x-routed': 'ws' } }, responseHeaders: { add: { 'x-via': 'waypoint' } },
        ...(timeoutMs ? { timeoutMs } : {}),
      }),
    ] }],
    authorization: [{ namespace: 'demo', name: 'no-admin', action: 'DENY', target: { all: true }, rules: [{ from: [], to: [{ paths: ['/admin'] }], when: [] }] }],
  });

  await t.test('101 comes back and bytes flow both ways, past the route timeout', async () => {
    configure(300);
    const ws = await upgradeVia(bed, '/ws');
    assert.equal(ws.status, 101);
    assert.equal(ws.headers['sec-websocket-accept'], accept(ws.key));
    assert.equal(ws.headers.upgrade, 'websocket');
    assert.match(ws.headers.connection ?? '', /^upgrade$/i);
    assert.equal(ws.headers['x-via'], 'waypoint', "the route's response header rules apply to the 101");
    const seen = upgrades.at(-1)!;
    assert.equal(seen.headers['sec-websocket-key'], ws.key);
    assert.equal(seen.headers.upgrade, 'websocket');
    assert.match(String(seen.headers.connection), /upgrade/i);
    assert.equal(seen.headers['x-routed'], 'ws', "the route's request header rules apply");
    assert.equal(seen.headers['x-forwarded-for'], '10.244.1.5');
    await eventually(() => ws.after() === 'hello');
    // Longer than the route timeout (300 ms): it bounds only the wait for the 101.
    await new Promise((r) => setTimeout(r, 500));
    ws.s.write('ping');
    await eventually(() => ws.after() === 'helloecho:ping');
    ws.s.write('pong');
    await eventually(() => ws.after() === 'helloecho:pingecho:pong');
    ws.s.end();
    await eventually(() => ws.got.ended());
    assert.equal(ws.after(), 'helloecho:pingecho:pongbye');
    // One access-log record for the whole upgraded exchange, written when it closed.
    const rec = await eventually(() => records.find((r) => r.response_code === 101));
    assert.equal(records.filter((r) => r.response_code === 101).length, 1);
    assert.equal(rec.path, '/ws');
    assert.equal(rec.response_code_details, 'via_upstream');
    assert.equal(rec.upstream_host, `${app.ip}:${app.port}`);
    assert.equal(rec.bytes_received, 'pingpong'.length);
    assert.ok(Number(rec.bytes_sent) >= 'helloecho:pingecho:pongbye'.length, String(rec.bytes_sent));
  });

  await t.test('istio_requests_total counts the upgrade with response_code 101', async () => {
    const text = await eventually(async () => {
      const m = await bed.registry.metrics();
      return m.includes('response_code="101"') ? m : undefined;
    });
    const line = text.split('\n').find((l) => l.startsWith('istio_requests_total{') && l.includes('response_code="101"'));
    assert.ok(line);
    assert.match(line, /reporter="waypoint"/);
    assert.match(line, /destination_service="reviews.demo.svc.cluster.local"/);
    assert.match(line, /\} 1$/);
    const bytes = text.split('\n').find((l) => l.startsWith('istio_response_bytes_sum{') && l.includes('response_code="101"'));
    assert.match(bytes ?? '', /\} (\d+)$/);
    assert.ok(Number(/\} (\d+)$/.exec(bytes!)![1]) >= 'helloecho:pingecho:pongbye'.length, bytes);
  });

  await t.test('refused by L7 policy (403) or routing (404) without reaching the app; the connection closes', async () => {
    bed.configure({
      services: [{ service: SVC, ports: [{ port: 80, protocol: 'HTTP' }], tcp: [], http: [route('ws-only', { matches: [{ path: { pathPrefix: '/ws' } }, { path: { exact: '/admin' } }] })] }],
      authorization: [{ namespace: 'demo', name: 'no-admin', action: 'DENY', target: { all: true }, rules: [{ from: [], to: [{ paths: ['/admin'] }], when: [] }] }],
    });
    const before = upgrades.length;
    const denied = await upgradeVia(bed, '/admin');
    assert.equal(denied.status, 403);
    assert.equal(denied.headers.connection, 'close');
    await eventually(() => denied.got.ended());
    assert.equal(denied.after(), 'RBAC: access denied');
    const missing = await upgradeVia(bed, '/nowhere');
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.connection, 'close');
    await eventually(() => missing.got.ended());
    assert.equal(upgrades.length, before, 'the app saw neither');
    assert.equal(app.seen.length, 0, 'nor as a plain request');
  });

  await t.test('a non-101 answer is relayed as a normal response and the connection closes', async () => {
    configure();
    const r = await upgradeVia(bed, '/refuse');
    assert.equal(r.status, 426);
    assert.equal(r.headers['x-app'], '1');
    assert.equal(r.headers['x-via'], 'waypoint');
    await eventually(() => r.got.ended());
    assert.equal(r.after(), 'nope');
    assert.equal(upgrades.at(-1)!.url, '/refuse');
    const text = await bed.registry.metrics();
    assert.ok(text.split('\n').some((l) => l.startsWith('istio_requests_total{') && l.includes('response_code="426"')));
  });

  await t.test('the route timeout applies until the 101: a slow upgrade is a 504', async () => {
    configure(300);
    const r = await upgradeVia(bed, '/slow');
    assert.equal(r.status, 504);
    await eventually(() => r.got.ended());
    assert.equal(r.after(), 'upstream request timeout');
  });

  await t.test('h2c is not an upgrade: served as a plain request; a WebSocket upgrade on the same connection still is', async () => {
    configure();
    const before = upgrades.length;
    const h2c = 'GET /plain HTTP/1.1\r\nhost: reviews.demo.svc.cluster.local\r\nconnection: Upgrade, HTTP2-Settings\r\nupgrade: h2c\r\nhttp2-settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n';
    const ws = await upgradeVia(bed, '/ws', { before: { request: h2c, answered: (text) => text.endsWith('\r\n0\r\n\r\n') } });
    const plain = ws.got.text().slice(0, ws.got.text().indexOf('\r\n\r\n'));
    assert.match(plain, /^HTTP\/1\.1 200 /);
    assert.equal(app.seen.at(-1)!.url, '/plain');
    assert.equal(app.seen.at(-1)!.headers.upgrade, undefined, 'the h2c upgrade was not passed on');
    assert.equal(ws.status, 101);
    assert.equal(upgrades.length, before + 1);
    await eventually(() => ws.after() === 'hello');
    ws.s.end();
    await eventually(() => ws.got.ended());
  });
});

test('drain: an upgraded connection is busy, not idle; only closeAll ends it', { timeout: 30_000 }, async (t) => {
  const tunnel: Tunnel = { source: { ip: '10.0.0.1' } as Tunnel['source'], destination: { ip: '10.96.0.50', port: 9080 }, protocol: 'HTTP', downstream: 'http1' };
  const servers = createHttpServers((req, res) => {
    if (!isUpgrade(req)) return void res.end('plain');
    // Stand-in for the handler's 101: take the socket and echo on it.
    const s = (res as http.ServerResponse).socket!;
    (res as http.ServerResponse).detachSocket(s);
    s.write('HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n');
    s.pipe(s);
  });
  const listener = net.createServer((s) => servers.feed(s, tunnel));
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  t.after(() => {
    servers.closeAll();
    listener.close();
  });
  const port = (listener.address() as net.AddressInfo).port;
  const connect = async () => {
    const s = net.connect(port, '127.0.0.1');
    await once(s, 'connect');
    return { s, got: collect(s) };
  };
  const ws = await connect();
  ws.s.write('GET /ws HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n');
  await eventually(() => ws.got.text().startsWith('HTTP/1.1 101'));
  const idle = await connect();
  idle.s.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
  await eventually(() => idle.got.text().endsWith('plain'));

  servers.drain();
  servers.closeIdle(0);
  await eventually(() => idle.got.ended());
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(ws.got.ended(), false, 'the upgraded connection stays through drain and closeIdle');
  ws.s.write('still here');
  await eventually(() => ws.got.text().endsWith('\r\n\r\nstill here'));
  servers.closeAll();
  await eventually(() => ws.got.ended());
});
