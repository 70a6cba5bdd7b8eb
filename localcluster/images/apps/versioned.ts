// Sample app `ambient-mesh/versioned` (also Istio's helloworld v1/v2): answers `{version, hostname}`
// over HTTP on $HOST:$PORT (8080; `/hello` gives Istio's "Hello version: v1, instance: <pod>") and
// over gRPC on $GRPC_PORT (9090, service ambientmesh.echo.Echo, see echo.proto). $FAIL_PERCENT
// (0–100) makes that share of requests fail (HTTP 503 / gRPC UNAVAILABLE) for retry demos.
// Prints one line when both listeners are up; exits 0 on SIGTERM/SIGINT.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const host = process.env.HOST ?? '0.0.0.0';
const port = Number(process.env.PORT ?? 8080);
const grpcPort = Number(process.env.GRPC_PORT ?? 9090);
const version = process.env.VERSION ?? 'v1';
const hostname = process.env.POD_NAME ?? process.env.HOSTNAME ?? 'unknown';
const failPercent = Math.min(100, Math.max(0, Number(process.env.FAIL_PERCENT ?? 0) || 0));
const shouldFail = (): boolean => failPercent > 0 && Math.random() * 100 < failPercent;

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (shouldFail()) {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('injected failure\n');
      return;
    }
    if ((req.url ?? '').startsWith('/hello')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`Hello version: ${version}, instance: ${hostname}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ version, hostname }) + '\n');
  });
});

const def = protoLoader.loadSync(fileURLToPath(new URL('./echo.proto', import.meta.url)), { keepCase: true });
const pkg = grpc.loadPackageDefinition(def) as any;
const grpcServer = new grpc.Server();
const echo = (call: grpc.ServerUnaryCall<{ message: string }, unknown>, cb: grpc.sendUnaryData<unknown>): void => {
  if (shouldFail()) { cb({ code: grpc.status.UNAVAILABLE, details: 'injected failure' }); return; }
  cb(null, { message: call.request.message, version, hostname });
};
grpcServer.addService(pkg.ambientmesh.echo.Echo.service, { Echo: echo, Ping: echo });

const grpcHost = host.includes(':') ? `[${host}]` : host;
grpcServer.bindAsync(`${grpcHost}:${grpcPort}`, grpc.ServerCredentials.createInsecure(), (err, boundGrpc) => {
  if (err) { console.error(`versioned: grpc bind failed: ${err.message}`); process.exit(1); }
  server.listen(port, host, () => {
    const a = server.address() as AddressInfo;
    console.log(`versioned ${version} listening http=${a.address}:${a.port} grpc=${host}:${boundGrpc}`);
  });
});

function shutdown(): void {
  server.closeAllConnections();
  server.close();
  grpcServer.tryShutdown(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
