// Privileged: a real 2-node topology — pod-to-pod across nodes, DNS files, removePod, destroy, crash cleanup.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { requirePrivileges } from '../../test/support/privileged.ts';
import { eventually } from '../../test/support/eventually.ts';
import { ClusterNetwork } from './cluster-network.ts';
import { cleanupFromRecordDetailed, netnsExists, netnsPids, readRecord } from './record.ts';
import { processStartTime } from '../../shared/procfs.ts';
import { podNetnsRef } from './pod-netns.ts';
import { runnerArgv } from '../kubelet/runner.ts';
import { curlFrom, execIn, randomClusterId, startIn, tempStateDir, testCluster, whoamiServer } from './testsupport.ts';

const rootRoutes = () => execFileSync('ip', ['route']).toString();
const rootLinks = () => execFileSync('ip', ['-o', 'link']).toString().split('\n').map((l) => l.split(':')[1]).join(',');
const netnsList = () => execFileSync('ip', ['netns', 'list']).toString();

test('pods on different nodes reach each other by IP and see the client pod IP', async (t) => {
  if (!requirePrivileges(t)) return;
  const routes = rootRoutes();
  const links = rootLinks();
  const net = await testCluster(t, 2);
  const a = await net.addPod('node-1', { uid: 'aaaa1111-0000', namespace: 'default', name: 'client' });
  const b = await net.addPod('node-2', { uid: 'bbbb2222-0000', namespace: 'default', name: 'server' });
  assert.equal(a.netns, `${net.clusterId}-pod-aaaa1111`);
  assert.match(a.ip, /^10\.244\.1\.\d+$/);
  assert.match(b.ip, /^10\.244\.2\.\d+$/);
  assert.equal(a.hostIP, '10.100.0.11');
  assert.equal(b.hostIP, '10.100.0.12');
  startIn(t, b.netns, ['python3', whoamiServer, b.ip, '8080', 'server']);
  const res = await eventually(async () => {
    const r = await curlFrom(a.netns, b.ip, 8080);
    return r.code === 0 ? r : undefined;
  });
  assert.equal(res.stdout, `${a.ip} server`);
  // a node reaches a pod on the other node, and the fabric reaches both
  const fromNode = await curlFrom(net.nodes[0]!.netns, b.ip, 8080);
  assert.equal(fromNode.stdout, `10.100.0.11 server`);
  const fromFabric = await curlFrom(net.fabric.netns, b.ip, 8080);
  assert.equal(fromFabric.stdout, `10.100.0.1 server`);
  assert.equal(rootRoutes(), routes);
  assert.equal(rootLinks(), links);
});

test('pods get resolv.conf and hosts through ip netns exec; hostNetwork pods get the node', async (t) => {
  if (!requirePrivileges(t)) return;
  const net = await testCluster(t, 1);
  const p = await net.addPod('node-1', { uid: 'cccc3333', namespace: 'shop', name: 'web-0' });
  const resolv = await execIn(p.netns, ['cat', '/etc/resolv.conf']);
  assert.match(resolv.stdout, /^nameserver 10\.96\.0\.10$/m);
  assert.match(resolv.stdout, /^search shop\.svc\.cluster\.local svc\.cluster\.local cluster\.local$/m);
  assert.match(resolv.stdout, /^options ndots:5$/m);
  const hosts = await execIn(p.netns, ['cat', '/etc/hosts']);
  assert.match(hosts.stdout, new RegExp(`^${p.ip.replace(/\./g, '\\.')}\\tweb-0$`, 'm'));
  const h = await net.addPod('node-1', { uid: 'dddd4444', namespace: 'kube-system', name: 'ztunnel', hostNetwork: true });
  assert.deepEqual(h, { netns: net.nodes[0]!.netns, ip: '10.100.0.11', hostIP: '10.100.0.11', node: 'node-1' });
  const addrs = await execIn(h.netns, ['ip', '-4', '-o', 'addr', 'show', 'eth0']);
  assert.match(addrs.stdout, /10\.100\.0\.11\/24/);
});

