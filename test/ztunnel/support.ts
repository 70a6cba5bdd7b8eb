// Helpers for the ztunnel network-namespace tests: a two-node local cluster with sample workloads, pod facts read
// through kubectl, commands run inside pods through `meshctl exec`, and ztunnel's endpoints read from inside its
// node's namespace (nothing here ever talks to a cluster address from the root namespace).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { httpGet } from '../../shared/netsock/index.ts';
import { join } from 'node:path';
import { podNetnsName, podNetnsRef } from '../../localcluster/network/index.ts';
import { eventually } from '../support/eventually.ts';
import { Meshctl } from '../support/meshctl.ts';
import type { TestContext } from 'node:test';
import { rmSync } from 'node:fs';

export interface PodFacts {
  name: string;
  namespace: string;
  uid: string;
  ip: string;
  node: string;
  ready: boolean;
  restarts: number;
}

/** YAML: an HTTP echo Deployment (one replica on `node`, ready when it answers) and its Service `echo` (port 80). */
export function echoService(namespace: string, node: string): string {
  return `
apiVersion: apps/v1
kind: Deployment
metadata: {name: echo, namespace: ${namespace}}
spec:
  replicas: 1
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo}}
    spec:
      nodeSelector: {kubernetes.io/hostname: ${node}}
      containers:
      - name: echo
        image: ambient-mesh/http-echo
        ports: [{name: http, containerPort: 8080}]
        readinessProbe: {httpGet: {path: /headers, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: ${namespace}}
spec:
  selector: {app: echo}
  ports: [{name: http, port: 80, targetPort: http}]
`;
}

/**
 * A two-node cluster with namespace `ns` enrolled: a client pod on node-1 (service account `client`) and the echo
 * Service on node-2, both captured. Torn down after the test.
 */
export async function enrolledPair(t: TestContext, ns: string): Promise<{ m: Meshctl; client: PodFacts; echo: PodFacts }> {
  const m = new Meshctl();
  t.after(async () => {
    await m.run(['down'], { timeoutMs: 90_000 });
    rmSync(m.home, { recursive: true, force: true });
  });
  await m.ok(['up', '--nodes', '2'], { timeoutMs: 240_000 });
  await m.ok(['apply', '-f', '-'], { input: `
apiVersion: v1
kind: Namespace
metadata: {name: ${ns}, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: client, namespace: ${ns}}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: ${ns}}
spec:
  nodeName: node-1
  serviceAccountName: client
  containers: [{name: client, image: ambient-mesh/curl}]
---
${echoService(ns, 'node-2')}` });
  await waitReady(m, ns, 2);
  const client = pod(m, ns, 'client');
  const echo = pod(m, ns, 'echo');
  await eventually(() => captured(m, client) && captured(m, echo), 30_000);
  return { m, client, echo };
}

