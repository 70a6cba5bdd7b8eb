// netsock against real network namespaces (privileged) plus the root-namespace path (unprivileged).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readlinkSync, statSync } from 'node:fs';
import type dgram from 'node:dgram';
import net, { type AddressInfo, type Server, type Socket } from 'node:net';
import { constants } from 'node:os';
import { test, type TestContext } from 'node:test';
import { eventually } from '../../test/support/eventually.ts';
import { requirePrivileges } from '../../test/support/privileged.ts';
import { bindUdp, connectTcp, getMark, listenTcp, originalDestination, setMark } from './index.ts';
import { createNetnsPair, inNetns, run } from './testnet.ts';

const home = readlinkSync('/proc/thread-self/ns/net');

/** Every netsock call must leave the event-loop thread in the namespace it started in. */
function assertHome(): void {
  assert.equal(readlinkSync('/proc/thread-self/ns/net'), home);
}

function closeAfter(t: TestContext, ...things: Array<Server | Socket | dgram.Socket>): void {
  t.after(() => {
    for (const x of things) {
      if (x instanceof net.Socket) x.destroy();
      else x.close();
    }
  });
}

function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

/** Echoes every connection; resolves accepted sockets in order through `accepted`. */
function echo(server: Server): { accepted: Socket[] } {
  const state = { accepted: [] as Socket[] };
  server.on('connection', (s: Socket) => {
    state.accepted.push(s);
    s.on('error', () => {});
    s.pipe(s);
  });
  return state;
}

/** Writes `payload` and reads until as many bytes came back. */
async function roundTrip(socket: Socket, payload: string): Promise<string> {
  let got = '';
  const done = new Promise<void>((resolve, reject) => {
    socket.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.length >= payload.length) resolve();
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`closed after ${JSON.stringify(got)}`)));
  });
  socket.write(payload);
  await done;
  return got;
}

test('root namespace: listen and connect on 127.0.0.1 with netns omitted', async (t) => {
  const server = await listenTcp({ host: '127.0.0.1', port: 0 });
  closeAfter(t, server);
  echo(server);
  const client = await connectTcp({ host: '127.0.0.1', port: portOf(server), timeoutMs: 5000 });
  closeAfter(t, client);
  assert.equal(client.remotePort, portOf(server));
  assert.equal(await roundTrip(client, 'hello root'), 'hello root');
  assertHome();
});

test('root namespace: connection refused is a node-shaped system error', async () => {
  const server = await listenTcp({ host: '127.0.0.1', port: 0 });
  const port = portOf(server);
  await new Promise((r) => server.close(r));
  await assert.rejects(connectTcp({ host: '127.0.0.1', port }), {
    code: 'ECONNREFUSED',
    syscall: 'connect',
  });
  assertHome();
});

for (const family of [4, 6] as const) {
  test(`IPv${family}: listen in namespace a, connect from namespace b, bytes both ways`, async (t) => {
    if (!requirePrivileges(t)) return;
    const ns = createNetnsPair(t);
    const [aAddr, bAddr] = family === 4 ? [ns.a4, ns.b4] : [ns.a6, ns.b6];
    const server = await listenTcp({ netns: ns.a, host: aAddr, port: 0 });
    closeAfter(t, server);
    assertHome();
    const { accepted } = echo(server);
    const client = await connectTcp({ netns: ns.b, host: aAddr, port: portOf(server), timeoutMs: 5000 });
    closeAfter(t, client);
    assertHome();
    assert.equal(client.localAddress, bAddr);
    assert.equal(await roundTrip(client, `ping over IPv${family}`), `ping over IPv${family}`);
    assert.equal(accepted[0]?.remoteAddress, bAddr);
  });
}

test('many concurrent connections across namespaces all complete', async (t) => {
  if (!requirePrivileges(t)) return;
  const ns = createNetnsPair(t);
  const server = await listenTcp({ netns: ns.a, host: '0.0.0.0', port: 0, backlog: 1024 });
  closeAfter(t, server);
  echo(server);
  const port = portOf(server);
  const n = 100;
  const results = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const c = await connectTcp({ netns: ns.b, host: ns.a4, port, timeoutMs: 10_000 });
      try {
        return await roundTrip(c, `conn-${i};`);
      } finally {
        c.destroy();
      }
    }),
  );
  assert.deepEqual(results, Array.from({ length: n }, (_, i) => `conn-${i};`));
  assertHome();
});

