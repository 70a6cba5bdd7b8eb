// `meshctl down` after the cluster daemon was killed with SIGKILL: every netns, /etc/netns entry and
// container process it made must still be removed (root: creates network namespaces).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { requirePrivileges } from '../support/privileged.ts';
import { eventually } from '../support/eventually.ts';
import { Meshctl, netnsOf } from '../support/meshctl.ts';

const pod = `
apiVersion: v1
kind: Pod
metadata: {name: sleeper, namespace: default}
spec:
  containers:
  - {name: main, image: ambient-mesh/curl}
`;

// Alive and not a zombie (an orphan killed after its parent died may wait a moment to be reaped).
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

test('meshctl down after a killed meshctl up leaves no netns, /etc/netns entry or process', { timeout: 300_000 }, async (t) => {
  if (!requirePrivileges(t)) return;
  const m = new Meshctl();
  t.after(async () => {
    await m.run(['down'], { timeoutMs: 60_000 });
    rmSync(m.home, { recursive: true, force: true });
  });
  await m.ok(['up', '--nodes', '1'], { timeoutMs: 240_000 });
  const cid = m.clusterId;
  await m.ok(['apply', '-f', '-'], { input: pod });
  const containerPid = await eventually(async () => {
    const p = JSON.parse(await m.ok(['get', 'pod', 'sleeper', '-o', 'json']));
    const id: string | undefined = p.status?.containerStatuses?.[0]?.containerID;
    return id?.startsWith('local://') ? Number(id.slice('local://'.length)) : undefined;
  }, 60_000, 300);
  assert.ok(alive(containerPid));

  const daemonPid = Number(readFileSync(`${m.home}/cluster/daemon.pid`, 'utf8'));
  process.kill(daemonPid, 'SIGKILL');
  await eventually(() => !alive(daemonPid), 10_000);
  assert.ok(netnsOf(cid).length >= 3, 'the crash left namespaces behind, as a crash would');
  assert.match(spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' }).stdout, new RegExp(`localcluster-guard-${cid}\\b`));

  await m.ok(['down'], { timeoutMs: 60_000 });
  assert.deepEqual(netnsOf(cid), []);
  assert.equal(alive(containerPid), false, 'the container process was killed');
  const tables = spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' }).stdout;
  assert.doesNotMatch(tables, new RegExp(`localcluster-guard-${cid}\\b`), 'the root-namespace guard table is removed');
  const etc = existsSync('/etc/netns') ? readdirSync('/etc/netns').filter((d) => d.startsWith(`${cid}-`)) : [];
  assert.deepEqual(etc, []);
});
