// Socket factories: loopback (default) and inside a fresh network namespace with the proxy mark (privileged).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { defaultSocketFactory, inPodSocketFactory, type SocketFactory } from './index.ts';
import { getMark } from '../netsock/index.ts';
import { requirePrivileges } from '../../test/support/privileged.ts';

function portOf(server: net.Server): number {
  return (server.address() as net.AddressInfo).port;
}

/** Server half-closes first; the client can still send, and the server still receives. */
async function halfCloseRoundTrip(f: SocketFactory): Promise<{ client: net.Socket; accepted: net.Socket }> {
  const server = await f.listen({ host: '127.0.0.1', port: 0 });
  try {
    const acceptedP = once(server, 'connection') as Promise<[net.Socket]>;
    const client = await f.connect({ host: '127.0.0.1', port: portOf(server), timeoutMs: 2000 });
    const [accepted] = await acceptedP;
    accepted.end('bye');
    let got = '';
    client.setEncoding('utf8').on('data', (d: string) => (got += d));
    await once(client, 'end');
    assert.equal(got, 'bye');
    let back = '';
    accepted.setEncoding('utf8').on('data', (d: string) => (back += d));
    client.end('still writing');
    await once(accepted, 'end');
    assert.equal(back, 'still writing');
    return { client, accepted };
  } finally {
    server.close();
  }
}

test('default factory: loopback connect, listen, half-close both ways', async () => {
  const { client } = await halfCloseRoundTrip(defaultSocketFactory());
  client.destroy();
});

test('default factory: transparent is ignored with its local address; an aborted signal refuses', async () => {
  const f = defaultSocketFactory();
  const server = await f.listen({ host: '127.0.0.1', port: 0, transparent: true });
  try {
    const s = await f.connect({ host: '127.0.0.1', port: portOf(server), localAddress: '10.1.2.3', transparent: true });
    assert.equal(s.localAddress, '127.0.0.1');
    s.destroy();
    await assert.rejects(f.connect({ host: '127.0.0.1', port: portOf(server), signal: AbortSignal.abort() }));
  } finally {
    server.close();
  }
});

test('default factory: listens with a caller-supplied server', async () => {
  const f = defaultSocketFactory();
  const mine = net.createServer((s) => s.end('hi'));
  const server = await f.listen({ host: '127.0.0.1', port: 0, server: mine });
  assert.equal(server, mine);
  const c = await f.connect({ host: '127.0.0.1', port: portOf(server) });
  c.setEncoding('utf8');
  const [d] = await once(c, 'data');
  assert.equal(d, 'hi');
  c.destroy();
  server.close();
});

test('in-pod factory: sockets live in the namespace and carry the mark', async (t) => {
  if (!requirePrivileges(t)) return;
  const ns = `zsk${randomBytes(3).toString('hex')}`;
  t.after(() => spawnSync('ip', ['netns', 'del', ns], { timeout: 10_000 }));
  assert.equal(spawnSync('ip', ['netns', 'add', ns]).status, 0);
  assert.equal(spawnSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']).status, 0);
  const f = inPodSocketFactory(`/var/run/netns/${ns}`, { mark: 0x539 });
  const server = await f.listen({ host: '127.0.0.1', port: 0 });
  try {
    const acceptedP = once(server, 'connection') as Promise<[net.Socket]>;
    const client = await f.connect({ host: '127.0.0.1', port: portOf(server), timeoutMs: 2000 });
    const [accepted] = await acceptedP;
    assert.equal(getMark(client), 0x539);
    assert.equal(getMark(accepted), 0x539);
    client.destroy();
    accepted.destroy();
    // The same port in the root namespace is not this listener.
    await assert.rejects(defaultSocketFactory().connect({ host: '127.0.0.1', port: portOf(server), timeoutMs: 1000 }), { code: 'ECONNREFUSED' });
  } finally {
    server.close();
  }
  const { client } = await halfCloseRoundTrip(f);
  client.destroy();
});