test('reusePort: a successor listens next to the old listener, and takes every connection once the old one closes', async (t) => {
  if (!requirePrivileges(t)) return;
  const ns = createNetnsPair(t);
  const old = await listenTcp({ netns: ns.a, host: ns.a4, port: 0, reusePort: true });
  const port = portOf(old);
  // Without SO_REUSEPORT on both, the port is taken.
  await assert.rejects(listenTcp({ netns: ns.a, host: ns.a4, port }), { code: 'EADDRINUSE' });
  const next = await listenTcp({ netns: ns.a, host: ns.a4, port, reusePort: true });
  closeAfter(t, next);
  const byOld = echo(old);
  const byNext = echo(next);
  const burst = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      const c = await connectTcp({ netns: ns.b, host: ns.a4, port, timeoutMs: 5000 });
      assert.equal(await roundTrip(c, `r${i};`), `r${i};`);
      c.destroy();
    }
  };
  await burst(40);
  assert.ok(byOld.accepted.length > 0 && byNext.accepted.length > 0, `both served (${byOld.accepted.length}/${byNext.accepted.length})`);
  await new Promise<void>((resolve) => old.close(() => resolve()));
  for (const s of byOld.accepted) s.destroy();
  const before = byNext.accepted.length;
  await burst(20);
  assert.equal(byNext.accepted.length, before + 20, 'after the old listener closed, every connection reaches the successor');
  const udpA = await bindUdp({ netns: ns.a, host: ns.a4, port: 0, reusePort: true });
  closeAfter(t, udpA);
  const udpB = await bindUdp({ netns: ns.a, host: ns.a4, port: (udpA.address() as AddressInfo).port, reusePort: true });
  closeAfter(t, udpB);
  assertHome();
});

