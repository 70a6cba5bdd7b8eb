import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silent } from '../../shared/log.ts';
import { AmbientIndex } from './ambient-index.ts';
import { gateway, namespace, node, pod, service, serviceEntry, workloadEntry } from './fixtures.ts';

const uid = (name: string, ns = 'default'): string => `Kubernetes//Pod/${ns}/${name}`;
const SVC = 'default/web.default.svc.cluster.local';

function seeded(): AmbientIndex {
  const idx = new AmbientIndex({ clusterId: 'Kubernetes', trustDomain: 'cluster.local', network: '', log: silent });
  idx.upsert('Namespace', namespace('default'));
  idx.upsert('Namespace', namespace('other'));
  idx.upsert('Pod', pod({ name: 'a', ip: '10.0.0.1', labels: { app: 'web' } }));
  idx.upsert('Pod', pod({ name: 'b', ip: '10.0.0.2', labels: { app: 'web' } }));
  idx.upsert('Pod', pod({ name: 'c', ip: '10.0.0.3', labels: { app: 'db' } }));
  idx.upsert('Pod', pod({ name: 'x', ip: '10.0.1.1', namespace: 'other', labels: { app: 'web' } }));
  idx.upsert('Service', service('web'));
  idx.changes();
  return idx;
}

test('initial load reports every projected name', () => {
  const idx = new AmbientIndex({ clusterId: 'Kubernetes', trustDomain: 'cluster.local', network: '', log: silent });
  idx.upsert('Pod', pod({ name: 'a', labels: { app: 'web' } }));
  idx.upsert('Service', service('web'));
  assert.deepEqual([...idx.changes()].sort(), [SVC, uid('a')].sort());
  assert.deepEqual(idx.changes().size, 0, 'drained');
  assert.deepEqual(Object.keys(idx.addresses().get(uid('a'))?.workload?.services ?? {}), [SVC]);
});

test('one pod change → exactly that workload changes', () => {
  const idx = seeded();
  idx.upsert('Pod', pod({ name: 'a', ip: '10.0.0.1', labels: { app: 'web' }, ready: false }));
  assert.deepEqual([...idx.changes()], [uid('a')]);
  assert.equal(idx.addresses().get(uid('a'))?.workload?.status, 'UNHEALTHY');
});

test('a no-op pod update (status churn that the Workload does not show) → no change', () => {
  const idx = seeded();
  const p = pod({ name: 'a', ip: '10.0.0.1', labels: { app: 'web' } });
  p.status = { ...p.status, startTime: new Date(), containerStatuses: [{ name: 'app', ready: true, restartCount: 3, image: 'i', imageID: 'i' }] };
  idx.upsert('Pod', p);
  assert.equal(idx.changes().size, 0);
});

test('namespace enrolment → all its pods change, nothing else', () => {
  const idx = seeded();
  idx.upsert('Namespace', namespace('default', { 'istio.io/dataplane-mode': 'ambient' }));
  assert.deepEqual([...idx.changes()].sort(), [uid('a'), uid('b'), uid('c')].sort());
  for (const n of ['a', 'b', 'c']) assert.equal(idx.addresses().get(uid(n))?.workload?.tunnelProtocol, 'HBONE');
  assert.equal(idx.addresses().get(uid('x', 'other'))?.workload?.tunnelProtocol, 'NONE');
});

test('service selector change → the affected workloads change (the Service itself does not carry its selector)', () => {
  const idx = seeded();
  idx.upsert('Service', service('web', { selector: { app: 'db' } }));
  assert.deepEqual([...idx.changes()].sort(), [uid('a'), uid('b'), uid('c')].sort());
  const addrs = idx.addresses();
  assert.deepEqual(Object.keys(addrs.get(uid('c'))?.workload?.services ?? {}), [SVC]);
  assert.deepEqual(addrs.get(uid('a'))?.workload?.services, {});
  assert.deepEqual(Object.keys(addrs.get(uid('x', 'other'))?.workload?.services ?? {}), [], 'other namespace never selected');
});

test('service port change that keeps the selector → service and its selected workloads only', () => {
  const idx = seeded();
  idx.upsert('Service', service('web', { ports: [{ port: 81, targetPort: 8080 }] }));
  assert.deepEqual([...idx.changes()].sort(), [SVC, uid('a'), uid('b')].sort());
});

test('deletion → name removed and reported', () => {
  const idx = seeded();
  idx.remove('Pod', 'default/a');
  assert.deepEqual([...idx.changes()], [uid('a')]);
  assert.equal(idx.addresses().has(uid('a')), false);
  idx.remove('Service', 'default/web');
  assert.deepEqual([...idx.changes()].sort(), [SVC, uid('b')].sort());
  assert.equal(idx.addresses().has(SVC), false);
  idx.remove('Pod', 'default/nope');
  assert.equal(idx.changes().size, 0);
});

