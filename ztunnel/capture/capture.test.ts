// Privileged: the capture in real namespaces (testnet.ts). ztunnel's listeners are stood in for by
// netsock listeners inside the pod: each tells the client where it landed; the 15006 one delivers
// transparently to the app, as ztunnel does.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type dgram from 'node:dgram';
import net, { type Server, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { requirePrivileges } from '../../test/support/privileged.ts';
import { bindUdp, connectTcp, listenTcp, originalDestination } from '../../shared/netsock/index.ts';
import { capturePod, isCaptured, releasePod, renderPodRules } from './index.ts';
import { buildTopology, inNs, NODE_IP, PEER_IP, PEER_IP2, PEER_IP6, POD_IP, POD_IP6, sh } from './testnet.ts';

const MARK = 0x539;

function closeAfter(t: TestContext, ...things: Array<Server | Socket | dgram.Socket>): void {
  t.after(() => {
    for (const x of things) {
      if (x instanceof net.Socket) x.destroy();
      else x.close();
    }
  });
}

/** Dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d. */
function plain(address: string | undefined): string {
  return (address ?? '').replace(/^::ffff:(?=\d+\.)/, '');
}

interface Landing { listener: string; remote: string; origDst?: string }

/** A listener that greets each connection with `<name> <remote> <origdst>\n`, then echoes. */
async function greeter(t: TestContext, netns: string, name: string, port: number, log: Landing[]): Promise<Server> {
  const server = await listenTcp({ netns, host: '::', port }); // dual-stack: IPv4 arrives as ::ffff:a.b.c.d
  closeAfter(t, server);
  server.on('connection', (s: Socket) => {
    s.on('error', () => {});
    let origDst: string | undefined;
    try {
      // Conntrack answers for every tracked connection; only a rewritten destination is interesting.
      const o = originalDestination(s);
      if (o.address !== plain(s.localAddress) || o.port !== s.localPort) origDst = `${o.address}:${o.port}`;
    } catch {}
    log.push({ listener: name, remote: plain(s.remoteAddress), ...(origDst ? { origDst } : {}) });
    s.write(`${name} ${plain(s.remoteAddress)} ${origDst ?? '-'}\n`);
    s.pipe(s);
  });
  return server;
}

/** Connects, sends `payload`, and reads until the greeting line and the echo have arrived. */
async function exchange(opts: Parameters<typeof connectTcp>[0], payload = 'ping'): Promise<{ greeting: string; echo: string }> {
  const s = await connectTcp({ timeoutMs: 3000, ...opts });
  try {
    let got = '';
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${JSON.stringify(got)}`)), 3000);
      s.on('data', (d: Buffer) => {
        got += d.toString();
        const nl = got.indexOf('\n');
        if (nl >= 0 && got.length - nl - 1 >= payload.length) {
          clearTimeout(timer);
          resolve();
        }
      });
      s.once('error', reject);
      s.once('close', () => reject(new Error(`closed after ${JSON.stringify(got)}`)));
    });
    s.write(payload);
    await done;
    const nl = got.indexOf('\n');
    return { greeting: got.slice(0, nl), echo: got.slice(nl + 1) };
  } finally {
    s.destroy();
  }
}

test('in-pod capture in real namespaces', { timeout: 60_000 }, async (t) => {
  if (!requirePrivileges(t)) return;
  const topo = buildTopology(t);
  const log: Landing[] = [];

  // Stand-ins for ztunnel in the pod, and the pod's app.
  await greeter(t, topo.pod, 'outbound', 15001, log);
  await greeter(t, topo.pod, 'hbone', 15008, log);
  await greeter(t, topo.pod, 'dns-tcp', 15053, log);
  await greeter(t, topo.pod, 'app', 8080, log);
  await greeter(t, topo.pod, 'app-excluded', 8081, log);
  await greeter(t, topo.peer, 'peer', 9090, log);
  await greeter(t, topo.peer, 'peer-excluded-port', 9091, log);
  const inbound = await listenTcp({ netns: topo.pod, host: '::', port: 15006 });
  closeAfter(t, inbound);
  inbound.on('connection', (s: Socket) => {
    // ztunnel's inbound plaintext path: deliver to the original destination from the client's own IP.
    s.on('error', () => {});
    const o = originalDestination(s);
    const client = plain(s.remoteAddress);
    log.push({ listener: 'inbound', remote: client, origDst: `${o.address}:${o.port}` });
    s.pause();
    connectTcp({
      netns: topo.pod, host: o.address, port: o.port, localAddress: client, transparent: true, mark: MARK,
      timeoutMs: 3000,
    }).then((up) => {
      up.on('error', () => s.destroy());
      s.on('close', () => up.destroy());
      up.on('close', () => s.destroy());
      s.pipe(up);
      up.pipe(s);
      s.resume();
    }, () => s.destroy());
  });
  // Bound to 127.0.0.1 (where REDIRECT sends it), not the wildcard: a wildcard UDP socket would answer from
  // the pod IP, which matches no conntrack reply tuple, so the app would get the answer from the wrong source.
  const dns = await bindUdp({ netns: topo.pod, host: '127.0.0.1', port: 15053 });
  closeAfter(t, dns);
  const dnsSeen: string[] = [];
  dns.on('message', (msg, rinfo) => {
    dnsSeen.push(`${rinfo.address} ${msg.toString()}`);
    dns.send(`answer to ${msg.toString()}`, rinfo.port, rinfo.address);
  });

  const podNs = `/var/run/netns/${topo.pod}`;
  const script = renderPodRules({
    mark: MARK, outboundPort: 15001, inboundPlainPort: 15006, hbonePort: 15008, dnsPort: 15053, captureDns: true,
    probeSources: [NODE_IP], excludeInboundPorts: [8081], excludeOutboundPorts: [9091],
    excludeOutboundCidrs: ['10.244.2.0/24'],
  });
  t.after(() => releasePod(podNs).catch(() => {}));

  await t.test('before capture: plain routed traffic works', async () => {
    assert.equal(await isCaptured(podNs), false);
    const r = await exchange({ netns: topo.peer, host: POD_IP, port: 8080 });
    assert.equal(r.greeting, `app ${PEER_IP} -`);
    assert.equal(r.echo, 'ping');
  });

  await t.test('capturePod installs, and re-applying replaces (one table, one rule)', async () => {
    await capturePod(podNs, script);
    await capturePod(podNs, script);
    assert.equal(await isCaptured(podNs), true);
    assert.equal(inNs(topo.pod, ['nft', 'list', 'tables']).trim(), 'table inet ztunnel');
    for (const family of ['-4', '-6']) {
      const rules = sh(['ip', '-n', topo.pod, family, 'rule', 'show']);
      assert.equal(rules.match(/fwmark 0x111\/0xfff lookup 133/g)?.length, 1, rules);
      assert.match(sh(['ip', '-n', topo.pod, family, 'route', 'show', 'table', '133']), /^local default dev lo/);
    }
  });

  await t.test('outbound TCP lands on 15001 with the original destination', async () => {
    const r = await exchange({ netns: topo.pod, host: '10.96.0.5', port: 80 });
    assert.equal(r.greeting, `outbound ${POD_IP} 10.96.0.5:80`);
  });

  await t.test('a marked connect is not captured', async () => {
    const r = await exchange({ netns: topo.pod, host: PEER_IP2, port: 9090, mark: MARK });
    assert.equal(r.greeting, `peer ${POD_IP} -`);
    const control = await exchange({ netns: topo.pod, host: PEER_IP2, port: 9090 });
    assert.equal(control.greeting, `outbound ${POD_IP} ${PEER_IP2}:9090`);
  });

  await t.test('loopback traffic in the pod is not captured', async () => {
    const r = await exchange({ netns: topo.pod, host: '127.0.0.1', port: 8080 });
    assert.equal(r.greeting, 'app 127.0.0.1 -');
    const own = await exchange({ netns: topo.pod, host: POD_IP, port: 8080 });
    assert.equal(own.greeting, `app ${POD_IP} -`);
  });

  await t.test('excluded outbound CIDR and port bypass', async () => {
    assert.equal((await exchange({ netns: topo.pod, host: PEER_IP, port: 9090 })).greeting, `peer ${POD_IP} -`);
    assert.equal((await exchange({ netns: topo.pod, host: PEER_IP2, port: 9091 })).greeting, `peer-excluded-port ${POD_IP} -`);
  });

  await t.test('DNS to port 53 lands on 15053 (udp and tcp)', async () => {
    const client = await bindUdp({ netns: topo.pod, port: 0 });
    closeAfter(t, client);
    const reply = once(client, 'message');
    client.send('q1', 53, '10.96.0.10');
    const [msg, rinfo] = (await Promise.race([
      reply,
      new Promise((_, reject) => setTimeout(() => reject(new Error('no DNS reply')), 3000)),
    ])) as [Buffer, dgram.RemoteInfo];
    assert.equal(msg.toString(), 'answer to q1');
    // conntrack un-NATs the reply: the app sees the server it asked.
    assert.deepEqual([rinfo.address, rinfo.port], ['10.96.0.10', 53]);
    assert.deepEqual(dnsSeen, [`${POD_IP} q1`]);
    const r = await exchange({ netns: topo.pod, host: '10.96.0.10', port: 53 });
    assert.equal(r.greeting, `dns-tcp ${POD_IP} 10.96.0.10:53`);
  });

  await t.test('inbound lands on 15006 and is delivered transparently: the app sees the peer', async () => {
    const before = log.filter((l) => l.listener === 'inbound').length;
    const r = await exchange({ netns: topo.peer, host: POD_IP, port: 8080 }, 'hello both ways');
    const inb = log.filter((l) => l.listener === 'inbound');
    assert.equal(inb.length, before + 1);
    assert.deepEqual(inb.at(-1), { listener: 'inbound', remote: PEER_IP, origDst: `${POD_IP}:8080` });
    assert.equal(r.greeting, `app ${PEER_IP} -`);
    assert.equal(r.echo, 'hello both ways');
  });

  await t.test('inbound to 15008 reaches the HBONE listener directly', async () => {
    assert.equal((await exchange({ netns: topo.peer, host: POD_IP, port: 15008 })).greeting, `hbone ${PEER_IP} -`);
  });

  await t.test('inbound to a non-HBONE ztunnel port is captured too', async () => {
    // 15001 listens on 0.0.0.0 in the pod, yet a client outside reaches it only through the 15006 handler
    // (whose stand-in here delivers anyway; the real one refuses its own ports): only 15008 is open.
    const before = log.filter((l) => l.listener === 'inbound').length;
    await exchange({ netns: topo.peer, host: POD_IP, port: 15001 });
    const inb = log.filter((l) => l.listener === 'inbound');
    assert.equal(inb.length, before + 1);
    assert.equal(inb.at(-1)?.origDst, `${POD_IP}:15001`);
  });

  await t.test('probes from the node IP and excluded inbound ports reach the app directly', async () => {
    const probe = await exchange({ netns: topo.node, host: POD_IP, port: 8080, localAddress: NODE_IP });
    assert.equal(probe.greeting, `app ${NODE_IP} -`);
    const excluded = await exchange({ netns: topo.peer, host: POD_IP, port: 8081 });
    assert.equal(excluded.greeting, `app-excluded ${PEER_IP} -`);
  });

  await t.test('IPv6: outbound lands on 15001; inbound is delivered transparently', async () => {
    const out = await exchange({ netns: topo.pod, host: 'fd96::5', port: 80 });
    assert.equal(out.greeting, `outbound ${POD_IP6} fd96::5:80`);
    const r = await exchange({ netns: topo.peer, host: POD_IP6, port: 8080 }, 'v6 both ways');
    assert.deepEqual(log.filter((l) => l.listener === 'inbound').at(-1), {
      listener: 'inbound', remote: PEER_IP6, origDst: `${POD_IP6}:8080`,
    });
    assert.equal(r.greeting, `app ${PEER_IP6} -`);
    assert.equal(r.echo, 'v6 both ways');
  });

  await t.test('without the policy routing the app\'s replies escape; capturePod repairs it', async () => {
    for (const family of ['-4', '-6']) sh(['ip', '-n', topo.pod, family, 'rule', 'del', 'fwmark', '0x111/0xfff', 'lookup', '133']);
    assert.equal(await isCaptured(podNs), false);
    await assert.rejects(exchange({ netns: topo.peer, host: POD_IP, port: 8080 }));
    await capturePod(podNs, script);
    assert.equal((await exchange({ netns: topo.peer, host: POD_IP, port: 8080 })).greeting, `app ${PEER_IP} -`);
  });

  await t.test('releasePod restores plain traffic and leaves nothing behind; it is idempotent', async () => {
    await releasePod(podNs);
    await releasePod(podNs);
    assert.equal(await isCaptured(podNs), false);
    assert.equal(inNs(topo.pod, ['nft', 'list', 'tables']).trim(), '');
    for (const family of ['-4', '-6']) {
      assert.doesNotMatch(sh(['ip', '-n', topo.pod, family, 'rule', 'show']), /lookup 133/);
    }
    const before = log.filter((l) => l.listener === 'inbound').length;
    const r = await exchange({ netns: topo.peer, host: POD_IP, port: 8080 });
    assert.equal(r.greeting, `app ${PEER_IP} -`);
    assert.equal(log.filter((l) => l.listener === 'inbound').length, before);
    assert.equal((await exchange({ netns: topo.pod, host: PEER_IP2, port: 9090 })).greeting, `peer ${POD_IP} -`);
  });
});

test('capture errors name the problem', { timeout: 20_000 }, async (t) => {
  if (!requirePrivileges(t)) return;
  const gone = '/var/run/netns/zth5-does-not-exist';
  await assert.rejects(capturePod(gone, 'table inet ztunnel {}\n'), { code: 'ZT_CAPTURE_NETNS_MISSING' });
  await releasePod(gone); // a namespace that is gone has nothing left to release
  assert.equal(await isCaptured(gone), false);
  const topo = buildTopology(t);
  const podNs = `/var/run/netns/${topo.pod}`;
  await assert.rejects(capturePod(podNs, 'table inet ztunnel { nonsense }\n'), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'ZT_CAPTURE_FAILED');
    assert.match(err.message, /nft -f - exited 1/);
    return true;
  });
});
