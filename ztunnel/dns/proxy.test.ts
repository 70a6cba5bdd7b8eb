// The DNS proxy: handleQuery decisions on raw messages, and the UDP/TCP adapters on loopback (port 0) with a fake
// forward (nothing leaves the machine).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { createServer, connect, type AddressInfo } from 'node:net';
import { once } from 'node:events';
import { buildMessage, buildQuery, parseMessage, RCODE, responseTo, TYPE } from '../../shared/dns/index.ts';
import { ipBytes } from '../../shared/proto/ip.ts';
import type { Service, Workload } from '../types.ts';
import { createDnsProxy, type DnsForward } from './proxy.ts';
import type { DnsView } from './resolve.ts';

const echo: Service = { name: 'echo', namespace: 'demo', hostname: 'echo.demo.svc.cluster.local', addresses: [{ network: '', address: ipBytes('10.96.0.20') }] };
const big: Service = { name: 'big', namespace: 'demo', hostname: 'big.demo.svc.cluster.local' };
const bigPods: Workload[] = Array.from({ length: 60 }, (_, i) => ({
  uid: `p${i}`, addresses: [ipBytes(`10.244.1.${i + 2}`)], services: { 'demo/big.demo.svc.cluster.local': { ports: [] } },
}));
const view: DnsView = {
  serviceByHostname: (h) => [echo, big].find((s) => s.hostname === h),
  allWorkloads: () => bigPods,
};

/** A fake upstream: answers every A query with 192.0.2.1 and records what it was asked. */
function fakeForward(): { forward: DnsForward; calls: Array<{ name: string; tcp: boolean }> } {
  const calls: Array<{ name: string; tcp: boolean }> = [];
  return {
    calls,
    forward: async (raw, tcp) => {
      const q = parseMessage(raw);
      calls.push({ name: q.questions[0]!.name, tcp });
      const res = responseTo(q, RCODE.NOERROR, { ra: true });
      res.answers = [{ name: q.questions[0]!.name, ttl: 60, data: { type: 'A', address: '192.0.2.1' } }];
      return buildMessage(res);
    },
  };
}

test('a mesh Service name is answered locally, authoritative, same id and question', async () => {
  const f = fakeForward();
  const p = createDnsProxy({ view, forward: f.forward });
  const res = parseMessage((await p.handleQuery(buildQuery(0x1234, 'Echo.Demo.svc.cluster.local.', TYPE.A), false))!);
  assert.equal(res.id, 0x1234);
  assert.equal(res.flags.qr, true);
  assert.equal(res.flags.aa, true);
  assert.equal(res.flags.rcode, RCODE.NOERROR);
  assert.deepEqual(res.questions, [{ name: 'echo.demo.svc.cluster.local', type: TYPE.A, class: 1 }]);
  assert.deepEqual(res.answers, [{ name: 'echo.demo.svc.cluster.local', ttl: 30, data: { type: 'A', address: '10.96.0.20' } }]);
  assert.deepEqual(f.calls, []);
});

test('the other type of a known name: NOERROR, no answers, not forwarded', async () => {
  const f = fakeForward();
  const p = createDnsProxy({ view, forward: f.forward });
  const res = parseMessage((await p.handleQuery(buildQuery(7, 'echo.demo.svc.cluster.local', TYPE.AAAA), false))!);
  assert.equal(res.flags.rcode, RCODE.NOERROR);
  assert.deepEqual(res.answers, []);
  assert.deepEqual(f.calls, []);
});

test('unknown names go to forward, raw, with the transport; its answer is returned unchanged', async () => {
  const f = fakeForward();
  const p = createDnsProxy({ view, forward: f.forward });
  const q = buildQuery(9, 'example.org', TYPE.A);
  const out = await p.handleQuery(q, true);
  assert.deepEqual(f.calls, [{ name: 'example.org', tcp: true }]);
  assert.deepEqual(parseMessage(out!).answers[0]!.data, { type: 'A', address: '192.0.2.1' });
});

test('a failing forward becomes SERVFAIL', async () => {
  const p = createDnsProxy({ view, forward: async () => { throw new Error('upstream timed out'); } });
  const res = parseMessage((await p.handleQuery(buildQuery(10, 'example.org', TYPE.A), false))!);
  assert.equal(res.id, 10);
  assert.equal(res.flags.rcode, RCODE.SERVFAIL);
});