test('removePod deletes the netns and its files, and the address is reused', async (t) => {
  if (!requirePrivileges(t)) return;
  const net = await testCluster(t, 1);
  const p = await net.addPod('node-1', { uid: 'eeee5555', namespace: 'default', name: 'one' });
  startIn(t, p.netns, ['sleep', '600']);
  await eventually(async () => (await execIn(p.netns, ['true'])).code === 0);
  await net.removePod('eeee5555');
  assert.equal(netnsExists(p.netns), false);
  assert.equal(existsSync(`/etc/netns/${p.netns}`), false);
  assert.equal(net.pod('eeee5555'), undefined);
  const routes = await execIn(net.nodes[0]!.netns, ['ip', 'route']);
  assert.doesNotMatch(routes.stdout, new RegExp(p.ip.replace(/\./g, '\\.') + ' '));
  const q = await net.addPod('node-1', { uid: 'ffff6666', namespace: 'default', name: 'two' });
  assert.equal(q.ip, p.ip);
  await net.removePod('no-such-pod'); // unknown: a no-op
});

test('a reopened network keeps its allocations (no live address handed out twice)', async (t) => {
  if (!requirePrivileges(t)) return;
  const net = await testCluster(t, 1);
  const p = await net.addPod('node-1', { uid: 'abab0001', namespace: 'default', name: 'one' });
  const again = await ClusterNetwork.open({ clusterId: net.clusterId, stateDir: net.stateDir, nodeCount: 1 });
  assert.deepEqual(again.pod('abab0001'), p);
  const q = await again.addPod('node-1', { uid: 'abab0002', namespace: 'default', name: 'two' });
  assert.notEqual(q.ip, p.ip);
  await assert.rejects(ClusterNetwork.create({ clusterId: net.clusterId, stateDir: net.stateDir, nodeCount: 1 }),
    { code: 'NET_ALREADY_EXISTS' });
});

test('destroy leaves no namespaces, no /etc/netns dirs and no processes', async (t) => {
  if (!requirePrivileges(t)) return;
  const routes = rootRoutes();
  const stateDir = tempStateDir(t);
  const clusterId = randomClusterId();
  const net = await ClusterNetwork.create({ clusterId, stateDir, nodeCount: 2 });
  try {
    const p = await net.addPod('node-2', { uid: 'a0a0a0a0', namespace: 'default', name: 'x' });
    const child = startIn(t, p.netns, ['sleep', '600']);
    await eventually(async () => (await execIn(p.netns, ['true'])).code === 0);
    await net.destroy();
    assert.doesNotMatch(netnsList(), new RegExp(clusterId));
    assert.equal(existsSync(`/etc/netns/${p.netns}`), false);
    assert.equal(existsSync(`/etc/netns/${clusterId}-node-1`), false);
    await eventually(() => child.exitCode !== null || child.signalCode !== null);
    assert.equal(rootRoutes(), routes);
  } finally {
    await net.destroy();
  }
});

test('cleanupFromRecord after a simulated crash kills processes and removes everything; twice is fine', async (t) => {
  if (!requirePrivileges(t)) return;
  const stateDir = tempStateDir(t);
  const clusterId = randomClusterId();
  // "crash": build, start a process group inside a pod, then drop every object
  let podNetns: string;
  {
    const net = await ClusterNetwork.create({ clusterId, stateDir, nodeCount: 2 });
    const p = await net.addPod('node-1', { uid: 'c0ffee00', namespace: 'default', name: 'x' });
    podNetns = p.netns;
  }
  const child = startIn(t, podNetns, ['sh', '-c', 'sleep 600 & sleep 600 & wait']);
  await eventually(async () => (await execIn(podNetns, ['true'])).code === 0);
  const leaderPid = child.pid!;
  assert.ok(readRecord(stateDir).some((e) => e.kind === 'netns' && e.name === podNetns));
  const report = await cleanupFromRecordDetailed(stateDir);
  assert.ok(report.killed.length >= 1, 'processes in the pod netns were killed');
  assert.ok(report.deletedNetns.includes(podNetns));
  assert.ok(report.deletedNetns.includes(`${clusterId}-fabric`));
  assert.deepEqual(report.removedTables, [`localcluster-guard-${clusterId}`], 'the root-namespace guard goes too');
  assert.doesNotMatch(netnsList(), new RegExp(clusterId));
  assert.equal(existsSync(`/etc/netns/${podNetns}`), false);
  await eventually(() => child.exitCode !== null || child.signalCode !== null);
  assert.equal(existsSync(`/proc/${leaderPid}/cmdline`) && readFileSync(`/proc/${leaderPid}/cmdline`, 'utf8').includes('sleep'), false);
  assert.deepEqual(readRecord(stateDir), []);
  const again = await cleanupFromRecordDetailed(stateDir);
  assert.deepEqual(again, { killed: [], deletedNetns: [], removedDirs: [], removedTables: [] });
});

