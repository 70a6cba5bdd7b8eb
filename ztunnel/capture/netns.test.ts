// Privileged: findPodNetns against a named namespace and ones held only by a process. The addresses
// searched for are random, so namespaces of other tests running at the same time cannot answer.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { requirePrivileges } from '../../test/support/privileged.ts';
import { eventually } from '../../test/support/eventually.ts';
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

test('findPodNetns: namespaces without a name are told apart by the uid their holder carries; the path is the oldest process', { timeout: 30_000 }, async (t) => {
  if (!requirePrivileges(t)) return;
  const ip = `10.253.${rnd()}`;
  const hold = async (uid?: string): Promise<number> => {
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...(uid ? { LOCALCLUSTER_POD_UID: uid } : {}) };
    const child = spawn('unshare', ['--net', 'sleep', '60'], { stdio: 'ignore', env });
    t.after(() => child.kill('SIGKILL'));
    const own = statSync('/proc/self/ns/net').ino;
    await eventually(() => statSync(`/proc/${child.pid}/ns/net`).ino !== own, 5000);
    sh(['nsenter', `--net=/proc/${child.pid}/ns/net`, 'ip', '-batch', '-'], `link set lo up\naddr add ${ip}/32 dev lo\n`);
    return child.pid!;
  };
  const a = await hold('aaaa0000-1111');
  const b = await hold('bbbb0000-2222');
  // a younger process in a's namespace does not become its path
  const young = spawn('nsenter', [`--net=/proc/${a}/ns/net`, 'sleep', '60'], { stdio: 'ignore' });
  t.after(() => young.kill('SIGKILL'));
  await eventually(() => readFileSync(`/proc/${young.pid}/comm`, 'utf8').trim() === 'sleep', 5000);
  assert.equal(await findPodNetns(ip, 'aaaa0000-1111'), `/proc/${a}/ns/net`);
  assert.equal(await findPodNetns(ip, 'bbbb0000-2222'), `/proc/${b}/ns/net`);
  assert.equal(await findPodNetns(ip), undefined, 'two holders and no uid: no guess');
  assert.equal(await findPodNetns(ip, 'cccc0000-3333'), undefined, 'a uid nobody carries: no guess');
});
