// HBONE end to end on loopback: mutual identity checks, CONNECT through the server's onConnect, half-close,
// pooling, idle close, rotation, and byte-exact transfers (one large, many small).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { once } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type net from 'node:net';
import { testPki } from '../testing/certs.ts';
import { eventually } from '../../test/support/eventually.ts';
import type { SpiffeId } from '../spiffe.ts';
import { HbonePool, createHboneServer } from './index.ts';
import { echo, factory, startBed, upstream, type Bed } from './testbed.ts';
import { silent } from '../log.ts';

let bed: Bed;
let echoUp: { authority: string; close(): void };

before(async () => {
  bed = await startBed();
  echoUp = await upstream(echo);
});
after(async () => {
  await bed.close();
  echoUp.close();
});

function readAll(s: Duplex): Promise<Buffer> {
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  return once(s, 'end').then(() => Buffer.concat(chunks));
}

async function roundTrip(s: Duplex, payload: Buffer): Promise<Buffer> {
  const got = readAll(s);
  s.end(payload);
  return got;
}

test('CONNECT reaches the target through onConnect, with identities and headers on both sides', async () => {
  const s = await bed.open(echoUp.authority);
  assert.equal((await roundTrip(s, Buffer.from('ping'))).toString(), 'ping');
  const info = bed.connects.at(-1)!;
  assert.equal(info.peerIdentity, bed.clientCert.identity);
  assert.equal(info.authority, echoUp.authority);
  assert.equal(info.headers.forwarded, 'for=10.9.9.9');
  assert.equal(info.headers.baggage, 'k8s.namespace.name=cli');
  assert.match(String(info.headers.traceparent), /^00-/);
  assert.equal(info.remoteAddress, '127.0.0.1');
  const d = bed.pool.dump().find((c) => c.key.startsWith(bed.clientCert.identity));
  assert.equal(d?.peerIdentity, bed.serverCert.identity);
});

test('client refuses a server presenting another identity, naming what it presented', async () => {
  const other = 'spiffe://cluster.local/ns/srv/sa/someone-else' as SpiffeId;
  await assert.rejects(bed.open(echoUp.authority, { poolKey: 'wrong-san', expectedIdentity: other }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'ZT_HBONE_TLS');
    assert.ok(err.message.includes(bed.serverCert.identity), err.message);
    assert.ok(err.message.includes(other), err.message);
    return true;
  });
});

test('client refuses a server whose certificate chains to a root it does not trust', async () => {
  const foreign = testPki();
  await assert.rejects(bed.open(echoUp.authority, {
    poolKey: 'untrusted-server', tls: { ...bed.request('').tls, rootsPem: foreign.rootPem },
  }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'ZT_HBONE_TLS');
    assert.ok(err.message.includes(bed.serverCert.identity), err.message);
    return true;
  });
});

test('server refuses a client certificate from an untrusted root; onConnect never runs', async () => {
  const foreign = testPki();
  const rogue = foreign.issue({ ns: 'cli', sa: 'client' });
  const before = bed.connects.length;
  await assert.rejects(bed.open(echoUp.authority, {
    poolKey: 'untrusted-client', tls: { chainPem: rogue.chainPem, keyPem: rogue.keyPem, rootsPem: bed.pki.rootPem },
  }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'ZT_HBONE_TLS', err.message);
    assert.ok(err.message.includes(bed.serverCert.identity), err.message);
    return true;
  });
  assert.equal(bed.connects.length, before);
});

test('server answers non-CONNECT with 405 and an unparseable authority with 400; upstream failure is 503', async () => {
  await assert.rejects(bed.open('example.com:80'), { code: 'ZT_HBONE_REJECTED', status: 400 });
  await assert.rejects(bed.open('127.0.0.1:1'), { code: 'ZT_HBONE_REJECTED', status: 503 });
  const t = bed.request('');
  const session = http2.connect(`https://127.0.0.1:${bed.hbonePort}`, {
    cert: t.tls.chainPem, key: t.tls.keyPem, ca: t.tls.rootsPem, minVersion: 'TLSv1.3', checkServerIdentity: () => undefined,
  });
  try {
    const req = session.request({ ':method': 'GET', ':path': '/' });
    const [headers] = (await once(req, 'response')) as [http2.IncomingHttpHeaders];
    assert.equal(headers[':status'], 405);
    req.close();
  } finally {
    session.destroy();
  }
});