test('pod turning terminal removes its workload', () => {
  const idx = seeded();
  idx.upsert('Pod', pod({ name: 'b', ip: '10.0.0.2', labels: { app: 'web' }, phase: 'Succeeded' }));
  assert.deepEqual([...idx.changes()], [uid('b')]);
  assert.equal(idx.addresses().has(uid('b')), false);
});

test('node labels → locality of pods on that node', () => {
  const idx = seeded();
  idx.upsert('Pod', pod({ name: 'n', ip: '10.0.0.9', node: 'node-z' }));
  idx.changes();
  idx.upsert('Node', node('node-z', { 'topology.kubernetes.io/zone': 'z9' }));
  assert.deepEqual([...idx.changes()], [uid('n')]);
  assert.equal(idx.addresses().get(uid('n'))?.workload?.locality?.zone, 'z9');
});

test('gateway appearing binds the waypoint users; waypoint-for change rebinds', () => {
  const idx = seeded();
  idx.upsert('Service', service('web', { labels: { 'istio.io/use-waypoint': 'wp' } }));
  idx.changes();
  assert.equal(idx.addresses().get(SVC)?.service?.waypoint, undefined);
  idx.upsert('Gateway', gateway('wp'));
  assert.deepEqual([...idx.changes()], [SVC]);
  assert.equal(idx.addresses().get(SVC)?.service?.waypoint?.hboneMtlsPort, 15008);
  idx.upsert('Gateway', gateway('wp', { waypointFor: 'workload' }));
  assert.deepEqual([...idx.changes()], [SVC]);
  assert.equal(idx.addresses().get(SVC)?.service?.waypoint, undefined);
});

test('service entries and workload entries', () => {
  const idx = seeded();
  idx.upsert('ServiceEntry', serviceEntry('ext', { hosts: ['e.example.com'], ports: [{ number: 80, name: 'http' }], workloadSelector: { labels: { app: 'vm' } } }));
  idx.upsert('WorkloadEntry', workloadEntry('vm1', { address: '192.168.0.1', labels: { app: 'vm' } }));
  const weUid = 'Kubernetes/networking.istio.io/WorkloadEntry/default/vm1';
  assert.deepEqual([...idx.changes()].sort(), ['default/e.example.com', weUid].sort());
  assert.deepEqual(Object.keys(idx.addresses().get(weUid)?.workload?.services ?? {}), ['default/e.example.com']);
  idx.remove('ServiceEntry', 'default/ext');
  assert.deepEqual([...idx.changes()].sort(), ['default/e.example.com', weUid].sort());
});

test('policiesChanged recomputes workloads with the new policy names', () => {
  let names: string[] = [];
  const idx = new AmbientIndex({ clusterId: 'Kubernetes', trustDomain: 'cluster.local', network: '', log: silent, policies: () => names });
  idx.upsert('Pod', pod({ name: 'a' }));
  idx.upsert('Pod', pod({ name: 'o', namespace: 'other' }));
  idx.changes();
  names = ['default/deny'];
  idx.policiesChanged('default');
  assert.deepEqual([...idx.changes()], [uid('a')]);
  assert.deepEqual(idx.addresses().get(uid('a'))?.workload?.authorizationPolicies, ['default/deny']);
  idx.policiesChanged();
  assert.deepEqual([...idx.changes()], [uid('o', 'other')]);
});

test('two ServiceEntries declaring one host: the first keeps it, the second takes over when it goes', () => {
  const idx = seeded();
  idx.upsert('ServiceEntry', serviceEntry('first', { hosts: ['dup.example.com'], addresses: ['240.0.0.1'], ports: [{ number: 80 }] }));
  idx.upsert('ServiceEntry', serviceEntry('second', { hosts: ['dup.example.com'], addresses: ['240.0.0.2'], ports: [{ number: 80 }] }));
  assert.deepEqual([...idx.changes()], ['default/dup.example.com']);
  assert.equal(idx.get('default/dup.example.com')?.service?.name, 'first');
  idx.remove('ServiceEntry', 'default/first');
  assert.deepEqual([...idx.changes()], ['default/dup.example.com']);
  assert.equal(idx.get('default/dup.example.com')?.service?.name, 'second');
  idx.remove('ServiceEntry', 'default/second');
  assert.deepEqual([...idx.changes()], ['default/dup.example.com']);
  assert.equal(idx.get('default/dup.example.com'), undefined);
});
