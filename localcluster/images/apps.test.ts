// Starts each sample app on 127.0.0.1 with a random port, exercises it, stops it with SIGTERM.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { resolveImage } from './catalogue.ts';

interface Started { child: ChildProcess; line: string }

async function startApp(t: TestContext, image: string, env: Record<string, string>, args?: string[]): Promise<Started> {
  const entry = resolveImage(image);
  assert.ok(entry, image);
  const argv = [...entry.argv, ...(args ?? entry.defaultArgs ?? [])];
  const child = spawn(argv[0] as string, argv.slice(1), {
    env: { PATH: process.env.PATH ?? '', ...entry.defaultEnv, HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  const rl = readline.createInterface({ input: child.stdout! });
  const [line] = (await Promise.race([once(rl, 'line'), once(child, 'exit').then(() => { throw new Error(`${image} exited early`); })])) as [string];
  return { child, line };
}

async function stopApp(s: Started): Promise<void> {
  const exited = once(s.child, 'exit');
  s.child.kill('SIGTERM');
  const [code] = await exited;
  assert.equal(code, 0, 'exits cleanly on SIGTERM');
}

const portOf = (line: string, re: RegExp): number => Number(re.exec(line)?.[1]);

test('http-echo reports what it received, including the caller address', async (t) => {
  const app = await startApp(t, 'ambient-mesh/http-echo', { PORT: '0', HOSTNAME: 'echo-pod-1' });
  const port = portOf(app.line, /listening on 127\.0\.0\.1:(\d+)/);
  assert.ok(port > 0, app.line);
  const res = await fetch(`http://127.0.0.1:${port}/some/path?a=1`, { method: 'POST', body: 'hello', headers: { 'x-test': 'yes' } });
  assert.equal(res.status, 200);
  const body = await res.json() as Record<string, any>;
  assert.equal(body.method, 'POST');
  assert.equal(body.path, '/some/path');
  assert.deepEqual(body.query, { a: '1' });
  assert.equal(body.headers['x-test'], 'yes');
  assert.equal(body.bodyLength, 5);
  assert.equal(body.remoteAddress, '127.0.0.1');
  assert.equal(body.localPort, port);
  assert.equal(body.hostname, 'echo-pod-1');
  const teapot = await fetch(`http://127.0.0.1:${port}/status/418`);
  assert.equal(teapot.status, 418);
  await teapot.arrayBuffer();
  const headers = await (await fetch(`http://127.0.0.1:${port}/headers`, { headers: { 'x-h': 'v' } })).json() as any;
  assert.equal(headers.headers['x-h'], 'v');
  await stopApp(app);
});

test('versioned answers its version over HTTP and gRPC', async (t) => {
  const app = await startApp(t, 'istio/examples-helloworld-v2', { PORT: '0', GRPC_PORT: '0', HOSTNAME: 'hw-pod' });
  const httpPort = portOf(app.line, /http=127\.0\.0\.1:(\d+)/);
  const grpcPort = portOf(app.line, /grpc=127\.0\.0\.1:(\d+)/);
  assert.ok(httpPort > 0 && grpcPort > 0, app.line);
  assert.deepEqual(await (await fetch(`http://127.0.0.1:${httpPort}/`)).json(), { version: 'v2', hostname: 'hw-pod' });
  assert.equal(await (await fetch(`http://127.0.0.1:${httpPort}/hello`)).text(), 'Hello version: v2, instance: hw-pod\n');

  const def = protoLoader.loadSync(fileURLToPath(new URL('./apps/echo.proto', import.meta.url)), { keepCase: true });
  const pkg = grpc.loadPackageDefinition(def) as any;
  const client = new pkg.ambientmesh.echo.Echo(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
  t.after(() => client.close());
  const reply = await new Promise<any>((resolve, reject) => {
    client.Echo({ message: 'hi' }, (err: Error | null, r: unknown) => (err ? reject(err) : resolve(r)));
  });
  assert.deepEqual({ ...reply }, { message: 'hi', version: 'v2', hostname: 'hw-pod' });
  await stopApp(app);
});

test('versioned with FAIL_PERCENT=100 fails every request', async (t) => {
  const app = await startApp(t, 'ambient-mesh/versioned', { PORT: '0', GRPC_PORT: '0', FAIL_PERCENT: '100' });
  const httpPort = portOf(app.line, /http=127\.0\.0\.1:(\d+)/);
  const res = await fetch(`http://127.0.0.1:${httpPort}/`);
  assert.equal(res.status, 503);
  await res.text();
  await stopApp(app);
});

test('tcp-echo echoes lines with the prefix from its arguments', async (t) => {
  const app = await startApp(t, 'istio/tcp-echo-server', {}, ['0', 'hello']);
  const port = portOf(app.line, /listening on 127\.0\.0\.1:(\d+)/);
  const sock = net.connect(port, '127.0.0.1');
  t.after(() => sock.destroy());
  const rl = readline.createInterface({ input: sock });
  sock.write('world\n');
  const [line] = await once(rl, 'line');
  assert.equal(line, 'hello world');
  sock.end();
  await stopApp(app);
});

test('tcp-echo takes a lone prefix argument and the port from $PORT', async (t) => {
  const app = await startApp(t, 'ambient-mesh/tcp-echo', { PORT: '0' }, ['one']);
  const port = portOf(app.line, /listening on 127\.0\.0\.1:(\d+)/);
  const sock = net.connect(port, '127.0.0.1');
  t.after(() => sock.destroy());
  const rl = readline.createInterface({ input: sock });
  sock.write('two\n');
  const [line] = await once(rl, 'line');
  assert.equal(line, 'one two');
  sock.end();
  await stopApp(app);
});
