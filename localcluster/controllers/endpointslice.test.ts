import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Service } from '@kubernetes/client-node';
import { desiredSlices, managedBy, managedByLabel, planEndpointSlices, serviceNameLabel } from './endpointslice.ts';
import { pod } from './testdata.ts';

const cp = { apiAddress: '10.100.0.1', apiPort: 6443, dnsAddress: '10.100.0.1' };
const svc = (name: string, ns: string, selector: Record<string, string> | undefined, ports: NonNullable<V1Service['spec']>['ports']): V1Service =>
  ({ metadata: { name, namespace: ns, uid: `svc-${name}` }, spec: { selector, ports } });

test('desiredSlices selects pods with IPs and maps readiness', () => {
  const s = svc('web', 'default', { app: 'web' }, [{ name: 'http', port: 80, targetPort: 8080 as any, protocol: 'TCP' }]);
  const pods = [
    pod('b', { labels: { app: 'web' }, ip: '10.244.1.3', ready: true, node: 'n1' }),
    pod('a', { labels: { app: 'web' }, ip: '10.244.2.9', ready: false, node: 'n2' }),
    pod('t', { labels: { app: 'web' }, ip: '10.244.1.4', ready: true, node: 'n1', terminating: true }),
    pod('noip', { labels: { app: 'web' }, ready: true }),
    pod('other', { labels: { app: 'db' }, ip: '10.244.1.5', ready: true }),
    pod('elsewhere', { ns: 'x', labels: { app: 'web' }, ip: '10.244.1.6', ready: true }),
    pod('done', { labels: { app: 'web' }, ip: '10.244.1.7', ready: false, phase: 'Succeeded' }),
  ];
  const [slice, ...rest] = desiredSlices(s, pods, cp);
  assert.equal(rest.length, 0);
  assert.equal(slice?.addressType, 'IPv4');
  assert.deepEqual(slice?.metadata?.labels, { [serviceNameLabel]: 'web', [managedByLabel]: managedBy });
  assert.equal(slice?.metadata?.ownerReferences?.[0]?.uid, 'svc-web');
  assert.deepEqual(slice?.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  assert.deepEqual(slice?.endpoints?.map((e) => [e.addresses[0], e.conditions, e.nodeName, e.targetRef?.name]), [
    ['10.244.1.3', { ready: true, serving: true, terminating: false }, 'n1', 'b'],
    ['10.244.1.4', { ready: false, serving: true, terminating: true }, 'n1', 't'],
    ['10.244.2.9', { ready: false, serving: false, terminating: false }, 'n2', 'a'],
  ]);
});

test('named targetPorts resolve per pod and split slices by port set', () => {
  const s = svc('api', 'default', { app: 'api' }, [{ name: 'http', port: 80, targetPort: 'web' as any }, { name: 'raw', port: 9000 }]);
  const pods = [
    pod('a', { labels: { app: 'api' }, ip: '10.0.0.1', ready: true, ports: [{ name: 'web', containerPort: 8080 }] }),
    pod('b', { labels: { app: 'api' }, ip: '10.0.0.2', ready: true, ports: [{ name: 'web', containerPort: 8081 }] }),
    pod('c', { labels: { app: 'api' }, ip: '10.0.0.3', ready: true, ports: [{ name: 'web', containerPort: 8080 }] }),
  ];
  const slices = desiredSlices(s, pods, cp);
  const summary = slices.map((sl) => [sl.ports?.map((p) => `${p.name}:${p.port}`).join(','), sl.endpoints?.map((e) => e.addresses[0]).join(',')]).sort();
  assert.deepEqual(summary, [['http:8080,raw:9000', '10.0.0.1,10.0.0.3'], ['http:8081,raw:9000', '10.0.0.2']]);
  assert.equal(new Set(slices.map((sl) => sl.metadata?.name)).size, 2);
});

test('kubernetes and kube-dns point at the control plane', () => {
  const [api] = desiredSlices(svc('kubernetes', 'default', undefined, [{ name: 'https', port: 443, targetPort: 6443 as any }]), [], cp);
  assert.deepEqual(api?.endpoints?.map((e) => e.addresses[0]), ['10.100.0.1']);
  assert.deepEqual(api?.ports, [{ name: 'https', port: 6443, protocol: 'TCP' }]);
  const [dns] = desiredSlices(svc('kube-dns', 'kube-system', undefined, [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }]), [], { ...cp, dnsAddress: '10.100.0.2' });
  assert.deepEqual(dns?.endpoints?.map((e) => e.addresses[0]), ['10.100.0.2']);
  assert.deepEqual(dns?.ports, [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }]);
  assert.deepEqual(desiredSlices(svc('manual', 'default', undefined, [{ port: 80 }]), [], cp), []);
});

test('planEndpointSlices upserts only changes and deletes orphaned managed slices', () => {
  const s = svc('web', 'default', { app: 'web' }, [{ name: 'http', port: 80 }]);
  const pods = [pod('a', { labels: { app: 'web' }, ip: '10.0.0.1', ready: true })];
  const first = planEndpointSlices([s], pods, [], cp);
  assert.equal(first.upsert.length, 1);
  assert.deepEqual(first.delete, []);
  // The same slice as the API returns it (extra server fields) is not rewritten.
  const stored = { ...structuredClone(first.upsert[0]!), metadata: { ...structuredClone(first.upsert[0]!.metadata), resourceVersion: '7', uid: 'x' } };
  assert.deepEqual(planEndpointSlices([s], pods, [stored], cp), { upsert: [], delete: [] });
  // Readiness change → rewrite.
  const changed = planEndpointSlices([s], [pod('a', { labels: { app: 'web' }, ip: '10.0.0.1', ready: false })], [stored], cp);
  assert.equal(changed.upsert.length, 1);
  // Service gone → managed slice deleted; a user's slice is left alone.
  const user = { metadata: { name: 'mine', namespace: 'default', labels: { [serviceNameLabel]: 'x' } }, addressType: 'IPv4', endpoints: [] };
  assert.deepEqual(planEndpointSlices([], pods, [stored, user], cp), { upsert: [], delete: [{ namespace: 'default', name: stored.metadata.name }] });
});
