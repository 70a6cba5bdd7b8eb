// ztunnel end to end on a two-node local cluster (root: network namespaces). Workloads start outside the mesh; then
// their namespace is labelled and the running pods are captured with no restart; traffic between them becomes
// HBONE mTLS; policies, STRICT/PERMISSIVE, passthrough, load balancing over Ready endpoints, byte-exactness, ztunnel
// restarts and unenrolment are checked through what a user sees (meshctl, kubectl, metrics, logs, a packet capture).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { requirePrivileges } from '../support/privileged.ts';
import { eventually } from '../support/eventually.ts';
import { Meshctl, netnsOf } from '../support/meshctl.ts';
import {
  SINK_SERVER, bulkClient, captured, concurrentClient, counterSum, execIn, pod, podNetns, podPids, pods, waitReady,
  ztunnelMetrics, ztunnelPod,
} from './support.ts';

function workloads(webDir: string): string {
  return `
apiVersion: v1
kind: Namespace
metadata: {name: zt}
---
apiVersion: v1
kind: Namespace
metadata: {name: outside}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: client, namespace: zt}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: zt, labels: {app: client}}
spec:
  nodeName: node-1
  serviceAccountName: client
  containers: [{name: client, image: ambient-mesh/curl}]
---
apiVersion: v1
kind: Pod
metadata: {name: client2, namespace: zt, labels: {app: client2}}
spec:
  nodeName: node-1
  containers: [{name: client, image: ambient-mesh/curl}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: echo, namespace: zt}
spec:
  replicas: 1
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo, version: v1}}
    spec:
      nodeSelector: {kubernetes.io/hostname: node-2}
      containers:
      - name: echo
        image: ambient-mesh/http-echo
        ports: [{name: http, containerPort: 8080}]
        readinessProbe: {httpGet: {path: /headers, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: zt}
spec:
  selector: {app: echo}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Pod
metadata: {name: web-a, namespace: zt, labels: {app: web}}
spec:
  nodeName: node-2
  containers:
  - name: web
    image: python
    command: [python3, -m, http.server, "8080"]
    workingDir: ${webDir}/web-a
    readinessProbe: {httpGet: {path: /ready, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Pod
metadata: {name: web-b, namespace: zt, labels: {app: web}}
spec:
  nodeName: node-1
  containers:
  - name: web
    image: python
    command: [python3, -m, http.server, "8080"]
    workingDir: ${webDir}/web-b
    readinessProbe: {httpGet: {path: /ready, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: zt}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: sink, namespace: zt, labels: {app: sink}}
spec:
  nodeName: node-2
  containers:
  - name: sink
    image: python
    command: [python3, -c, ${JSON.stringify(SINK_SERVER)}]
    readinessProbe: {tcpSocket: {port: 9000}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: sink, namespace: zt}
spec:
  selector: {app: sink}
  ports: [{port: 9000}]
---
apiVersion: v1
kind: Pod
metadata: {name: stranger, namespace: outside, labels: {app: stranger}}
spec:
  nodeName: node-1
  containers: [{name: client, image: ambient-mesh/curl}]
---
apiVersion: v1
kind: Pod
metadata: {name: extweb, namespace: outside, labels: {app: extweb}}
spec:
  nodeName: node-2
  containers:
  - name: web
    image: python
    command: [python3, -m, http.server, "8080"]
    workingDir: ${webDir}/extweb
    readinessProbe: {httpGet: {path: /ready, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: extweb, namespace: outside}
spec:
  selector: {app: extweb}
  ports: [{port: 80, targetPort: 8080}]
`;
}

const CLIENT_ID = 'spiffe://cluster.local/ns/zt/sa/client';

