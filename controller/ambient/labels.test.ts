import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pod } from './fixtures.ts';
import { hostAddressToBytes, ipToBytes } from './ip.ts';
import { canonicalService, selectsNonEmpty, workloadName } from './labels.ts';

type L = Record<string, string>;

test('workloadName from owners', async (t) => {
  const cases: { name: string; owner: { kind: string; name: string } | undefined; labels: L; want: string }[] = [
    { name: 'deployment (replicaset with pod-template-hash)', owner: { kind: 'ReplicaSet', name: 'web-7d4f8' }, labels: { 'pod-template-hash': '7d4f8' }, want: 'web' },
    { name: 'replicaset without matching hash', owner: { kind: 'ReplicaSet', name: 'web-rs' }, labels: { 'pod-template-hash': 'zzz' }, want: 'web-rs' },
    { name: 'daemonset', owner: { kind: 'DaemonSet', name: 'agent' }, labels: {}, want: 'agent' },
    { name: 'statefulset', owner: { kind: 'StatefulSet', name: 'db' }, labels: {}, want: 'db' },
    { name: 'job from cronjob', owner: { kind: 'Job', name: 'backup-28912345' }, labels: {}, want: 'backup' },
    { name: 'plain job', owner: { kind: 'Job', name: 'migrate' }, labels: {}, want: 'migrate' },
    { name: 'bare pod', owner: undefined, labels: {}, want: 'web-7d4f8-abcde' },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      assert.equal(workloadName(pod({ ...(c.owner ? { owner: c.owner } : {}), labels: c.labels })), c.want);
    });
  }
});

test('canonicalService precedence', async (t) => {
  const cases: { name: string; labels: L; want: { name: string; revision: string } }[] = [
    { name: 'istio labels win', labels: { 'service.istio.io/canonical-name': 'cn', 'service.istio.io/canonical-revision': 'cr', app: 'a', version: 'v' }, want: { name: 'cn', revision: 'cr' } },
    { name: 'k8s recommended labels', labels: { 'app.kubernetes.io/name': 'kn', 'app.kubernetes.io/version': 'kv', app: 'a', version: 'v' }, want: { name: 'kn', revision: 'kv' } },
    { name: 'app/version', labels: { app: 'a', version: 'v1' }, want: { name: 'a', revision: 'v1' } },
    { name: 'nothing: workload name and latest', labels: {}, want: { name: 'fallback', revision: 'latest' } },
  ];
  for (const c of cases) {
    await t.test(c.name, () => assert.deepEqual(canonicalService(c.labels, 'fallback'), c.want));
  }
});

test('selectsNonEmpty', async (t) => {
  const cases: { name: string; sel: L | undefined; labels: L | undefined; want: boolean }[] = [
    { name: 'subset matches', sel: { app: 'web' }, labels: { app: 'web', x: 'y' }, want: true },
    { name: 'value differs', sel: { app: 'web' }, labels: { app: 'db' }, want: false },
    { name: 'empty selector selects nothing', sel: {}, labels: { app: 'web' }, want: false },
    { name: 'absent selector selects nothing', sel: undefined, labels: { app: 'web' }, want: false },
    { name: 'no labels', sel: { app: 'web' }, labels: undefined, want: false },
  ];
  for (const c of cases) await t.test(c.name, () => assert.equal(selectsNonEmpty(c.sel, c.labels), c.want));
});

test('ipToBytes', async (t) => {
  const cases: { in: string; want: number[] | undefined }[] = [
    { in: '10.0.0.5', want: [10, 0, 0, 5] },
    { in: '::1', want: [...new Array<number>(15).fill(0), 1] },
    { in: 'fd00::a:1', want: [0xfd, 0, ...new Array<number>(10).fill(0), 0, 0x0a, 0, 1] },
    { in: '::ffff:1.2.3.4', want: [...new Array<number>(10).fill(0), 0xff, 0xff, 1, 2, 3, 4] },
    { in: '2001:db8:0:0:1:0:0:1', want: [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1] },
    { in: 'example.com', want: undefined },
    { in: '10.0.0.256', want: undefined },
  ];
  for (const c of cases) {
    await t.test(c.in, () => {
      const got = ipToBytes(c.in);
      assert.deepEqual(got ? [...got] : undefined, c.want);
    });
  }
  assert.deepEqual([...(hostAddressToBytes('1.2.3.4/32') ?? [])], [1, 2, 3, 4]);
  assert.equal(hostAddressToBytes('1.2.3.0/24'), undefined);
});