test('adding pods is fast (reported, not asserted)', async (t) => {
  if (!requirePrivileges(t)) return;
  const net = await testCluster(t, 2);
  const n = 20;
  let start = performance.now();
  for (let i = 0; i < n; i++) {
    await net.addPod(i % 2 ? 'node-2' : 'node-1', { uid: `5e${i.toString(16).padStart(6, '0')}`, namespace: 'default', name: `s${i}` });
  }
  const seqMs = (performance.now() - start) / n;
  start = performance.now();
  await Promise.all(Array.from({ length: n }, (_, i) =>
    net.addPod(i % 2 ? 'node-2' : 'node-1', { uid: `9a${i.toString(16).padStart(6, '0')}`, namespace: 'default', name: `p${i}` })));
  const parMs = performance.now() - start;
  t.diagnostic(`addPod: ${seqMs.toFixed(1)} ms each sequentially; ${n} in parallel took ${parMs.toFixed(0)} ms`);
  const ips = new Set([...Array(n).keys()].flatMap((i) => [net.pod(`5e${i.toString(16).padStart(6, '0')}`)!.ip, net.pod(`9a${i.toString(16).padStart(6, '0')}`)!.ip]));
  assert.equal(ips.size, 2 * n, 'every pod got its own address');
});

test('after kill -9 of the process that built the cluster, cleanupFromRecord removes everything', async (t) => {
  if (!requirePrivileges(t)) return;
  const stateDir = tempStateDir(t);
  const clusterId = randomClusterId();
  const script = new URL('./testdata/crashing-daemon.ts', import.meta.url).pathname;
  const daemon = spawn(process.execPath, [script, clusterId, stateDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => { try { daemon.kill('SIGKILL'); } catch {} });
  const [line] = await once(daemon.stdout!, 'data') as [Buffer];
  const [podNetns, groupPid] = line.toString().trim().split(' ') as [string, string];
  t.after(() => { try { process.kill(-Number(groupPid), 'SIGKILL'); } catch {} });
  await eventually(async () => (await execIn(podNetns, ['true'])).code === 0);
  await eventually(async () => (await netnsPids(podNetns)).length >= 2);
  daemon.kill('SIGKILL');
  await once(daemon, 'exit');
  assert.match(netnsList(), new RegExp(podNetns));

  const report = await cleanupFromRecordDetailed(stateDir);
  assert.ok(report.killed.includes(Number(groupPid)), 'the pod process group leader was killed');
  assert.doesNotMatch(netnsList(), new RegExp(clusterId));
  assert.equal(existsSync(`/etc/netns/${podNetns}`), false);
  await eventually(() => !existsSync(`/proc/${groupPid}/cmdline`) || readFileSync(`/proc/${groupPid}/stat`, 'utf8').includes(') Z '));
});

/** Run `argv` in an anonymous pod netns the way the kubelet does (runnerArgv), bounded. */
function execAnon(p: { netns: string; netnsPath?: string }, argv: string[]): Promise<{ code: number; stdout: string }> {
  const full = runnerArgv({ path: p.netnsPath!, etcDir: `/etc/netns/${p.netns}` }, argv);
  return new Promise((resolve) => {
    execFile(full[0]!, full.slice(1), { timeout: 10_000 }, (err, stdout) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: String(stdout) });
    });
  });
}

