// Sample app `ambient-mesh/http-echo` (also serves httpbin-style images): an HTTP/1.1 server on
// $HOST:$PORT (default 0.0.0.0:8080) answering JSON describing the request it received, so tests
// can see the client address the mesh delivered. Extra routes: /status/<code>, /delay/<s> (≤ 10 s),
// /headers. Prints one line when listening; exits 0 on SIGTERM/SIGINT.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const host = process.env.HOST ?? '0.0.0.0';
const port = Number(process.env.PORT ?? 8080);
const hostname = process.env.POD_NAME ?? process.env.HOSTNAME ?? 'unknown';
const maxDelayS = 10;

const server = http.createServer((req, res) => {
  let bodyLength = 0;
  req.on('data', (c: Buffer) => { bodyLength += c.length; });
  req.on('end', () => {
    const url = new URL(req.url ?? '/', 'http://local');
    const reply = (status: number, body: unknown): void => {
      const text = JSON.stringify(body) + '\n';
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    const status = /^\/status\/(\d{3})$/.exec(url.pathname);
    if (status) { reply(Number(status[1]), { status: Number(status[1]) }); return; }
    if (url.pathname === '/headers') { reply(200, { headers: req.headers }); return; }
    const echo = {
      method: req.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      bodyLength,
      remoteAddress: req.socket.remoteAddress,
      remotePort: req.socket.remotePort,
      localAddress: req.socket.localAddress,
      localPort: req.socket.localPort,
      hostname,
    };
    const delay = /^\/delay\/(\d+(?:\.\d+)?)$/.exec(url.pathname);
    if (delay) {
      const timer = setTimeout(() => reply(200, echo), Math.min(Number(delay[1]), maxDelayS) * 1000);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    reply(200, echo);
  });
});

server.listen(port, host, () => {
  const a = server.address() as AddressInfo;
  console.log(`http-echo listening on ${a.address}:${a.port}`);
});

function shutdown(): void {
  server.close(() => process.exit(0));
  server.closeAllConnections();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