test('a namespace given as /proc/<pid>/ns/net', async (t) => {
  if (!requirePrivileges(t)) return;
  const ns = createNetnsPair(t);
  const child = spawn('ip', ['netns', 'exec', ns.a, 'sleep', '30'], { stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  const procPath = `/proc/${child.pid}/ns/net`;
  await eventually(() => statSync(procPath).ino === statSync(`/var/run/netns/${ns.a}`).ino, 5000);
  const server = await listenTcp({ netns: procPath, host: ns.a4, port: 0 });
  closeAfter(t, server);
  echo(server);
  const client = await connectTcp({ netns: `/var/run/netns/${ns.b}`, host: ns.a4, port: portOf(server) });
  closeAfter(t, client);
  assert.equal(await roundTrip(client, 'via proc'), 'via proc');
  assertHome();
});

test('originalDestination returns the pre-REDIRECT address and port (IPv4, IPv6, dual-stack)', async (t) => {
  if (!requirePrivileges(t)) return;
  const ns = createNetnsPair(t);
  inNetns(ns.a, ['nft', '-f', '-'], `
    table inet netsock_test {
      chain out {
        type nat hook output priority -100; policy accept;
        tcp dport 80 redirect to :15001
        tcp dport 81 redirect to :15002
      }
    }`);
  const v4 = await listenTcp({ netns: ns.a, host: '127.0.0.1', port: 15001 });
  const v6 = await listenTcp({ netns: ns.a, host: '::1', port: 15001 });
  const dual = await listenTcp({ netns: ns.a, host: '::', port: 15002 });
  closeAfter(t, v4, v6, dual);

  const cases = [
    { server: v4, host: ns.b4, port: 80, family: 4 },
    { server: v6, host: ns.b6, port: 80, family: 6 },
    { server: dual, host: ns.b4, port: 81, family: 4 },
  ] as const;
  for (const c of cases) {
    const accepted = once(c.server, 'connection') as Promise<[Socket]>;
    const client = await connectTcp({ netns: ns.a, host: c.host, port: c.port, timeoutMs: 5000 });
    closeAfter(t, client);
    const [socket] = await accepted;
    closeAfter(t, socket);
    assert.deepEqual(originalDestination(socket), { address: c.host, port: c.port, family: c.family });
    assertHome();
  }
});

function markCounter(ns: string): number {
  const out = JSON.parse(inNetns(ns, ['nft', '-j', 'list', 'chain', 'inet', 'netsock_mark', 'out'])) as {
    nftables: Array<{ rule?: { expr: Array<{ counter?: { packets: number } }> } }>;
  };
  for (const item of out.nftables) {
    const counter = item.rule?.expr.find((e) => e.counter)?.counter;
    if (counter) return counter.packets;
  }
  throw new Error('no counter rule found');
}

test('marks: the mark option and setMark are visible to getMark and to nftables', async (t) => {
  if (!requirePrivileges(t)) return;
  const ns = createNetnsPair(t);
  inNetns(ns.b, ['nft', '-f', '-'], `
    table inet netsock_mark {
      chain out {
        type filter hook output priority 0; policy accept;
        meta mark 0x539 counter
      }
    }`);
  const server = await listenTcp({ netns: ns.a, host: ns.a4, port: 0 });
  closeAfter(t, server);
  const { accepted } = echo(server);

  const plain = await connectTcp({ netns: ns.b, host: ns.a4, port: portOf(server) });
  closeAfter(t, plain);
  await roundTrip(plain, 'unmarked');
  assert.equal(getMark(plain), 0);
  assert.equal(markCounter(ns.b), 0);

  const marked = await connectTcp({ netns: ns.b, host: ns.a4, port: portOf(server), mark: 0x539 });
  closeAfter(t, marked);
  assert.equal(getMark(marked), 0x539);
  await roundTrip(marked, 'marked');
  await eventually(() => markCounter(ns.b) > 0);

  const serverSide = accepted[1];
  assert.ok(serverSide);
  setMark(serverSide, 42);
  assert.equal(getMark(serverSide), 42);
  assertHome();
});

test('transparent: a non-local source address binds only with transparent, and is what the peer sees', async (t) => {
  if (!requirePrivileges(t)) return;
  const ns = createNetnsPair(t);
  const spoofed = '192.0.2.55';
  // Replies to the spoofed address are delivered locally in a (the usual TPROXY routing), and b
  // routes that range back through a. All inside the test namespaces.
  run(['ip', '-n', ns.a, 'rule', 'add', 'to', '192.0.2.0/24', 'lookup', '100']);
  run(['ip', '-n', ns.a, 'route', 'add', 'local', '192.0.2.0/24', 'dev', 'lo', 'table', '100']);
  run(['ip', '-n', ns.b, 'route', 'add', '192.0.2.0/24', 'via', ns.a4]);
  const server = await listenTcp({ netns: ns.b, host: ns.b4, port: 0 });
  closeAfter(t, server);
  const { accepted } = echo(server);

  await assert.rejects(
    connectTcp({ netns: ns.a, host: ns.b4, port: portOf(server), localAddress: spoofed }),
    { code: 'EADDRNOTAVAIL', syscall: 'bind', address: spoofed },
  );
  assertHome();

  const client = await connectTcp({
    netns: ns.a, host: ns.b4, port: portOf(server), localAddress: spoofed, transparent: true, timeoutMs: 5000,
  });
  closeAfter(t, client);
  assert.equal(client.localAddress, spoofed);
  assert.equal(await roundTrip(client, 'spoofed'), 'spoofed');
  assert.equal(accepted[0]?.remoteAddress, spoofed);
  assertHome();
});

for (const family of [4, 6] as const) {
  test(`IPv${family}: bindUdp in a namespace receives a datagram from another namespace`, async (t) => {
    if (!requirePrivileges(t)) return;
    const ns = createNetnsPair(t);
    const [aAddr, bAddr] = family === 4 ? [ns.a4, ns.b4] : [ns.a6, ns.b6];
    const receiver = await bindUdp({ netns: ns.a, host: aAddr, port: 0 });
    const sender = await bindUdp({ netns: ns.b, port: 0, family });
    closeAfter(t, receiver, sender);
    assertHome();
    const got = once(receiver, 'message') as Promise<[Buffer, { address: string; port: number }]>;
    sender.send(`datagram v${family}`, receiver.address().port, aAddr);
    const [msg, rinfo] = await got;
    assert.equal(msg.toString(), `datagram v${family}`);
    assert.equal(rinfo.address, bAddr);
    assert.equal(rinfo.port, sender.address().port);
  });
}

test('errors are node-shaped and leave neither namespace nor file descriptors behind', async (t) => {
  if (!requirePrivileges(t)) return;
  const ns = createNetnsPair(t);
  const first = await listenTcp({ netns: ns.a, host: ns.a4, port: 0 });
  closeAfter(t, first);
  const port = portOf(first);
  const fdsBefore = readdirSync('/proc/self/fd').length;

  for (let i = 0; i < 20; i++) {
    await assert.rejects(listenTcp({ netns: ns.a, host: ns.a4, port }), (err: NodeJS.ErrnoException) => {
      assert.equal(err.code, 'EADDRINUSE');
      assert.equal(err.errno, -constants.errno.EADDRINUSE);
      assert.equal(err.syscall, 'bind');
      assert.equal(err.message, `bind EADDRINUSE ${ns.a4}:${port}`);
      return true;
    });
    assertHome();
    const missing = `/var/run/netns/${ns.prefix}nope`;
    await assert.rejects(listenTcp({ netns: missing, host: '0.0.0.0', port: 0 }), (err: NodeJS.ErrnoException) => {
      assert.equal(err.code, 'ENOENT');
      assert.equal(err.errno, -constants.errno.ENOENT);
      assert.equal(err.syscall, 'setns');
      assert.equal(err.path, missing);
      assert.equal(err.message, `setns ENOENT ${missing}`);
      return true;
    });
    assertHome();
    // Not a namespace file: setns itself refuses it.
    await assert.rejects(connectTcp({ netns: '/proc/self/status', host: ns.a4, port }), {
      code: 'EINVAL',
      syscall: 'setns',
    });
    assertHome();
    // Errors Node raises after the addon handed over the fd must not leak it either.
    await assert.rejects(connectTcp({ netns: ns.b, host: ns.a4, port: 70_000 }), { code: 'ERR_SOCKET_BAD_PORT' });
    await assert.rejects(listenTcp({ netns: ns.b, host: ns.b4, port: 0, server: first }), {
      code: 'ERR_SERVER_ALREADY_LISTEN',
    });
    await assert.rejects(connectTcp({ netns: ns.b, host: ns.a4, port: port + 1 }), { code: 'ECONNREFUSED' });
  }
  // Closed sockets release their fds when libuv finishes closing them, a loop turn later.
  await eventually(() => readdirSync('/proc/self/fd').length === fdsBefore, 5000);
});

test('connect never blocks the event loop; timeoutMs and signal give up', async (t) => {
  if (!requirePrivileges(t)) return;
  const ns = createNetnsPair(t);
  // b drops every SYN, so connects from a hang until given up.
  inNetns(ns.b, ['nft', '-f', '-'], `
    table inet netsock_drop {
      chain in { type filter hook input priority 0; policy accept; tcp dport 9 drop; }
    }`);
  let settled = false;
  const pending = connectTcp({ netns: ns.a, host: ns.b4, port: 9, timeoutMs: 300 }).finally(() => {
    settled = true;
  });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(settled, false, 'the event loop turned while the connect was in progress');
  await assert.rejects(pending, { code: 'NETSOCK_CONNECT_TIMEOUT' });

  const ac = new AbortController();
  const aborted = connectTcp({ netns: ns.a, host: ns.b4, port: 9, signal: ac.signal });
  ac.abort(new Error('caller gave up'));
  await assert.rejects(aborted, { message: 'caller gave up' });
  await assert.rejects(connectTcp({ netns: ns.a, host: ns.b4, port: 9, signal: ac.signal }), {
    message: 'caller gave up',
  });
  assertHome();
});
