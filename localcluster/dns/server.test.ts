// In-process tests of DnsServer on loopback (port 0): dig and node's resolver over UDP and TCP.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { createServer, connect } from 'node:net';
import { once } from 'node:events';
import { execFile } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { DnsServer, type DnsServerOptions } from './server.ts';
import { buildQuery, parseMessage, RCODE, TYPE } from '../../shared/dns/index.ts';

const services: V1Service[] = [
  { metadata: { namespace: 'default', name: 'web' }, spec: { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } },
  { metadata: { namespace: 'default', name: 'db' }, spec: { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] } },
];
const slices: V1EndpointSlice[] = [{
  addressType: 'IPv4',
  metadata: { namespace: 'default', name: 'db-1', labels: { 'kubernetes.io/service-name': 'db' } },
  endpoints: Array.from({ length: 40 }, (_, i) => ({ addresses: [`10.244.1.${i + 2}`], conditions: { ready: true } })),
  ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
}];

/** UDP and TCP on the same loopback port, closed after the test. */
async function startServer(t: TestContext, opts: DnsServerOptions = {}): Promise<{ port: number; server: DnsServer }> {
  const server = new DnsServer(opts);
  server.update(services, slices);
  for (let attempt = 0; attempt < 10; attempt++) {
    const udp = createSocket('udp4');
    udp.bind(0, '127.0.0.1');
    await once(udp, 'listening');
    const port = udp.address().port;
    const tcp = createServer();
    try {
      tcp.listen(port, '127.0.0.1');
      await once(tcp, 'listening');
    } catch {
      udp.close();
      continue; // the TCP port was taken; try another
    }
    server.serveUdp(udp);
    server.serveTcp(tcp);
    t.after(() => {
      server.close();
      udp.close();
      tcp.close();
    });
    return { port, server };
  }
  throw new Error('no free port pair on 127.0.0.1');
}

function dig(port: number, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('dig', ['@127.0.0.1', '-p', String(port), '+time=2', '+tries=1', ...args], { timeout: 10_000 }, (err, stdout) => {
      if (err) reject(err);
      else resolve(String(stdout));
    });
  });
}

function resolver(port: number): Resolver {
  const r = new Resolver({ timeout: 2000, tries: 1 });
  r.setServers([`127.0.0.1:${port}`]);
  return r;
}

test('A for a ClusterIP Service (dig and node resolver)', async (t) => {
  const { port } = await startServer(t);
  assert.equal((await dig(port, ['+short', 'web.default.svc.cluster.local', 'A'])).trim(), '10.96.0.20');
  assert.deepEqual(await resolver(port).resolve4('web.default.svc.cluster.local'), ['10.96.0.20']);
});

test('headless Service answers its ready endpoints; a large answer is truncated over UDP and complete over TCP', async (t) => {
  const { port } = await startServer(t);
  const want = slices[0]!.endpoints!.map((e) => e.addresses[0]!).sort();
  const udp = await dig(port, ['+noedns', '+ignore', 'db.default.svc.cluster.local', 'A']);
  assert.match(udp, /flags: qr aa tc rd/);
  const tcp = await dig(port, ['+tcp', '+short', 'db.default.svc.cluster.local', 'A']);
  assert.deepEqual(tcp.trim().split('\n').sort(), want);
  // node's resolver (c-ares) retries over TCP on TC by itself
  assert.deepEqual((await resolver(port).resolve4('db.default.svc.cluster.local')).sort(), want);
});

test('NXDOMAIN for an unknown Service, NODATA for AAAA, REFUSED outside the zone', async (t) => {
  const { port } = await startServer(t);
  assert.match(await dig(port, ['nope.default.svc.cluster.local', 'A']), /status: NXDOMAIN/);
  await assert.rejects(resolver(port).resolve4('nope.default.svc.cluster.local'), { code: 'ENOTFOUND' });
  const aaaa = await dig(port, ['web.default.svc.cluster.local', 'AAAA']);
  assert.match(aaaa, /status: NOERROR/);
  assert.match(aaaa, /ANSWER: 0/);
  assert.match(await dig(port, ['example.com', 'A']), /status: REFUSED/);
});

test('SRV for a named port', async (t) => {
  const { port } = await startServer(t);
  const srv = (await resolver(port).resolveSrv('_http._tcp.web.default.svc.cluster.local'))
    .map(({ name, port, priority, weight }) => ({ name, port, priority, weight }));
  assert.deepEqual(srv, [{ name: 'web.default.svc.cluster.local', port: 80, priority: 0, weight: 100 }]);
  const digged = await dig(port, ['+short', '_pg._tcp.db.default.svc.cluster.local', 'SRV', '+tcp']);
  assert.equal(digged.trim().split('\n').length, 40, 'one SRV per headless endpoint');
  assert.match(digged, /^0 2 5432 10-244-1-2\.db\.default\.svc\.cluster\.local\.$/m);
});

test('TCP: several length-framed queries on one connection, split across writes', async (t) => {
  const { port } = await startServer(t);
  const sock = connect(port, '127.0.0.1');
  t.after(() => sock.destroy());
  await once(sock, 'connect');
  const frame = (b: Buffer) => Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
  const both = Buffer.concat([frame(buildQuery(11, 'web.default.svc.cluster.local', TYPE.A)), frame(buildQuery(12, 'nope.default.svc.cluster.local', TYPE.A))]);
  sock.write(both.subarray(0, 5));
  sock.write(both.subarray(5));
  let buf = Buffer.alloc(0);
  const replies: Buffer[] = [];
  for await (const chunk of sock) {
    buf = Buffer.concat([buf, chunk as Buffer]);
    while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      replies.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      buf = buf.subarray(2 + buf.readUInt16BE(0));
    }
    if (replies.length === 2) break;
  }
  const [a, b] = replies.map((r) => parseMessage(r));
  assert.equal(a!.id, 11);
  assert.deepEqual(a!.answers.map((r) => r.data), [{ type: 'A', address: '10.96.0.20' }]);
  assert.equal(b!.id, 12);
  assert.equal(b!.flags.rcode, RCODE.NXDOMAIN);
});

test('update() replaces the snapshot; a configured upstream gets names outside the zone', async (t) => {
  const forwarded: string[] = [];
  const { port, server } = await startServer(t, {
    forward: async (q) => {
      const m = parseMessage(q);
      forwarded.push(m.questions[0]!.name);
      const out = Buffer.from(q);
      out[2] = 0x81; out[3] = 0x83; // QR, RD, RA, NXDOMAIN
      return out;
    },
  });
  server.update([{ metadata: { namespace: 'default', name: 'web' }, spec: { clusterIP: '10.96.0.99' } }], []);
  assert.deepEqual(await resolver(port).resolve4('web.default.svc.cluster.local'), ['10.96.0.99']);
  assert.match(await dig(port, ['example.com', 'A']), /status: NXDOMAIN/);
  assert.deepEqual(forwarded, ['example.com']);
});

test('malformed queries get FORMERR when the id is readable, and nothing otherwise', async () => {
  const server = new DnsServer();
  const formerr = await server.handle(Buffer.from([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 0x61]), 'udp');
  assert.ok(formerr);
  const m = parseMessage(formerr);
  assert.equal(m.id, 0x1234);
  assert.equal(m.flags.rcode, RCODE.FORMERR);
  assert.equal(await server.handle(Buffer.from([1, 2]), 'udp'), undefined);
});