test('half-close: each side can end its direction and keep receiving', async () => {
  // Upstream replies with the byte count after the client's end, then keeps talking, then ends.
  const counter = await upstream((s: net.Socket) => {
    let n = 0;
    s.on('data', (d: Buffer) => (n += d.length));
    s.on('end', () => {
      s.write(`got ${n}`);
      setTimeout(() => s.end(' bye'), 20);
    });
  });
  try {
    const s = await bed.open(counter.authority);
    const got = readAll(s);
    s.write('12345');
    s.end('678');
    assert.equal((await got).toString(), 'got 8 bye');
    // Upstream ends first; the client keeps writing into the tunnel.
    const first = await upstream((u: net.Socket) => {
      let n = 0;
      u.end('early');
      u.on('data', (d: Buffer) => (n += d.length));
      u.on('end', () => assert.equal(n, 3));
    });
    const s2 = await bed.open(first.authority);
    const got2 = await readAll(s2);
    assert.equal(got2.toString(), 'early');
    s2.end('abc');
    await once(s2, 'close');
    first.close();
  } finally {
    counter.close();
  }
});

test('pooling: sequential opens share one connection; 101 concurrent streams use two', async () => {
  const b = await startBed();
  try {
    for (let i = 0; i < 3; i++) {
      const s = await b.open(echoUp.authority);
      await roundTrip(s, Buffer.from('x'));
    }
    assert.equal(b.dials, 1);
    assert.equal(b.pool.dump().length, 1);
    const streams = await Promise.all(Array.from({ length: 101 }, () => b.open(echoUp.authority)));
    const dump = b.pool.dump();
    assert.equal(dump.length, 2, JSON.stringify(dump));
    assert.deepEqual(dump.map((c) => c.activeStreams).sort((x, y) => x - y), [1, 100]);
    assert.equal(b.dials, 2);
    await Promise.all(streams.map((s) => roundTrip(s, Buffer.from('y'))));
  } finally {
    await b.close();
  }
});

test('pooling: concurrent first opens share one dial; a failed dial fails them all and is not cached', async () => {
  const b = await startBed();
  try {
    const streams = await Promise.all(Array.from({ length: 20 }, () => b.open(echoUp.authority)));
    assert.equal(b.dials, 1);
    for (const s of streams) s.destroy();
    let dials = 0;
    const failing = { poolKey: 'refused', dial: () => (dials++, Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))) };
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => b.open(echoUp.authority, failing)));
    assert.ok(results.every((r) => r.status === 'rejected'));
    assert.equal(dials, 1);
    await assert.rejects(b.open(echoUp.authority, failing));
    assert.equal(dials, 2);
  } finally {
    await b.close();
  }
});

test('idle connections close after idleTimeoutMs; an aborted open rejects', async () => {
  const b = await startBed({ idleTimeoutMs: 150 });
  try {
    const s = await b.open(echoUp.authority);
    await roundTrip(s, Buffer.from('x'));
    assert.equal(b.pool.dump().length, 1);
    await eventually(() => b.pool.dump().length === 0, 3000);
    await assert.rejects(b.open(echoUp.authority, { signal: AbortSignal.abort() }), { name: 'AbortError' });
  } finally {
    await b.close();
  }
});

test('server certificate rotation: new connections present the new identity', async () => {
  const b = await startBed();
  try {
    const next = b.pki.issue({ ns: 'srv', sa: 'rotated' });
    b.serverTls.current = { chainPem: next.chainPem, keyPem: next.keyPem, rootsPem: b.pki.rootPem };
    b.hbone.refreshTls(); // optional: the next accept would pick it up anyway
    const s = await b.open(echoUp.authority, { poolKey: 'rotated', expectedIdentity: next.identity as SpiffeId });
    assert.equal((await roundTrip(s, Buffer.from('r'))).toString(), 'r');
    await assert.rejects(b.open(echoUp.authority, { poolKey: 'old-identity' }), { code: 'ZT_HBONE_TLS' });
  } finally {
    await b.close();
  }
});

test('GOAWAY removes the connection from the pool; the next open dials again', async () => {
  const b = await startBed();
  try {
    await roundTrip(await b.open(echoUp.authority), Buffer.from('x'));
    const sessions: http2.ServerHttp2Session[] = [];
    b.hbone.on('session', (s) => sessions.push(s));
    // Watch sessions from here on, and open through a fresh pool so its connection is one we can see.
    const before = b.dials;
    const pool2 = new HbonePool({ log: silent });
    const s = await pool2.open(b.request(echoUp.authority));
    await eventually(() => sessions.length === 1);
    sessions[0]!.goaway();
    await eventually(() => pool2.dump().every((c) => c.draining) || pool2.dump().length === 0);
    await roundTrip(s, Buffer.from('still works')).catch(() => {});
    await roundTrip(await pool2.open(b.request(echoUp.authority)), Buffer.from('z'));
    assert.equal(b.dials, before + 2);
    await pool2.close(100);
  } finally {
    await b.close();
  }
});