export function pods(m: Meshctl, namespace: string): PodFacts[] {
  const r = m.kubectl(['get', 'pods', '-n', namespace, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout).items as any[]).map((p) => ({
    name: p.metadata.name,
    namespace: p.metadata.namespace,
    uid: p.metadata.uid,
    ip: p.status?.podIP ?? '',
    node: p.spec?.nodeName ?? '',
    ready: (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'),
    restarts: (p.status?.containerStatuses ?? []).reduce((n: number, c: any) => n + (c.restartCount ?? 0), 0),
  }));
}

export function pod(m: Meshctl, namespace: string, prefix: string): PodFacts {
  const p = pods(m, namespace).find((x) => x.name.startsWith(prefix));
  assert.ok(p, `pod ${namespace}/${prefix}* exists`);
  return p;
}

export async function waitReady(m: Meshctl, namespace: string, count: number, timeoutMs = 120_000): Promise<PodFacts[]> {
  return eventually(() => {
    const list = pods(m, namespace);
    assert.ok(list.length >= count && list.every((p) => p.ready), `${namespace}: ${list.filter((p) => p.ready).length}/${count} ready`);
    return list;
  }, timeoutMs);
}

export function podNetns(m: Meshctl, p: PodFacts): string {
  return podNetnsName(m.clusterId, p.uid);
}

/** PIDs of the processes inside a pod's network namespace. */
export function podPids(m: Meshctl, p: PodFacts): number[] {
  const r = spawnSync('ip', ['netns', 'pids', podNetns(m, p)], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).map(Number).sort((a, b) => a - b);
}

/** Whether ztunnel's capture table is installed in the pod's namespace. */
export function captured(m: Meshctl, p: PodFacts): boolean {
  return spawnSync('ip', ['netns', 'exec', podNetns(m, p), 'nft', 'list', 'table', 'inet', 'ztunnel'], { encoding: 'utf8' }).status === 0;
}

/** Run a command in a pod (meshctl exec), bounded. */
export async function execIn(m: Meshctl, p: PodFacts, argv: string[], timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return m.run(['exec', '-n', p.namespace, p.name, '--', ...argv], { timeoutMs });
}

export function nodeNetns(m: Meshctl, node: string): string {
  return `${m.clusterId}-${node}`;
}

/** The node's IP (10.100.0.(10+i)) as the cluster config knows it. */
export function nodeIp(node: string): string {
  return `10.100.0.${10 + Number(node.replace('node-', ''))}`;
}

/** The ztunnel pod on `node` (the ready one while a rollout runs two) and the path of its network namespace. */
export function ztunnelOn(m: Meshctl, node: string): PodFacts & { netns: string } {
  const z = pods(m, 'istio-system').filter((p) => p.name.startsWith('ztunnel-') && p.node === node).sort((a, b) => Number(b.ready) - Number(a.ready))[0];
  assert.ok(z, `a ztunnel pod runs on ${node}`);
  const ref = podNetnsRef(join(m.home, 'cluster'), m.clusterId, z.uid);
  assert.ok(ref, `${z.name} has a network namespace`);
  return { ...z, netns: typeof ref === 'string' ? ref : ref.path };
}

export async function ztunnelMetrics(m: Meshctl, node: string): Promise<string> {
  const z = ztunnelOn(m, node);
  const r = await httpGet({ netns: z.netns, host: z.ip, port: 15020, path: '/metrics' });
  assert.equal(r.status, 200);
  return r.body;
}

export async function ztunnelConfigDump(m: Meshctl, node: string): Promise<any> {
  const r = await httpGet({ netns: ztunnelOn(m, node).netns, host: '127.0.0.1', port: 15000, path: '/config_dump' });
  assert.equal(r.status, 200);
  return JSON.parse(r.body);
}

/** Sum of a counter's samples whose labels include all of `labels`. */
export function counterSum(metrics: string, name: string, labels: Record<string, string>): number {
  let sum = 0;
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export function ztunnelPod(m: Meshctl, node: string): PodFacts {
  const p = pods(m, 'istio-system').find((x) => x.name.startsWith('ztunnel') && x.node === node);
  assert.ok(p, `a ztunnel pod runs on ${node}`);
  return p;
}

/**
 * A control-plane outage: the controller Deployment (deploy/) is scaled to 0 and its pods are gone, so every
 * ztunnel and waypoint loses xDS and the CA. Resolves once no controller pod is left; `restore` scales it back to
 * one replica and waits until it is Ready.
 */
export async function controllerOutage(m: Meshctl): Promise<{ restore(): Promise<void> }> {
  const scale = (n: number): void => {
    const r = m.kubectl(['scale', '-n', 'istio-system', 'deployment/istiod', `--replicas=${n}`]);
    assert.equal(r.code, 0, r.stderr);
  };
  scale(0);
  await eventually(() => !pods(m, 'istio-system').some((p) => p.name.startsWith('istiod-')), 30_000);
  let restored = false;
  return {
    async restore() {
      if (restored) return;
      restored = true;
      scale(1);
      await eventually(() => pods(m, 'istio-system').some((p) => p.name.startsWith('istiod-') && p.ready), 60_000);
    },
  };
}

/** A pure TCP echo server in Python that logs the sha256 and size of what each connection sent, at its end. */
export const SINK_SERVER = `
import asyncio, hashlib
async def handle(r, w):
    h = hashlib.sha256(); n = 0
    while True:
        d = await r.read(65536)
        if not d: break
        h.update(d); n += len(d); w.write(d); await w.drain()
    if w.can_write_eof(): w.write_eof()
    print(f"sink sha256 {h.hexdigest()} {n}", flush=True)
    w.close()
async def main():
    srv = await asyncio.start_server(handle, '0.0.0.0', 9000, backlog=4096)
    async with srv: await srv.serve_forever()
asyncio.run(main())
`;

/** Client: send `mib` MiB of random bytes to host:port, read the echo; prints "<sent sha> <received sha> <received bytes>". */
export function bulkClient(host: string, port: number, mib: number): string {
  return `
import socket, hashlib, os, threading
s = socket.create_connection((${JSON.stringify(host)}, ${port}), 10)
hs = hashlib.sha256(); hr = hashlib.sha256(); got = [0]
def rd():
    while True:
        d = s.recv(1 << 20)
        if not d: break
        hr.update(d); got[0] += len(d)
t = threading.Thread(target=rd); t.start()
for i in range(${mib}):
    c = os.urandom(1 << 20); hs.update(c); s.sendall(c)
s.shutdown(socket.SHUT_WR); t.join()
print(hs.hexdigest(), hr.hexdigest(), got[0])
`;
}

/** Client: `n` concurrent connections, each sends distinct random bytes and checks the echo; prints the count that matched. */
export function concurrentClient(host: string, port: number, n: number): string {
  return `
import asyncio, os, socket, resource
resource.setrlimit(resource.RLIMIT_NOFILE, (8192, 8192))
ip = socket.gethostbyname(${JSON.stringify(host)})
async def one(i):
    r, w = await asyncio.open_connection(ip, ${port})
    d = os.urandom(512 + i)
    w.write(d); await w.drain(); w.write_eof()
    got = await r.read()
    w.close()
    return got == d
async def main():
    res = await asyncio.gather(*[one(i) for i in range(${n})])
    print(sum(1 for x in res if x))
asyncio.run(main())
`;
}
