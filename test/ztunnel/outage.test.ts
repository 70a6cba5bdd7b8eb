// ztunnel keeps serving from its last good state while the controller is away (root: network namespaces). The
// controller is away for a minute (its Deployment scaled to 0, so its pods are gone): a connection
// opened before keeps flowing, new connections between known pods work, and a pod created meanwhile becomes
// reachable once the controller is back and the state resyncs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { requirePrivileges } from '../support/privileged.ts';
import { eventually } from '../support/eventually.ts';
import { Meshctl } from '../support/meshctl.ts';
import { repoRoot } from '../../localcluster/paths.ts';
import { SINK_SERVER, captured, controllerOutage, execIn, pod, waitReady, ztunnelConfigDump } from './support.ts';

const OUTAGE_MS = 60_000;

const apps = `
apiVersion: v1
kind: Namespace
metadata: {name: zt, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: zt}
spec:
  nodeName: node-1
  containers: [{name: client, image: ambient-mesh/curl}]
---
apiVersion: v1
kind: Pod
metadata: {name: sink, namespace: zt, labels: {app: sink}}
spec:
  nodeName: node-2
  containers:
  - {name: sink, image: python, command: [python3, -c, ${JSON.stringify(SINK_SERVER)}], readinessProbe: {tcpSocket: {port: 9000}, periodSeconds: 1}}
---
apiVersion: v1
kind: Service
metadata: {name: sink, namespace: zt}
spec:
  selector: {app: sink}
  ports: [{port: 9000}]
`;

const late = `
apiVersion: v1
kind: Pod
metadata: {name: late, namespace: zt, labels: {app: late}}
spec:
  nodeName: node-2
  containers:
  - {name: echo, image: ambient-mesh/http-echo, readinessProbe: {httpGet: {path: /headers, port: 8080}, periodSeconds: 1}}
`;

/** Echo one line per second over a single connection for `seconds`; exit 0 only if every echo matched. */
const longLived = (seconds: number) => `
import socket, time, sys
s = socket.create_connection(('sink.zt', 9000), 10)
s.settimeout(10)
for i in range(${seconds}):
    msg = f"tick {i}\\n".encode()
    s.sendall(msg)
    got = b''
    while len(got) < len(msg):
        d = s.recv(100)
        if not d: sys.exit(f"closed at tick {i}")
        got += d
    if got != msg: sys.exit(f"mismatch at tick {i}")
    time.sleep(1)
print("ticks ok")
`;

test('ztunnel: the controller away for a minute — existing and new connections keep working, state resyncs', { timeout: 600_000 }, async (t) => {
  if (!requirePrivileges(t)) return;
  const m = new Meshctl();
  const active: { outage?: { restore(): Promise<void> } } = {};
  t.after(async () => {
    await active.outage?.restore().catch(() => {});
    await m.run(['down'], { timeoutMs: 90_000 });
    rmSync(m.home, { recursive: true, force: true });
  });
  await m.ok(['up', '--nodes', '2'], { timeoutMs: 240_000 });
  await m.ok(['apply', '-f', '-'], { input: apps });
  await waitReady(m, 'zt', 2);
  const client = pod(m, 'zt', 'client');
  // Created after its namespace was enrolled: captured too.
  await eventually(() => captured(m, client) && captured(m, pod(m, 'zt', 'sink')), 30_000);

  const ticks = Math.ceil(OUTAGE_MS / 1000) + 15;
  const long = spawn(join(repoRoot, 'bin/meshctl'), ['exec', '-n', 'zt', 'client', '--', 'python3', '-c', longLived(ticks)], { env: m.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let longOut = '';
  long.stdout.on('data', (d) => (longOut += d));
  long.stderr.on('data', (d) => (longOut += d));
  const longDone = new Promise<number>((resolve) => long.once('exit', (c) => resolve(c ?? 1)));
  await sleep(3000);

  const outage = (active.outage = await controllerOutage(m));
  await eventually(async () => (await ztunnelConfigDump(m, 'node-1')).xds?.connected === false, 20_000);
  await m.ok(['apply', '-f', '-'], { input: late });
  const started = Date.now();
  let checks = 0;
  while (Date.now() - started < OUTAGE_MS) {
    const r = await execIn(m, client, ['python3', '-c', "import socket;s=socket.create_connection(('sink.zt',9000),5);s.sendall(b'x\\n');print(s.recv(10).decode().strip())"], 20_000);
    assert.equal(r.code, 0, `a new connection during the outage: ${r.stderr}`);
    assert.equal(r.stdout.trim(), 'x');
    checks++;
    await sleep(10_000);
  }
  assert.ok(checks >= 5);
  await outage.restore();

  assert.equal(await longDone, 0, `the long-lived connection survived: ${longOut}`);
  assert.match(longOut, /ticks ok/);
  // Up to two 15 s reconnect backoffs (plus a 20 s silent-stream timeout) after the controller is Ready, on a loaded
  // 2-core CI machine. On failure, say what the client was doing.
  await eventually(async () => (await ztunnelConfigDump(m, 'node-1')).xds?.connected === true, 60_000).catch(async (err: unknown) => {
    const x = (await ztunnelConfigDump(m, 'node-1').catch(() => ({ xds: undefined }))).xds as Record<string, unknown> | undefined;
    const { types: _types, ...state } = x ?? {};
    throw new Error(`ztunnel on node-1 did not reconnect to the controller: ${JSON.stringify(state)}`, { cause: err });
  });
  const latePod = (await waitReady(m, 'zt', 3)).find((p) => p.name === 'late')!;
  await eventually(async () => {
    const r = await execIn(m, client, ['curl', '-sS', '--max-time', '5', `http://${latePod.ip}:8080/`], 10_000);
    return r.code === 0 && JSON.parse(r.stdout).remoteAddress.replace(/^::ffff:/, '') === client.ip;
  }, 30_000);
});