test('anonymous pod netns: no ip-netns name, entered through the holder with DNS files, removed with the holder, crash-cleaned', async (t) => {
  if (!requirePrivileges(t)) return;
  const stateDir = tempStateDir(t);
  const clusterId = randomClusterId();
  const net = await ClusterNetwork.create({ clusterId, stateDir, nodeCount: 2, podNetns: 'anonymous' });
  const a = await net.addPod('node-1', { uid: 'a1a1a1a1-0', namespace: 'shop', name: 'client' });
  const b = await net.addPod('node-2', { uid: 'b2b2b2b2-0', namespace: 'shop', name: 'server' });
  assert.equal(a.netns, `${clusterId}-pod-a1a1a1a1`);
  assert.ok(a.holder && a.netnsPath === `/proc/${a.holder.pid}/ns/net`);
  const names = netnsList();
  assert.doesNotMatch(names, new RegExp(`${clusterId}-pod-`), 'pod netns have no name');
  assert.match(names, new RegExp(`${clusterId}-node-1`));
  assert.deepEqual(net.pod('a1a1a1a1-0'), a);
  assert.ok(readRecord(stateDir).some((e) => e.kind === 'holder' && e.pid === a.holder!.pid && e.start === a.holder!.start));
  assert.deepEqual(podNetnsRef(stateDir, clusterId, 'a1a1a1a1-0'), { path: a.netnsPath, etcDir: `/etc/netns/${a.netns}` });

  const resolv = await execAnon(a, ['cat', '/etc/resolv.conf']);
  assert.match(resolv.stdout, /^search shop\.svc\.cluster\.local svc\.cluster\.local cluster\.local$/m);
  assert.match((await execAnon(a, ['ip', '-4', '-o', 'addr', 'show', 'eth0'])).stdout, new RegExp(`${a.ip.replace(/\./g, '\\.')}/32`));
  // across nodes, by IP, the server sees the client's pod IP
  const serverArgv = runnerArgv({ path: b.netnsPath!, etcDir: `/etc/netns/${b.netns}` }, ['python3', whoamiServer, b.ip, '8080', 'server']);
  const server = spawn(serverArgv[0]!, serverArgv.slice(1), { detached: true, stdio: 'ignore' });
  t.after(() => { try { process.kill(-server.pid!, 'SIGKILL'); } catch {} });
  const res = await eventually(async () => {
    const r = await execAnon(a, ['curl', '-s', '--max-time', '3', `http://${b.ip}:8080/`]);
    return r.code === 0 ? r : undefined;
  });
  assert.equal(res.stdout, `${a.ip} server`);

  // removePod: the holder and what ran inside are killed, the veth and route go with the netns
  await net.removePod('b2b2b2b2-0');
  await eventually(() => server.exitCode !== null || server.signalCode !== null);
  assert.equal(processStartTime(b.holder!.pid) === b.holder!.start, false, 'holder gone');
  await eventually(async () => !(await execIn(net.nodes[1]!.netns, ['ip', 'route'])).stdout.includes(`${b.ip} `));
  assert.equal(existsSync(`/etc/netns/${b.netns}`), false);

  // crash: only the record is left; cleanup finds the holder by pid + start time and ends its netns
  const sleepArgv = runnerArgv({ path: a.netnsPath!, etcDir: `/etc/netns/${a.netns}` }, ['sleep', '600']);
  const sleeper = spawn(sleepArgv[0]!, sleepArgv.slice(1), { detached: true, stdio: 'ignore' });
  t.after(() => { try { process.kill(-sleeper.pid!, 'SIGKILL'); } catch {} });
  await eventually(() => readFileSync(`/proc/${sleeper.pid}/comm`, 'utf8').trim() === 'sleep');
  const report = await cleanupFromRecordDetailed(stateDir);
  assert.ok(report.killed.includes(a.holder!.pid), 'the holder was killed');
  assert.ok(report.killed.includes(sleeper.pid!), 'the process inside was killed');
  await eventually(() => sleeper.exitCode !== null || sleeper.signalCode !== null);
  assert.doesNotMatch(netnsList(), new RegExp(clusterId));
  assert.equal(podNetnsRef(stateDir, clusterId, 'a1a1a1a1-0'), undefined);
});