test('ztunnel: capture without restarts, HBONE mTLS, L4 policy, passthrough, load balancing, exact bytes, restart, unenrol', { timeout: 900_000 }, async (t) => {
  if (!requirePrivileges(t)) return;
  const m = new Meshctl();
  const webDir = join(m.home, 'www');
  t.after(async () => {
    await m.run(['down'], { timeoutMs: 90_000 });
    rmSync(m.home, { recursive: true, force: true });
  });
  for (const name of ['web-a', 'web-b', 'extweb']) {
    mkdirSync(join(webDir, name), { recursive: true });
    writeFileSync(join(webDir, name, 'ready'), 'ok\n');
    writeFileSync(join(webDir, name, 'whoami'), `${name}\n`);
  }
  await m.ok(['up', '--nodes', '2'], { timeoutMs: 240_000 });
  await m.ok(['apply', '-f', '-'], { input: workloads(webDir) });
  const before = await waitReady(m, 'zt', 6);
  await waitReady(m, 'outside', 2);
  const pidsBefore = new Map(before.map((p) => [p.name, podPids(m, p)]));
  const client = pod(m, 'zt', 'client');
  const client2 = pod(m, 'zt', 'client2');
  const echo = pod(m, 'zt', 'echo');
  const stranger = pod(m, 'outside', 'stranger');
  assert.ok(!captured(m, client), 'not captured before enrolment');

  await t.test('labelling the namespace captures its running pods with no restart', async () => {
    await m.ok(['label', 'namespace', 'zt', 'istio.io/dataplane-mode=ambient']);
    await eventually(() => pods(m, 'zt').every((p) => captured(m, p)), 30_000);
    const after = await waitReady(m, 'zt', 6); // node probes still pass through the capture
    for (const p of before) {
      const q = after.find((x) => x.name === p.name);
      assert.ok(q, `${p.name} still exists`);
      assert.equal(q.uid, p.uid, `${p.name}: same uid`);
      assert.equal(q.restarts, p.restarts, `${p.name}: restart count unchanged`);
      assert.deepEqual(podPids(m, q), pidsBefore.get(p.name), `${p.name}: same processes`);
    }
    assert.ok(!captured(m, stranger), 'a pod of another namespace is not captured');
  });

  await t.test('traffic between captured pods is mTLS on 15008 and the app sees the client pod IP', async () => {
    const before2 = counterSum(await ztunnelMetrics(m, 'node-2'), 'istio_tcp_connections_opened_total', { reporter: 'destination', source_principal: CLIENT_ID, connection_security_policy: 'mutual_tls' });
    // A packet capture on the client pod's interface while it sends a marker.
    const pcap = join(m.home, 'client.pcap');
    const dump = spawn('ip', ['netns', 'exec', podNetns(m, client), 'tcpdump', '-i', 'eth0', '-U', '-w', pcap, 'tcp'], { stdio: 'ignore' });
    await eventually(() => existsSync(pcap), 10_000);
    await sleep(300);
    const marker = `zt-marker-${Date.now()}`;
    const r = await execIn(m, client, ['curl', '-sS', '--max-time', '10', '-H', `x-marker: ${marker}`, `http://echo.zt/headers`]);
    assert.equal(r.code, 0, r.stderr);
    const body = JSON.parse(r.stdout);
    assert.equal(body.headers?.['x-marker'], marker, 'the request reached the app intact');
    const seen = await execIn(m, client, ['curl', '-sS', '--max-time', '10', 'http://echo.zt/']);
    assert.equal(JSON.parse(seen.stdout).remoteAddress.replace(/^::ffff:/, ''), client.ip, 'the app sees the client pod IP');
    await sleep(500);
    dump.kill('SIGTERM');
    await once(dump, 'exit');
    const bytes = readFileSync(pcap);
    assert.ok(bytes.length > 200, 'the capture saw packets');
    assert.equal(bytes.includes(Buffer.from(marker)), false, 'the plaintext marker never crossed the wire');
    const port15008 = Buffer.from([0x3a, 0xa0]); // 15008 in network order
    assert.ok(bytes.includes(port15008), 'traffic went to port 15008');
    assert.ok(bytes.includes(Buffer.from([0x17, 0x03, 0x03])), 'TLS application-data records were on the wire');
    const metrics = await ztunnelMetrics(m, 'node-2');
    const after2 = counterSum(metrics, 'istio_tcp_connections_opened_total', { reporter: 'destination', source_principal: CLIENT_ID, connection_security_policy: 'mutual_tls', destination_workload: 'echo' });
    assert.ok(after2 >= before2 + 2, `destination ztunnel counted the client's mTLS connections (${before2} → ${after2})`);
    assert.ok(counterSum(metrics, 'istio_tcp_received_bytes_total', { reporter: 'destination', source_principal: CLIENT_ID }) > 0, 'bytes counted');
    const logs = await m.ok(['logs', '-n', 'istio-system', ztunnelPod(m, 'node-2').name]);
    assert.match(logs, new RegExp(`"src.identity":"${CLIENT_ID}"`), 'the access log carries the client identity');
  });

  await t.test('a Service with two endpoints spreads connections and stops using one that is not Ready', async () => {
    const hits = async (n: number): Promise<Map<string, number>> => {
      const seen = new Map<string, number>();
      for (let i = 0; i < n; i++) {
        const r = await execIn(m, client, ['curl', '-sS', '--max-time', '5', 'http://web.zt/whoami']);
        assert.equal(r.code, 0, r.stderr);
        seen.set(r.stdout.trim(), (seen.get(r.stdout.trim()) ?? 0) + 1);
      }
      return seen;
    };
    const spread = await hits(16);
    assert.ok((spread.get('web-a') ?? 0) > 0 && (spread.get('web-b') ?? 0) > 0, `both endpoints used: ${JSON.stringify([...spread])}`);
    rmSync(join(webDir, 'web-b', 'ready'));
    await eventually(() => !pod(m, 'zt', 'web-b').ready, 20_000);
    await sleep(500); // the controller's debounce and the push
    const only = await hits(10);
    assert.deepEqual([...only.keys()], ['web-a'], `only the Ready endpoint is used: ${JSON.stringify([...only])}`);
    writeFileSync(join(webDir, 'web-b', 'ready'), 'ok\n');
  });

  await t.test('bytes are exact: 100 MiB and 1000 concurrent echoes through the tunnel', async () => {
    const sink = pod(m, 'zt', 'sink');
    const bulk = await execIn(m, client, ['python3', '-c', bulkClient('sink.zt', 9000, 100)], 300_000);
    assert.equal(bulk.code, 0, bulk.stderr);
    const [sent, received, n] = bulk.stdout.trim().split(' ');
    assert.equal(Number(n), 100 * 1024 * 1024, 'every byte came back');
    assert.equal(received, sent, 'what came back is what was sent');
    await eventually(async () => (await m.ok(['logs', '-n', 'zt', sink.name])).includes(`sink sha256 ${sent} ${100 * 1024 * 1024}`), 10_000);
    const many = await execIn(m, client, ['python3', '-c', concurrentClient('sink.zt', 9000, 1000)], 300_000);
    assert.equal(many.code, 0, many.stderr);
    assert.equal(many.stdout.trim(), '1000', 'all 1000 concurrent echoes matched');
  });

  await t.test('a destination outside the mesh passes through', async () => {
    const r = await execIn(m, client, ['curl', '-sS', '--max-time', '10', 'http://extweb.outside/whoami']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'extweb');
  });

  await t.test('AuthorizationPolicy: DENY by principal and by namespace block; ALLOW admits only what it names', async () => {
    const curl = async (from: typeof client, url: string) => (await execIn(m, from, ['curl', '-sS', '--max-time', '5', url])).code;
    assert.equal(await curl(client, 'http://echo.zt/'), 0);
    const echoPolicy = (name: string, action: 'ALLOW' | 'DENY', source: string) => `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ${name}, namespace: zt}
spec:
  selector: {matchLabels: {app: echo}}
  action: ${action}
  rules: [{from: [{source: ${source}}]}]
`;
    /** Apply the policy until `refused` is turned away, check `during`, delete it and wait until `refused` is let in again. */
    const withPolicy = async (yaml: string, refused: typeof client, during: () => Promise<void> = async () => {}) => {
      await m.ok(['apply', '-f', '-'], { input: yaml });
      await eventually(async () => (await curl(refused, 'http://echo.zt/')) !== 0, 15_000);
      await during();
      await m.ok(['delete', '-f', '-'], { input: yaml });
      await eventually(async () => (await curl(refused, 'http://echo.zt/')) === 0, 15_000);
    };
    await withPolicy(echoPolicy('deny-client', 'DENY', '{principals: ["cluster.local/ns/zt/sa/client"]}'), client, async () => {
      assert.equal(await curl(client2, 'http://echo.zt/'), 0, 'another identity is still allowed');
    });
    await withPolicy(echoPolicy('deny-ns', 'DENY', '{namespaces: ["zt"]}'), client2);
    await withPolicy(echoPolicy('allow-client', 'ALLOW', '{principals: ["cluster.local/ns/zt/sa/client"]}'), client2, async () => {
      assert.equal(await curl(client, 'http://echo.zt/'), 0, 'the named principal is admitted');
    });
  });

  await t.test('PERMISSIVE accepts plaintext from outside the mesh; STRICT refuses it', async () => {
    const curl = async () => (await execIn(m, stranger, ['curl', '-sS', '--max-time', '5', 'http://echo.zt/'])).code;
    assert.equal(await curl(), 0, 'default (PERMISSIVE): plaintext accepted');
    const strict = `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: zt}
spec: {mtls: {mode: STRICT}}
`;
    await m.ok(['apply', '-f', '-'], { input: strict });
    await eventually(async () => (await curl()) !== 0, 15_000);
    assert.equal((await execIn(m, client, ['curl', '-sS', '--max-time', '5', 'http://echo.zt/'])).code, 0, 'mTLS from the mesh still works');
    await m.ok(['apply', '-f', '-'], { input: strict.replace('STRICT', 'PERMISSIVE') });
    await eventually(async () => (await curl()) === 0, 15_000);
  });

  await t.test('a ztunnel restart re-adopts every captured pod', async () => {
    const old = ztunnelPod(m, 'node-2');
    const del = m.kubectl(['delete', 'pod', '-n', 'istio-system', old.name]);
    assert.equal(del.code, 0, del.stderr);
    await eventually(() => {
      const p = ztunnelPod(m, 'node-2');
      return p.name !== old.name && p.ready;
    }, 60_000);
    const r = await execIn(m, client, ['curl', '-sS', '--max-time', '10', 'http://echo.zt/']);
    assert.equal(r.code, 0, r.stderr);
    const metrics = await ztunnelMetrics(m, 'node-2');
    assert.ok(counterSum(metrics, 'istio_tcp_connections_opened_total', { reporter: 'destination', source_principal: CLIENT_ID, connection_security_policy: 'mutual_tls' }) >= 1, 'the new ztunnel carries mTLS');
    assert.ok(captured(m, echo));
  });

  await t.test('removing the label restores plain traffic', async () => {
    await m.ok(['label', 'namespace', 'zt', 'istio.io/dataplane-mode-']);
    await eventually(() => pods(m, 'zt').every((p) => !captured(m, p)), 30_000);
    const count = async () => counterSum(await ztunnelMetrics(m, 'node-2'), 'istio_tcp_connections_opened_total', { reporter: 'destination' });
    const c0 = await count();
    const r = await execIn(m, client, ['curl', '-sS', '--max-time', '10', 'http://echo.zt/']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).remoteAddress.replace(/^::ffff:/, ''), client.ip);
    assert.equal(await count(), c0, 'no ztunnel was involved');
  });

  const cid = m.clusterId;
  await m.ok(['down'], { timeoutMs: 90_000 });
  assert.deepEqual(netnsOf(cid), [], 'down removed every namespace');
});
