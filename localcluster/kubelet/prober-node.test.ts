import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseStatusLine, probeRequest, nodeProber } from './prober-node.ts';

const lines: Array<[string, number | undefined]> = [
  ['HTTP/1.1 200 OK\r\n', 200],
  ['HTTP/1.0 503 Service Unavailable\r\nx: y\r\n', 503],
  ['HTTP/1.1 404', undefined], // incomplete
];
for (const [head, want] of lines) {
  test(`status line ${JSON.stringify(head)}`, () => assert.equal(parseStatusLine(head), want));
}

test('a non-HTTP answer is a probe failure', () => {
  assert.throws(() => parseStatusLine('SSH-2.0-x\r\n'), /not HTTP/);
});

test('the request names the host, the path and the extra headers', () => {
  const r = probeRequest({ host: '10.244.1.5', port: 8080, path: 'healthz', headers: { 'X-Probe': '1' } });
  assert.match(r, /^GET \/healthz HTTP\/1.1\r\n/);
  assert.match(r, /\r\nHost: 10.244.1.5:8080\r\n/);
  assert.match(r, /\r\nX-Probe: 1\r\n\r\n$/);
});

test('probes a real server over a socket the prober opened itself', async (t) => {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.url} ${req.headers['user-agent']}`);
    res.statusCode = req.url === '/ok' ? 204 : 500;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const port = (server.address() as AddressInfo).port;
  // /proc/self/ns/net is this process's own namespace: the probe stays on loopback.
  const p = nodeProber('/proc/self/ns/net');
  const base = { netns: undefined, host: '127.0.0.1', port, scheme: 'HTTP' as const, headers: {}, timeoutMs: 2000 };
  assert.equal(await p.http({ ...base, path: '/ok' }), 204);
  assert.equal(await p.http({ ...base, path: '/bad' }), 500);
  assert.deepEqual(seen, ['/ok kube-probe/1.34', '/bad kube-probe/1.34']);
  await p.tcp({ netns: undefined, host: '127.0.0.1', port, timeoutMs: 2000 });
});