test('a stream that crosses the server\'s GOAWAY (REFUSED_STREAM) is opened again on a new connection', async () => {
  const b = await startBed();
  try {
    (await b.open(echoUp.authority)).destroy();
    assert.equal(b.dials, 1);
    // The server sends GOAWAY while handling the first of three streams written together: the other two arrive
    // after it and are refused unprocessed.
    b.hbone.once('stream', () => b.hbone.goAway());
    const streams = await Promise.all([1, 2, 3].map(() => b.open(echoUp.authority)));
    const echoed = await Promise.all(streams.map((s, i) => roundTrip(s, Buffer.from(`r${i}`))));
    assert.deepEqual(echoed.map(String), ['r0', 'r1', 'r2']);
    assert.equal(b.dials, 2, 'the refused streams went out again on one new connection');
  } finally {
    await b.close();
  }
});

test('a peer that refuses every stream fails the open after a bounded number of tries', async () => {
  const b = await startBed();
  let refusals = 0;
  const refusing = createHboneServer({
    tls: () => b.serverTls.current,
    log: silent,
    onConnect: (stream) => {
      refusals++;
      stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
    },
  });
  await factory.listen({ host: '127.0.0.1', port: 0, server: refusing });
  const port = (refusing.address() as net.AddressInfo).port;
  try {
    const err = await b.open(echoUp.authority, {
      poolKey: 'refusing', dial: () => factory.connect({ host: '127.0.0.1', port, timeoutMs: 2000 }),
    }).then(() => undefined, (e: unknown) => e as { code?: string; message?: string });
    assert.equal(err?.code, 'ZT_HBONE_CONNECT', String(err?.message));
    assert.ok(refusals >= 2 && refusals <= 4, `tried ${refusals} times`);
  } finally {
    await b.close();
    await new Promise<void>((r) => refusing.close(() => r()));
  }
});

test('exact bytes: 100 MiB through one stream, sha256 equal at sender, upstream and echo', async () => {
  let upstreamHash = '';
  const hashingEcho = await upstream((u: net.Socket) => {
    const h = createHash('sha256');
    u.on('data', (d: Buffer) => h.update(d));
    u.on('end', () => (upstreamHash = h.digest('hex')));
    u.pipe(u);
  });
  try {
    const s = await bed.open(hashingEcho.authority);
    const sent = createHash('sha256');
    const back = createHash('sha256');
    let backBytes = 0;
    s.on('data', (d: Buffer) => {
      back.update(d);
      backBytes += d.length;
    });
    const ended = once(s, 'end');
    const block = randomBytes(1 << 20);
    for (let i = 0; i < 100; i++) {
      // Vary every MiB so reordering or duplication would change the hash.
      const chunk = Buffer.from(block);
      chunk.writeUInt32BE(i, 0);
      sent.update(chunk);
      if (!s.write(chunk)) await once(s, 'drain');
    }
    s.end();
    await ended;
    const want = sent.digest('hex');
    assert.equal(backBytes, 100 << 20);
    assert.equal(upstreamHash, want);
    assert.equal(back.digest('hex'), want);
  } finally {
    hashingEcho.close();
  }
});

test('exact bytes: 1000 concurrent small echoes, each compared', async () => {
  const payloads = Array.from({ length: 1000 }, (_, i) => randomBytes(512 + (i % 7) * 300));
  const results = await Promise.all(payloads.map(async (p) => roundTrip(await bed.open(echoUp.authority), p)));
  results.forEach((r, i) => assert.ok(r.equals(payloads[i]!), `echo ${i} differs`));
  assert.ok(bed.pool.dump().filter((c) => !c.draining).length >= 10);
});

test('a peer that never completes the handshake fails the open after handshakeTimeoutMs', async () => {
  const mute = await upstream((s: net.Socket) => s.on('error', () => {}));
  const pool = new HbonePool({ log: silent, handshakeTimeoutMs: 200 });
  try {
    const port = Number(mute.authority.split(':')[1]);
    await assert.rejects(pool.open(bed.request(echoUp.authority, {
      poolKey: 'mute', dial: () => factory.connect({ host: '127.0.0.1', port }),
    })), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ZT_HBONE_TLS');
      assert.match(err.message, /timed out after 200 ms/);
      return true;
    });
  } finally {
    await pool.close(10);
    mute.close();
  }
});