test('malformed input: FORMERR when the id is readable, nothing otherwise; responses are ignored', async () => {
  const p = createDnsProxy({ view, forward: fakeForward().forward });
  assert.equal(await p.handleQuery(Buffer.from([1, 2, 3]), false), undefined);
  const truncated = buildQuery(11, 'echo.demo.svc.cluster.local', TYPE.A).subarray(0, 20);
  const res = parseMessage((await p.handleQuery(truncated, false))!);
  assert.equal(res.id, 11);
  assert.equal(res.flags.rcode, RCODE.FORMERR);
  const answer = buildMessage(responseTo(parseMessage(buildQuery(12, 'x', TYPE.A)), RCODE.NOERROR));
  assert.equal(await p.handleQuery(answer, false), undefined);
});

test('a local answer too big for UDP is truncated (TC) and complete over TCP', async () => {
  const p = createDnsProxy({ view, forward: fakeForward().forward });
  const q = buildQuery(13, 'big.demo.svc.cluster.local', TYPE.A);
  const udp = parseMessage((await p.handleQuery(q, false))!);
  assert.equal(udp.flags.tc, true);
  assert.equal(udp.answers.length, 0);
  const tcp = parseMessage((await p.handleQuery(q, true))!);
  assert.equal(tcp.flags.tc, false);
  assert.equal(tcp.answers.length, 60);
});

test('UDP adapter on loopback', async (t) => {
  const f = fakeForward();
  const p = createDnsProxy({ view, forward: f.forward });
  const server = createSocket('udp4');
  const client = createSocket('udp4');
  t.after(() => { p.close(); server.close(); client.close(); });
  server.bind(0, '127.0.0.1');
  await once(server, 'listening');
  p.serveUdp(server);
  const { port } = server.address();
  const ask = async (id: number, name: string): Promise<ReturnType<typeof parseMessage>> => {
    const got = once(client, 'message');
    client.send(buildQuery(id, name, TYPE.A), port, '127.0.0.1');
    const [msg] = await got as [Buffer];
    return parseMessage(msg);
  };
  const local = await ask(1, 'echo.demo.svc.cluster.local');
  assert.equal(local.id, 1);
  assert.deepEqual(local.answers.map((r) => r.data), [{ type: 'A', address: '10.96.0.20' }]);
  const fwd = await ask(2, 'example.org');
  assert.equal(fwd.id, 2);
  assert.deepEqual(fwd.answers.map((r) => r.data), [{ type: 'A', address: '192.0.2.1' }]);
  assert.deepEqual(f.calls, [{ name: 'example.org', tcp: false }]);
});

test('TCP adapter on loopback: length framing, coalesced and split queries, answers in order', async (t) => {
  const f = fakeForward();
  const p = createDnsProxy({ view, forward: f.forward });
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  p.serveTcp(server);
  const { port } = server.address() as AddressInfo;
  const sock = connect(port, '127.0.0.1');
  t.after(() => { sock.destroy(); p.close(); server.close(); });
  await once(sock, 'connect');

  const frame = (b: Buffer): Buffer => Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
  const replies: Buffer[] = [];
  let buf = Buffer.alloc(0);
  const want = 3;
  const done = new Promise<void>((resolve) => {
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        replies.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (replies.length >= want) resolve();
    });
  });
  // two queries in one write (the first forwarded, so slower), then a third split across two writes
  sock.write(Buffer.concat([frame(buildQuery(21, 'example.org', TYPE.A)), frame(buildQuery(22, 'echo.demo.svc.cluster.local', TYPE.A))]));
  const third = frame(buildQuery(23, 'big.demo.svc.cluster.local', TYPE.A));
  sock.write(third.subarray(0, 5));
  await new Promise((r) => setTimeout(r, 20));
  sock.write(third.subarray(5));
  await done;
  const msgs = replies.map((r) => parseMessage(r));
  assert.deepEqual(msgs.map((m) => m.id), [21, 22, 23]);
  assert.deepEqual(msgs[0]!.answers.map((r) => r.data), [{ type: 'A', address: '192.0.2.1' }]);
  assert.deepEqual(msgs[1]!.answers.map((r) => r.data), [{ type: 'A', address: '10.96.0.20' }]);
  assert.equal(msgs[2]!.answers.length, 60, 'no truncation over TCP');
  assert.deepEqual(f.calls, [{ name: 'example.org', tcp: true }]);
});

test('close() detaches and drops open TCP connections', async (t) => {
  const p = createDnsProxy({ view, forward: fakeForward().forward });
  const server = createServer();
  t.after(() => server.close());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  p.serveTcp(server);
  const sock = connect((server.address() as AddressInfo).port, '127.0.0.1');
  sock.on('error', () => {});
  await once(sock, 'connect');
  await new Promise((r) => setTimeout(r, 20));
  const closed = once(sock, 'close');
  p.close();
  await closed;
  assert.equal(server.listenerCount('connection'), 0);
});
