import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { requirePrivileges } from '../../test/support/privileged.ts';
import { renderRootGuard, guardTableName, CLUSTER_RANGES } from './root-guard.ts';
import { testCluster } from './testsupport.ts';

test('the guard rejects every cluster range from the root namespace', () => {
  const script = renderRootGuard('mc1');
  assert.deepEqual(CLUSTER_RANGES, ['10.96.0.0/16', '10.100.0.0/24', '10.244.0.0/16']);
  assert.match(script, /^table inet localcluster-guard-mc1\ndelete table inet localcluster-guard-mc1\n/);
  assert.match(script, /type filter hook output priority filter; policy accept;/);
  assert.match(script, /ip daddr \{ 10\.96\.0\.0\/16, 10\.100\.0\.0\/24, 10\.244\.0\.0\/16 \} counter reject/);
});

function guardRule(name: string): string {
  const r = spawnSync('nft', ['list', 'table', 'inet', name], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout : '';
}

test('a cluster network installs the guard in the root namespace and destroy removes it', async (t) => {
  if (!requirePrivileges(t)) return;
  const cluster = await testCluster(t, 1);
  const name = guardTableName(cluster.clusterId);
  const listing = guardRule(name);
  assert.match(listing, /ip daddr \{ 10\.96\.0\.0\/16, 10\.100\.0\.0\/24, 10\.244\.0\.0\/16 \} counter packets \d+ bytes \d+ reject/);
  // Only with the guard verified in place: a root-namespace connect to a pod address fails locally at once.
  const err = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    const s = net.connect({ host: '10.244.1.250', port: 9 });
    s.setTimeout(3000, () => {
      s.destroy();
      resolve(undefined);
    });
    s.once('connect', () => {
      s.destroy();
      resolve(undefined);
    });
    s.once('error', resolve);
  });
  assert.ok(err, 'the connection was refused locally rather than attempted');
  assert.match(guardRule(name), /counter packets [1-9]\d* bytes/);
  await cluster.destroy();
  assert.equal(guardRule(name), '', 'the guard table is gone after destroy');
});
