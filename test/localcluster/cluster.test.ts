// The local cluster end to end, driven through meshctl and kubectl as a user would (root: it
// creates network namespaces). One two-node cluster is shared by the subtests, then removed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { requirePrivileges } from '../support/privileged.ts';
import { eventually } from '../support/eventually.ts';
import { Meshctl, netnsOf } from '../support/meshctl.ts';

const app = `
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      nodeSelector: {kubernetes.io/hostname: node-2}
      containers:
      - name: web
        image: python
        command: [python3, -m, http.server, "8000"]
        readinessProbe: {httpGet: {path: /, port: 8000}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8000}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: shop}
spec:
  nodeName: node-1
  containers:
  - {name: client, image: ambient-mesh/curl}
`;

test('local cluster: meshctl up, kubectl, pods across nodes through a Service name, down', { timeout: 600_000 }, async (t) => {
  if (!requirePrivileges(t)) return;
  const m = new Meshctl();
  let cid = '';
  t.after(async () => {
    await m.run(['down'], { timeoutMs: 60_000 });
    rmSync(m.home, { recursive: true, force: true });
  });

  const upOut = await m.ok(['up', '--nodes', '2'], { timeoutMs: 240_000 });
  assert.match(upOut, /kubeconfig: /);
  cid = m.clusterId;
  assert.ok(netnsOf(cid).length >= 3, 'fabric and two node namespaces exist');
  // `up` again is idempotent: it finds the running cluster.
  await m.ok(['up', '--nodes', '2'], { timeoutMs: 60_000 });
  assert.equal((await m.ok(['kubeconfig'])).trim().split('\n').pop(), m.kubeconfig);

  await t.test('kubectl sees both nodes Ready', async () => {
    await eventually(() => {
      const r = m.kubectl(['get', 'nodes', '-o', 'json']);
      assert.equal(r.code, 0, r.stderr);
      const nodes = JSON.parse(r.stdout).items as any[];
      assert.deepEqual(nodes.map((n) => n.metadata.name).sort(), ['node-1', 'node-2']);
      assert.ok(nodes.every((n) => n.status.conditions.some((c: any) => c.type === 'Ready' && c.status === 'True')));
      return true;
    }, 30_000);
  });

  await t.test('apply, then a client on node-1 reaches a python http.server on node-2 by Service name', async () => {
    const applied = await m.ok(['apply', '-f', '-'], { input: app });
    assert.match(applied, /namespace\/shop created/);
    assert.match(applied, /deployment.apps\/web created/);
    const pods = await eventually(async () => {
      const list = JSON.parse(await m.ok(['get', 'pods', '-n', 'shop', '-o', 'json'])).items as any[];
      const ready = list.filter((p) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'));
      return ready.length === 2 ? list : undefined;
    }, 90_000, 500);
    const web = pods.find((p) => p.metadata.name.startsWith('web-'));
    assert.equal(web.spec.nodeName, 'node-2');
    const r = await m.run(['exec', '-n', 'shop', 'client', '--', 'curl', '-sS', '--max-time', '10', 'http://web.shop/']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Directory listing for \//);
    // The short name resolves through the pod's search path too.
    const short = await m.run(['exec', '-n', 'shop', 'client', '--', 'curl', '-sS', '--max-time', '10', '-o', '/dev/null', '-w', '%{http_code}', 'http://web/']);
    assert.equal(short.stdout, '200');
    // The server's log shows the client pod's own IP: no NAT between pods.
    const client = pods.find((p) => p.metadata.name === 'client');
    const log = await m.ok(['logs', '-n', 'shop', web.metadata.name]);
    assert.ok(log.includes(client.status.podIP), `web log names the client IP ${client.status.podIP}:\n${log}`);
  });

  await t.test('a hostNetwork pod runs in its node netns with the node IP and still resolves Services', async () => {
    await m.ok(['apply', '-f', '-'], { input: 'apiVersion: v1\nkind: Pod\nmetadata: {name: hostpod, namespace: shop}\nspec:\n  nodeName: node-1\n  hostNetwork: true\n  containers:\n  - {name: c, image: busybox}\n' });
    const pod = await eventually(async () => {
      const p = JSON.parse(await m.ok(['get', 'pod', 'hostpod', '-n', 'shop', '-o', 'json']));
      return p.status?.phase === 'Running' ? p : undefined;
    }, 30_000, 300);
    const node = JSON.parse(await m.ok(['get', 'node', 'node-1', '-o', 'json']));
    const nodeIP = node.status.addresses.find((a: any) => a.type === 'InternalIP').address;
    assert.equal(pod.status.podIP, nodeIP);
    const r = await m.run(['exec', '-n', 'shop', 'hostpod', '--', 'curl', '-sS', '--max-time', '10', '-o', '/dev/null', '-w', '%{http_code}', 'http://web.shop.svc.cluster.local/']);
    assert.equal(r.stdout, '200', r.stderr);
  });

  await t.test('enrolling the namespace makes the pods HBONE workloads in the ztunnels\' state', async () => {
    await m.ok(['label', 'namespace', 'shop', 'istio.io/dataplane-mode=ambient']);
    await eventually(async () => {
      const workloads = JSON.parse(await m.ok(['ztunnel-config', 'workloads', '-o', 'json'])) as any[];
      const web = workloads.find((w) => w.namespace === 'shop' && w.name.startsWith('web-'));
      return web?.protocol === 'HBONE' && web.services?.includes('shop/web.shop.svc.cluster.local');
    }, 20_000, 300);
    const table = await m.ok(['ztunnel-config', 'services']);
    assert.match(table, /shop\s+web\s+10\.96\.\d+\.\d+\s+None\s+1/);
  });

  await t.test('exec passes the exit code through', async () => {
    const r = await m.run(['exec', '-n', 'shop', 'client', '--', 'sh', '-c', 'exit 7']);
    assert.equal(r.code, 7);
  });

  await t.test('kubectl label and get -o json agree', async () => {
    const r = m.kubectl(['label', 'pod', 'client', '-n', 'shop', 'tier=frontend']);
    assert.equal(r.code, 0, r.stderr);
    const pod = JSON.parse(await m.ok(['get', 'pod', 'client', '-n', 'shop', '-o', 'json']));
    assert.equal(pod.metadata.labels.tier, 'frontend');
  });

  await t.test('deleting a pod removes its network namespace', async () => {
    const before = netnsOf(cid).length;
    const r = m.kubectl(['delete', 'pod', 'client', '-n', 'shop']);
    assert.equal(r.code, 0, r.stderr);
    await eventually(() => netnsOf(cid).length === before - 1, 30_000);
  });

  await t.test('nothing in the root namespace sent a packet to a cluster address', () => {
    // The guard table rejects and counts such packets (localcluster/network/root-guard.ts); probes, DNS,
    // kube-proxy and exec above must all have stayed inside the cluster's namespaces.
    const r = spawnSync('nft', ['list', 'table', 'inet', `localcluster-guard-${cid}`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /counter packets 0 bytes 0 reject/);
  });

  await t.test('down removes every namespace of the cluster', async () => {
    await m.ok(['down'], { timeoutMs: 60_000 });
    assert.deepEqual(netnsOf(cid), []);
    assert.equal(existsSync(`${m.home}/cluster`), false);
  });
});
