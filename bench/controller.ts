// Controller benchmark (on demand, not a test): 2000 pods, 1000 Services and 50 simulated ztunnels on delta
// ADS. Reports the time from a single-pod change to every proxy having received (and ACKed) it, p50/p90/p99
// over BENCH_CHANGES changes; the controller's RSS (it runs as its own process); and the bytes of the
// DeltaDiscoveryResponse each proxy gets for one pod change. Prints a markdown table. Loopback only.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { startApiServer } from '../localcluster/apiserver/index.ts';
import { repoRoot } from '../localcluster/paths.ts';
import { silent } from '../shared/log.ts';
import { AdsClient, ADDRESS_TYPE_URL, encodeDeltaResponse, type DeltaDiscoveryResponse } from '../shared/proto/index.ts';

const PODS = Number(process.env.BENCH_PODS ?? 2000);
const SERVICES = Number(process.env.BENCH_SERVICES ?? 1000);
const PROXIES = Number(process.env.BENCH_PROXIES ?? 50);
const CHANGES = Number(process.env.BENCH_CHANGES ?? 20);
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

async function pool<T>(items: T[], width: number, fn: (x: T) => Promise<unknown>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (i < items.length) await fn(items[i++]!);
  }));
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-controller-'));
  const api = await startApiServer({ stateDir: dir, port: 0, logger: silent, historyLimit: 50_000 });
  const kc = new KubeConfig();
  kc.loadFromFile(api.kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  let controller: ReturnType<typeof spawn> | undefined;
  const rows: Array<[string, string]> = [];
  try {
    await core.createNamespace({ body: { metadata: { name: 'istio-system' } } });
    await core.createNamespace({ body: { metadata: { name: 'bench', labels: { 'istio.io/dataplane-mode': 'ambient' } } } });
    await core.createNamespacedServiceAccount({ namespace: 'istio-system', body: { metadata: { name: 'ztunnel' } } });
    const zt = await core.createNamespacedPod({ namespace: 'istio-system', body: { metadata: { name: 'ztunnel' }, spec: { nodeName: 'node-1', serviceAccountName: 'ztunnel', containers: [{ name: 'z', image: 'busybox' }] } } });
    let t0 = performance.now();
    await pool([...Array(SERVICES).keys()], 16, (i) => core.createNamespacedService({ namespace: 'bench', body: { metadata: { name: `svc-${i}` }, spec: { selector: { app: `app-${i}` }, ports: [{ port: 80, targetPort: 8080 }] } } }));
    await pool([...Array(PODS).keys()], 16, async (i) => {
      const name = `pod-${i}`;
      await core.createNamespacedPod({ namespace: 'bench', body: { metadata: { name, labels: { app: `app-${i % SERVICES}` } }, spec: { nodeName: `node-${1 + (i % 10)}`, containers: [{ name: 'c', image: 'busybox' }] } } });
      const ip = `10.244.${Math.floor(i / 250)}.${2 + (i % 250)}`;
      await core.patchNamespacedPodStatus({ name, namespace: 'bench', body: { status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: 'True' }] } } }, merge);
    });
    rows.push([`create ${SERVICES} Services + ${PODS} pods in the API server`, `${((performance.now() - t0) / 1000).toFixed(1)} s`]);

    // The controller as its own process, so its RSS is its own.
    t0 = performance.now();
    controller = spawn(process.execPath, [join(repoRoot, 'controller/main.ts'), '--kubeconfig', api.kubeconfigPath, '--host', '127.0.0.1', '--grpc-port', '0', '--debug-port', '0'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LOG_LEVEL: 'info', ...(process.env.CTRL_NODE_OPTIONS ? { NODE_OPTIONS: process.env.CTRL_NODE_OPTIONS } : {}) } });
    const ports = await new Promise<{ grpcPort: number; debugPort: number }>((resolve, reject) => {
      controller!.once('exit', (c) => reject(new Error(`controller exited ${c}`)));
      createInterface({ input: controller!.stdout! }).on('line', (l) => {
        try {
          const j = JSON.parse(l) as { grpcPort?: number; debugPort?: number };
          if (j.grpcPort && j.debugPort) resolve({ grpcPort: j.grpcPort, debugPort: j.debugPort });
        } catch {}
      });
    });
    rows.push(['controller start (sync + first derivation)', `${((performance.now() - t0) / 1000).toFixed(1)} s`]);
    const secret = await core.readNamespacedSecret({ name: 'istio-ca-secret', namespace: 'istio-system' });
    const root = Buffer.from(secret.data!['ca-cert.pem']!, 'base64');
    const token = api.mintServiceAccountToken('istio-system', 'ztunnel', { audiences: ['istio-ca'], pod: { name: 'ztunnel', uid: zt.metadata!.uid! } });

    // 50 proxies: subscribe, ACK everything, remember when each resource name arrived and the response size.
    const arrivals: Array<Map<string, { at: number; bytes: number }>> = [];
    const streams: Array<() => void> = [];
    t0 = performance.now();
    await Promise.all(Array.from({ length: PROXIES }, (_, i) => new Promise<void>((resolve, reject) => {
      const client = new AdsClient(`127.0.0.1:${ports.grpcPort}`, grpc.credentials.createSsl(root), { 'grpc.ssl_target_name_override': 'istiod.istio-system.svc' });
      const md = new grpc.Metadata();
      md.set('authorization', `Bearer ${token}`);
      const call = client.DeltaAggregatedResources(md);
      const seen = new Map<string, { at: number; bytes: number }>();
      arrivals.push(seen);
      let first = true;
      call.on('data', (r: DeltaDiscoveryResponse) => {
        const at = performance.now();
        const bytes = encodeDeltaResponse(r).length;
        for (const x of r.resources) seen.set(x.name, { at, bytes });
        call.write({ typeUrl: r.typeUrl, responseNonce: r.nonce });
        if (first) {
          first = false;
          resolve();
        }
      });
      call.on('error', (e) => reject(e));
      call.write({ node: { id: `ztunnel-${i}` }, typeUrl: ADDRESS_TYPE_URL });
      streams.push(() => {
        call.end();
        client.close();
      });
    })));
    rows.push([`${PROXIES} proxies connected and received the full state (${PODS + SERVICES} resources each)`, `${((performance.now() - t0) / 1000).toFixed(1)} s`]);

    const times: number[] = [];
    const sizes: number[] = [];
    for (let k = 0; k < CHANGES; k++) {
      const name = `pod-${k * 37 % PODS}`;
      const uid = `Kubernetes//Pod/bench/${name}`;
      const start = performance.now();
      await core.patchNamespacedPod({ name, namespace: 'bench', body: { metadata: { labels: { version: `v${k + 2}` } } } }, merge);
      const deadline = Date.now() + 30_000;
      while (!arrivals.every((m) => (m.get(uid)?.at ?? 0) > start) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
      times.push(Math.max(...arrivals.map((m) => m.get(uid)?.at ?? Infinity)) - start);
      sizes.push(arrivals[0]!.get(uid)?.bytes ?? NaN);
    }
    rows.push([`change → all ${PROXIES} proxies have it, p50 (${CHANGES} changes; 100 ms debounce included)`, `${pct(times, 50).toFixed(0)} ms`]);
    rows.push(['… p90 (target ≤ 300 ms)', `${pct(times, 90).toFixed(0)} ms`]);
    rows.push(['… p99', `${pct(times, 99).toFixed(0)} ms`]);
    rows.push(['DeltaDiscoveryResponse bytes per proxy for one pod change (target ≤ 2 KB)', `${pct(sizes, 50)} B`]);
    const status = readFileSync(`/proc/${controller.pid}/status`, 'utf8');
    const kb = (field: string): string => `${(Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]) / 1024).toFixed(0)} MB`;
    rows.push(['controller RSS (target ≤ 200 MB)', kb('VmRSS')]);
    rows.push(['… its peak since start (VmHWM)', kb('VmHWM')]);
    const metrics = await (await fetch(`http://127.0.0.1:${ports.debugPort}/metrics`)).text();
    const metric = (name: string): string => `${(Number(new RegExp(`^${name} (\\S+)`, 'm').exec(metrics)?.[1]) / 1048576).toFixed(0)} MB`;
    rows.push(['controller V8 heap used / committed, external (Buffers)', `${metric('nodejs_heap_size_used_bytes')} / ${metric('nodejs_heap_size_total_bytes')}, ${metric('nodejs_external_memory_bytes')}`]);
    for (const end of streams) end();
  } finally {
    // Stop the controller and wait for it (SIGKILL after 10 s) before its API server goes away.
    if (controller && controller.exitCode === null && controller.signalCode === null) {
      const exited = new Promise((r) => controller!.once('exit', r));
      controller.kill('SIGTERM');
      const timer = setTimeout(() => controller!.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('| measurement | value |\n|---|---|');
  for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
  process.exit(0);
}

await main();
