// IPAM: lowest free address first, freed addresses reused, allocations survive save/load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ipam, loadIpam, saveIpam } from './ipam.ts';

const owner = (uid: string) => ({ uid, netns: `c-pod-${uid}` });

test('allocates from .2 upwards and reuses freed addresses', () => {
  const ipam = new Ipam('10.244.3.0/24');
  assert.equal(ipam.allocate(owner('a')), '10.244.3.2');
  assert.equal(ipam.allocate(owner('b')), '10.244.3.3');
  assert.equal(ipam.allocate(owner('c')), '10.244.3.4');
  assert.equal(ipam.release('b'), '10.244.3.3');
  assert.equal(ipam.release('b'), undefined);
  assert.equal(ipam.allocate(owner('d')), '10.244.3.3');
  assert.equal(ipam.find('d')?.ip, '10.244.3.3');
  assert.throws(() => ipam.allocate(owner('a')), { code: 'NET_DUPLICATE_POD' });
});

test('a full /24 is exhausted after 253 pods', () => {
  const ipam = new Ipam('10.244.1.0/24');
  const ips = new Set(Array.from({ length: 253 }, (_, i) => ipam.allocate(owner(`p${i}`))));
  assert.equal(ips.size, 253);
  assert.ok(!ips.has('10.244.1.1') && !ips.has('10.244.1.255') && !ips.has('10.244.1.0'));
  assert.throws(() => ipam.allocate(owner('x')), { code: 'NET_IPAM_EXHAUSTED' });
});

test('save and load keep live allocations', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ipam-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'sub', 'ipam-node-1.json');
  assert.equal(loadIpam(file, '10.244.1.0/24').entries().length, 0, 'missing file is empty');
  const ipam = new Ipam('10.244.1.0/24');
  ipam.allocate(owner('a'));
  ipam.allocate(owner('b'));
  saveIpam(file, ipam);
  const back = loadIpam(file, '10.244.1.0/24');
  assert.deepEqual(back.entries(), ipam.entries());
  assert.equal(back.allocate(owner('c')), '10.244.1.4');
  assert.throws(() => loadIpam(file, '10.244.2.0/24'), { code: 'NET_BAD_CONFIG' });
  assert.throws(() => new Ipam('10.244.1.0/16'), { code: 'NET_BAD_CONFIG' });
});
