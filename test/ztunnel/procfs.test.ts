// ztunnel finds pod network namespaces through /proc (root: network namespaces). The local cluster runs with
// `--pod-netns anonymous`: every pod netns loses its `ip netns` name once a holder process (a pause container's
// stand-in) keeps it, so the only way to a pod's namespace is /proc/<pid>/ns/net. Enrolling the namespace must
// still capture the pods (HBONE mTLS between nodes, counted by the destination ztunnel), unenrolling must restore
// plain traffic, and `meshctl down` must leave no holder and no namespace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { requirePrivileges } from '../support/privileged.ts';
import { eventually } from '../support/eventually.ts';
import { Meshctl, netnsOf } from '../support/meshctl.ts';
import { holderAlive, podNetnsRef, readRecord, type Holder } from '../../localcluster/network/index.ts';
import { runnerArgv } from '../../localcluster/kubelet/index.ts';
import { counterSum, echoService, pod, pods, waitReady, ztunnelConfigDump, ztunnelMetrics, type PodFacts } from './support.ts';

const WORKLOADS = `
apiVersion: v1
kind: Namespace
metadata: {name: zp}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: client, namespace: zp}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: zp, labels: {app: client}}
spec:
  nodeName: node-1
  serviceAccountName: client
  containers:
  - name: client
    image: ambient-mesh/curl
    # an exec probe runs inside the anonymous netns and sees the pod's resolv.conf
    readinessProbe: {exec: {command: [grep, -q, "search zp.svc.cluster.local", /etc/resolv.conf]}, periodSeconds: 1}
---
${echoService('zp', 'node-2')}`;

const CLIENT_ID = 'spiffe://cluster.local/ns/zp/sa/client';

test('ztunnel captures pods whose network namespaces have no name (found through /proc)', { timeout: 600_000 }, async (t) => {
  if (!requirePrivileges(t)) return;
  const m = new Meshctl();
  const stateDir = join(m.home, 'cluster');
  t.after(async () => {
    await m.run(['down'], { timeoutMs: 90_000 });
    rmSync(m.home, { recursive: true, force: true });
  });
  await m.ok(['up', '--nodes', '2', '--pod-netns', 'anonymous'], { timeoutMs: 240_000 });
  const cid = m.clusterId;
  await m.ok(['apply', '-f', '-'], { input: WORKLOADS });
  await waitReady(m, 'zp', 2);
  const client = pod(m, 'zp', 'client');
  const echo = pod(m, 'zp', 'echo');

  /** The pod's namespace as the kubelet enters it: through its holder, never by name. */
  const ref = (p: PodFacts): { path: string; etcDir: string } => {
    const r = podNetnsRef(stateDir, cid, p.uid);
    assert.ok(r && typeof r === 'object', `${p.name} has an anonymous netns held by a process (got ${JSON.stringify(r)})`);
    return r;
  };
  const inPod = (p: PodFacts, argv: string[]) => {
    const full = runnerArgv(ref(p), argv);
    const r = spawnSync(full[0]!, full.slice(1), { encoding: 'utf8', timeout: 30_000 });
    return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
  };
  const captured = (p: PodFacts): boolean => inPod(p, ['nft', 'list', 'table', 'inet', 'ztunnel']).code === 0;
  // meshctl exec enters the anonymous namespace through the holder too.
  const curlEcho = () => m.run(['exec', '-n', 'zp', 'client', '--', 'curl', '-sS', '--max-time', '10', 'http://echo.zp/'], { timeoutMs: 30_000 });
  const destCount = async (labels: Record<string, string>) => counterSum(await ztunnelMetrics(m, 'node-2'), 'istio_tcp_connections_opened_total', { reporter: 'destination', ...labels });

  await t.test('pod namespaces have no name: ip netns lists only the fabric and the nodes', async () => {
    assert.deepEqual(netnsOf(cid).sort(), [`${cid}-fabric`, `${cid}-node-1`, `${cid}-node-2`]);
    for (const p of [...pods(m, 'zp'), ...pods(m, 'istio-system').filter((x) => x.ip && !x.ip.startsWith('10.100.'))]) ref(p);
    const holders = readRecord(stateDir).filter((e) => e.kind === 'holder');
    assert.ok(holders.length >= 3, `holders recorded: ${holders.length}`);
    assert.equal(captured(client), false, 'not captured before enrolment');
    const r = await curlEcho();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).remoteAddress.replace(/^::ffff:/, ''), client.ip, 'plain traffic before enrolment');
  });

  await t.test('labelling the namespace captures the pods; ztunnel uses the holders\' /proc paths', async () => {
    await m.ok(['label', 'namespace', 'zp', 'istio.io/dataplane-mode=ambient']);
    await eventually(() => pods(m, 'zp').every((p) => captured(p)), 30_000);
    for (const [p, node] of [[client, 'node-1'], [echo, 'node-2']] as const) {
      const dump = await ztunnelConfigDump(m, node);
      const seen = (dump.capturedPods as { uid: string; netns: string }[]).find((c) => c.uid === p.uid);
      assert.ok(seen, `ztunnel on ${node} lists ${p.name} as captured`);
      assert.equal(seen.netns, ref(p).path, `${p.name}: ztunnel holds the holder's path, not a container's`);
    }
    await waitReady(m, 'zp', 2); // node probes still pass through the capture
  });

  await t.test('traffic between the two nodes goes through HBONE mTLS', async () => {
    const before = await destCount({ source_principal: CLIENT_ID, connection_security_policy: 'mutual_tls', destination_workload: 'echo' });
    const r = await curlEcho();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).remoteAddress.replace(/^::ffff:/, ''), client.ip, 'the app sees the client pod IP');
    await eventually(async () => {
      const after = await destCount({ source_principal: CLIENT_ID, connection_security_policy: 'mutual_tls', destination_workload: 'echo' });
      assert.ok(after >= before + 1, `destination ztunnel counted the client's mTLS connection (${before} → ${after})`);
      return true;
    }, 10_000);
  });

  await t.test('removing the label restores plain traffic', async () => {
    await m.ok(['label', 'namespace', 'zp', 'istio.io/dataplane-mode-']);
    await eventually(() => pods(m, 'zp').every((p) => !captured(p)), 30_000);
    const c0 = await destCount({});
    const r = await curlEcho();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).remoteAddress.replace(/^::ffff:/, ''), client.ip);
    assert.equal(await destCount({}), c0, 'no ztunnel was involved');
  });

  const holders: Holder[] = readRecord(stateDir).flatMap((e) => (e.kind === 'holder' ? [{ pid: e.pid, start: e.start }] : []));
  assert.ok(holders.some(holderAlive), 'holders run while the cluster does');
  await m.ok(['down'], { timeoutMs: 90_000 });
  assert.deepEqual(netnsOf(cid), [], 'down removed every named namespace');
  assert.deepEqual(holders.filter(holderAlive), [], 'down left no holder process');
});
