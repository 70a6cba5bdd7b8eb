// Table tests for netsock's pure decisions.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectSpec, ipFamily, listenSpec, netnsPath, NETNS_DIR, udpSpec } from './options.ts';

test('netnsPath: names map under /var/run/netns, absolute paths pass through, others are refused', () => {
  const ok: Array<[string, string]> = [
    ['pod-1', `${NETNS_DIR}/pod-1`],
    ['c1-node-2', `${NETNS_DIR}/c1-node-2`],
    ['/proc/42/ns/net', '/proc/42/ns/net'],
    ['/var/run/netns/x', '/var/run/netns/x'],
  ];
  for (const [input, want] of ok) assert.equal(netnsPath(input), want, input);
  for (const bad of ['', '.', '..', 'a/b', 'netns/x']) {
    assert.throws(() => netnsPath(bad), { code: 'NETSOCK_BAD_NETNS' }, bad);
  }
});

test('ipFamily: literals only', () => {
  const cases: Array<[string, 4 | 6 | 'error']> = [
    ['10.0.0.1', 4],
    ['0.0.0.0', 4],
    ['::', 6],
    ['fd00::1', 6],
    ['::ffff:10.0.0.1', 6],
    ['localhost', 'error'],
    ['kubernetes.default.svc', 'error'],
    ['[::1]', 'error'],
    ['', 'error'],
  ];
  for (const [input, want] of cases) {
    if (want === 'error') assert.throws(() => ipFamily(input, 'host'), { code: 'NETSOCK_BAD_ADDRESS' }, input);
    else assert.equal(ipFamily(input, 'host'), want, input);
  }
});

test('listenSpec: a bound, listening tcp socket with reuseAddr and only the options asked for', () => {
  assert.deepEqual(listenSpec({ netns: 'pod-a', host: '10.244.1.5', port: 15001 }), {
    netns: `${NETNS_DIR}/pod-a`,
    type: 'tcp',
    family: 4,
    address: '10.244.1.5',
    port: 15001,
    listen: true,
    backlog: 511,
    reuseAddr: true,
  });
  assert.deepEqual(listenSpec({ host: '::', port: 0, backlog: 64, transparent: true, mark: 0x539 }), {
    type: 'tcp',
    family: 6,
    address: '::',
    port: 0,
    listen: true,
    backlog: 64,
    reuseAddr: true,
    transparent: true,
    mark: 0x539,
  });
  assert.equal(listenSpec({ host: '::', port: 1, reusePort: true }).reusePort, true);
  assert.equal('reusePort' in listenSpec({ host: '::', port: 1 }), false);
  assert.throws(() => listenSpec({ host: 'localhost', port: 1 }), { code: 'NETSOCK_BAD_ADDRESS' });
});

test('connectSpec: unbound unless a local address or port is given; families must agree', () => {
  const cases: Array<{ input: Parameters<typeof connectSpec>[0]; want: object | string }> = [
    { input: { host: '10.0.0.1', port: 80 }, want: { type: 'tcp', family: 4 } },
    {
      input: { netns: '/proc/7/ns/net', host: 'fd00::1', port: 80, mark: 1 },
      want: { netns: '/proc/7/ns/net', type: 'tcp', family: 6, mark: 1 },
    },
    {
      input: { host: '10.0.0.1', port: 80, localAddress: '10.244.1.9', transparent: true },
      want: { type: 'tcp', family: 4, address: '10.244.1.9', transparent: true },
    },
    { input: { host: '10.0.0.1', port: 80, localPort: 4000 }, want: { type: 'tcp', family: 4, port: 4000 } },
    { input: { host: '10.0.0.1', port: 80, localAddress: 'fd00::1' }, want: 'NETSOCK_FAMILY_MISMATCH' },
    { input: { host: 'example.com', port: 80 }, want: 'NETSOCK_BAD_ADDRESS' },
  ];
  for (const c of cases) {
    if (typeof c.want === 'string') assert.throws(() => connectSpec(c.input), { code: c.want });
    else assert.deepEqual(connectSpec(c.input), c.want);
  }
});

test('udpSpec: host decides the family; without a host, the wildcard of the given family', () => {
  const cases: Array<{ input: Parameters<typeof udpSpec>[0]; want: object | string }> = [
    { input: { host: '10.0.0.1', port: 53 }, want: { type: 'udp', family: 4, address: '10.0.0.1', port: 53 } },
    { input: { port: 0 }, want: { type: 'udp', family: 4, address: '0.0.0.0', port: 0 } },
    { input: { port: 0, family: 6 }, want: { type: 'udp', family: 6, address: '::', port: 0 } },
    { input: { host: '::1', port: 1, family: 6 }, want: { type: 'udp', family: 6, address: '::1', port: 1 } },
    { input: { host: '::1', port: 1, family: 4 }, want: 'NETSOCK_FAMILY_MISMATCH' },
  ];
  for (const c of cases) {
    if (typeof c.want === 'string') assert.throws(() => udpSpec(c.input), { code: c.want });
    else assert.deepEqual(udpSpec(c.input), c.want);
  }
});
