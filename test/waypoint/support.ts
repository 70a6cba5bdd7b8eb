// Shared by the waypoint network-namespace tests: the ambient namespace `wp` with a client pod (service account
// `client`, on node-1), traffic generated from inside that pod with load-client.ts, and config applied for the
// length of one subtest.
import { repoRoot } from '../../localcluster/paths.ts';
import type { Meshctl } from '../support/meshctl.ts';
import type { LoadSummary } from './load-client.ts';

export const NODE = `${repoRoot}/node_modules/.bin/node`;
export const LOAD = `${repoRoot}/test/waypoint/load-client.ts`;

/** Namespace `wp` (ambient) and its client pod: the start of every waypoint test's manifests. */
export const CLIENT_NAMESPACE = `
apiVersion: v1
kind: Namespace
metadata: {name: wp, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: client, namespace: wp}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: wp, labels: {app: client}}
spec:
  nodeName: node-1
  serviceAccountName: client
  containers: [{name: client, image: ambient-mesh/curl}]
`;

/** `n` requests to `url` from the client pod, at most `concurrency` in flight; `extra`: more load-client flags. */
export async function load(m: Meshctl, url: string, n: number, concurrency: number, extra: string[] = []): Promise<LoadSummary> {
  const out = await m.ok(['exec', '-n', 'wp', 'client', '--', NODE, LOAD, '--url', url, '--n', String(n), '--concurrency', String(concurrency), ...extra], { timeoutMs: 120_000 });
  return JSON.parse(out.trim().split('\n').at(-1)!) as LoadSummary;
}

/** Apply `yaml`, run `body`, and delete `yaml` again whatever happened, so one failure does not leak into the next. */
export async function using(m: Meshctl, yaml: string, body: () => Promise<void>): Promise<void> {
  await m.ok(['apply', '-f', '-'], { input: yaml });
  try {
    await body();
  } finally {
    await m.run(['delete', '-f', '-', '--ignore-not-found'], { input: yaml });
  }
}
