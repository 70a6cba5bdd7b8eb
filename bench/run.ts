// Benchmarks (on demand, not part of the tests): how long `meshctl up` takes, and how long 100 pods
// take to become Ready on the local cluster. Prints a markdown table. Needs root.
import { rmSync } from 'node:fs';
import { Meshctl } from '../test/support/meshctl.ts';

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

async function readyCount(m: Meshctl): Promise<number> {
  const list = JSON.parse(await m.ok(['get', 'pods', '-n', 'bench', '-o', 'json'])).items as any[];
  return list.filter((p) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')).length;
}

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

    t0 = performance.now();
    await m.ok(['apply', '-f', '-'], { input: deployment(pods) });
    const deadline = Date.now() + 600_000;
    let ready = 0;
    let firstReady: number | undefined;
    while (ready < pods && Date.now() < deadline) {
      ready = await readyCount(m);
      if (ready > 0 && firstReady === undefined) firstReady = performance.now() - t0;
      await new Promise((r) => setTimeout(r, 250));
    }
    const total = performance.now() - t0;
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
