// Benchmarks (on demand, not part of the tests): how long `meshctl up` takes, and how long 100 pods
// take to become Ready on the local cluster. Prints a markdown table. Needs root.
import { rmSync } from 'node:fs';
import type { V1Pod } from '@kubernetes/client-node';
import { Meshctl } from '../test/support/meshctl.ts';
import { KubeClient } from '../shared/kube/client.ts';
import { Informer } from '../shared/kube/informer.ts';
import { podReady } from '../shared/ambient/enrolment.ts';

const pods = Number(process.env.BENCH_PODS ?? 100);
const nodes = Number(process.env.BENCH_NODES ?? 2);

const deployment = (n: number) => `
apiVersion: v1
kind: Namespace
metadata: {name: bench}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: many, namespace: bench}
spec:
  replicas: ${n}
  selector: {matchLabels: {app: many}}
  template:
    metadata: {labels: {app: many}}
    spec:
      containers:
      - {name: main, image: ambient-mesh/curl}
`;

async function main(): Promise<void> {
  const m = new Meshctl();
  const rows: Array<[string, string]> = [];
  try {
    let t0 = performance.now();
    await m.ok(['up', '--nodes', String(nodes)], { timeoutMs: 300_000 });
    rows.push([`meshctl up (${nodes} nodes, cold)`, `${((performance.now() - t0) / 1000).toFixed(2)} s`]);
    t0 = performance.now();
    await m.ok(['up', '--nodes', String(nodes)]);
    rows.push(['meshctl up (already running)', `${((performance.now() - t0) / 1000).toFixed(2)} s`]);

    // Pods are counted from a watch in this process: polling with `meshctl get` (a new Node process every 250 ms)
    // took most of a core from the cluster it was measuring.
    const kube = await KubeClient.load({ kubeconfig: m.kubeconfig });
    const informer = new Informer<V1Pod>(kube, '/api/v1/namespaces/bench/pods');
    const readyPods = new Set<string>();
    let firstReady: number | undefined;
    let allReady!: () => void;
    const done = new Promise<void>((resolve) => (allReady = resolve));
    const seen = (p: V1Pod): void => {
      if (!podReady(p)) return;
      readyPods.add(p.metadata!.name!);
      firstReady ??= performance.now() - t0;
      if (readyPods.size >= pods) allReady();
    };
    informer.on('add', seen);
    informer.on('update', seen);
    t0 = performance.now();
    await informer.start();
    await m.ok(['apply', '-f', '-'], { input: deployment(pods) });
    const timeout = setTimeout(allReady, 600_000);
    await done;
    clearTimeout(timeout);
    const total = performance.now() - t0;
    const ready = readyPods.size;
    await informer.stop();
    kube.close();
    rows.push([`first of ${pods} pods Ready`, `${((firstReady ?? total) / 1000).toFixed(2)} s`]);
    rows.push([`${ready} of ${pods} pods Ready`, `${(total / 1000).toFixed(2)} s`]);
    rows.push(['pods Ready per second', (ready / (total / 1000)).toFixed(1)]);

    t0 = performance.now();
    await m.ok(['down'], { timeoutMs: 300_000 });
    rows.push([`meshctl down (${pods} pods)`, `${((performance.now() - t0) / 1000).toFixed(2)} s`]);
  } finally {
    await m.run(['down'], { timeoutMs: 300_000 });
    rmSync(m.home, { recursive: true, force: true });
  }
  console.log('| measurement | value |\n|---|---|');
  for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
}

await main();
