// Privileged: findPodNetns against a named namespace and one held only by a process. The addresses
// searched for are random, so namespaces of other tests running at the same time cannot answer.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { test } from 'node:test';
import { requirePrivileges } from '../../test/support/privileged.ts';
import { findPodNetns } from './index.ts';
import { buildTopology, sh, unnamedNetns, wire } from './testnet.ts';

const rnd = (): string => `${randomInt(1, 255)}.${randomInt(1, 255)}`;

test('findPodNetns: named namespace, process-held namespace, IPv6, not found', { timeout: 30_000 }, async (t) => {
  if (!requirePrivileges(t)) return;
  const topo = buildTopology(t);
  const named4 = `10.250.${rnd()}`;
  const named6 = `fd5a:${randomInt(1, 0xffff).toString(16)}::5`;
  sh(['ip', '-n', topo.pod, 'addr', 'add', `${named4}/32`, 'dev', 'eth0']);
  sh(['ip', '-n', topo.pod, 'addr', 'add', `${named6}/128`, 'dev', 'eth0', 'nodad']);
  const holder = await unnamedNetns(t);
  const unnamed4 = `10.251.${rnd()}`;
  wire(topo.node, `z${topo.id}u`, holder.pid!, [unnamed4]);

  const started = performance.now();
  assert.equal(await findPodNetns(named4), `/var/run/netns/${topo.pod}`);
  t.diagnostic(`named lookup took ${Math.round(performance.now() - started)} ms`);
  assert.equal(await findPodNetns(named6), `/var/run/netns/${topo.pod}`);
  assert.equal(await findPodNetns(unnamed4), `/proc/${holder.pid}/ns/net`);
  assert.equal(await findPodNetns(`10.252.${rnd()}`), undefined);
  await assert.rejects(findPodNetns('127.0.0.1'), { code: 'ZT_CAPTURE_BAD_CONFIG' });
  await assert.rejects(findPodNetns('pod-1'), { code: 'ZT_CAPTURE_BAD_CONFIG' });
});
