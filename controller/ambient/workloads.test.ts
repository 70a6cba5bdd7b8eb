import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bytes, gateway, namespace, node, OPTS, pod, service, serviceEntry, workloadEntry, type PodInit } from './fixtures.ts';
import { staticLookups } from './lookups.ts';
import { workloadFromPod, workloadFromWorkloadEntry, workloadsFromServiceEntry } from './workloads.ts';

const ambient = { 'istio.io/dataplane-mode': 'ambient' };

test('workloadFromPod: full projection of an enrolled deployment pod', () => {
  const p = pod({
    name: 'web-7d4f8-abcde',
    labels: { app: 'web', version: 'v2', 'pod-template-hash': '7d4f8' },
    owner: { kind: 'ReplicaSet', name: 'web-7d4f8' },
  });
  const lookups = staticLookups({
    namespaces: [namespace('default', ambient)],
    nodes: [node('node-a', { 'topology.kubernetes.io/region': 'r1', 'topology.kubernetes.io/zone': 'z1' })],
    services: [service('web', { ports: [{ port: 80, targetPort: 8080 }, { port: 81, targetPort: 'http' }, { port: 82, targetPort: 'grpc' }] }), service('other', { selector: { app: 'db' } })],
    policies: (ns, labels) => (labels.app === 'web' ? [`${ns}/z-policy`, `${ns}/a-policy`] : []),
  });
  const w = workloadFromPod(p, OPTS, lookups);
  assert.ok(w);
  assert.equal(w.uid, 'Kubernetes//Pod/default/web-7d4f8-abcde');
  assert.equal(w.name, 'web-7d4f8-abcde');
  assert.equal(w.namespace, 'default');
  assert.deepEqual(w.addresses, [bytes(10, 0, 0, 5)]);
  assert.equal(w.node, 'node-a');
  assert.equal(w.serviceAccount, 'web');
  assert.equal(w.trustDomain, 'cluster.local');
  assert.equal(w.clusterId, 'Kubernetes');
  assert.equal(w.network, 'net1');
  assert.equal(w.tunnelProtocol, 'HBONE');
  assert.equal(w.workloadType, 'POD');
  assert.equal(w.workloadName, 'web');
  assert.equal(w.canonicalName, 'web');
  assert.equal(w.canonicalRevision, 'v2');
  assert.equal(w.status, 'HEALTHY');
  assert.deepEqual(w.locality, { region: 'r1', zone: 'z1', subzone: '' });
  assert.deepEqual(w.authorizationPolicies, ['default/a-policy', 'default/z-policy']);
  // Named targetPort resolved against container ports; a name no container declares is dropped.
  assert.deepEqual(w.services, {
    'default/web.default.svc.cluster.local': { ports: [{ servicePort: 80, targetPort: 8080 }, { servicePort: 81, targetPort: 8080 }] },
  });
  assert.equal(w.waypoint, undefined);
});

test('workloadFromPod: table', async (t) => {
  const cases: { name: string; pod: PodInit; nsLabels?: Record<string, string>; check: (w: ReturnType<typeof workloadFromPod>) => void }[] = [
    { name: 'not enrolled → still sent, tunnel NONE', pod: {}, check: (w) => assert.equal(w?.tunnelProtocol, 'NONE') },
    { name: 'pod-level enrolment', pod: { labels: ambient }, check: (w) => assert.equal(w?.tunnelProtocol, 'HBONE') },
    { name: 'opt-out in enrolled namespace', pod: { labels: { 'istio.io/dataplane-mode': 'none' } }, nsLabels: ambient, check: (w) => assert.equal(w?.tunnelProtocol, 'NONE') },
    { name: 'hostNetwork not captured, marked HOST_NETWORK', pod: { hostNetwork: true }, nsLabels: ambient, check: (w) => { assert.equal(w?.tunnelProtocol, 'NONE'); assert.equal(w?.networkMode, 'HOST_NETWORK'); } },
    { name: 'sidecar not captured', pod: { annotations: { 'sidecar.istio.io/status': '{}' } }, nsLabels: ambient, check: (w) => assert.equal(w?.tunnelProtocol, 'NONE') },
    { name: 'not ready → UNHEALTHY', pod: { ready: false }, check: (w) => assert.equal(w?.status, 'UNHEALTHY') },
    { name: 'terminal → no workload', pod: { phase: 'Succeeded' }, check: (w) => assert.equal(w, undefined) },
    { name: 'deleting → no workload', pod: { deleting: true }, check: (w) => assert.equal(w, undefined) },
    { name: 'no ip → no workload', pod: { ip: undefined }, check: (w) => assert.equal(w, undefined) },
    { name: 'dual stack addresses', pod: { ips: ['10.0.0.5', 'fd00::5'] }, check: (w) => assert.deepEqual(w?.addresses.map((a) => a.length), [4, 16]) },
    { name: 'bare pod workloadName is pod name', pod: { name: 'solo' }, check: (w) => { assert.equal(w?.workloadName, 'solo'); assert.equal(w?.canonicalName, 'solo'); assert.equal(w?.canonicalRevision, 'latest'); } },
    { name: 'daemonset workloadName', pod: { owner: { kind: 'DaemonSet', name: 'agent' } }, check: (w) => assert.equal(w?.workloadName, 'agent') },
    { name: 'no node labels → no locality', pod: { node: 'node-b' }, check: (w) => assert.equal(w?.locality, undefined) },
    {
      name: 'workload waypoint bound',
      pod: { labels: { 'istio.io/use-waypoint': 'wlwp' } },
      check: (w) => assert.deepEqual(w?.waypoint, { address: { network: 'net1', address: bytes(10, 96, 0, 1) }, hboneMtlsPort: 15008 }),
    },
    { name: 'service-only waypoint not bound to workload', pod: { labels: { 'istio.io/use-waypoint': 'svcwp' } }, check: (w) => assert.equal(w?.waypoint, undefined) },
    { name: 'use-waypoint none overrides namespace', pod: { labels: { 'istio.io/use-waypoint': 'none' } }, nsLabels: { 'istio.io/use-waypoint': 'wlwp' }, check: (w) => assert.equal(w?.waypoint, undefined) },
    { name: 'namespace waypoint applies', pod: {}, nsLabels: { 'istio.io/use-waypoint': 'wlwp' }, check: (w) => assert.ok(w?.waypoint?.address) },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      const lookups = staticLookups({
        namespaces: [namespace('default', c.nsLabels ?? {})],
        nodes: [node('node-b')],
        gateways: [gateway('wlwp', { waypointFor: 'workload', address: '10.96.0.1' }), gateway('svcwp')],
      });
      c.check(workloadFromPod(pod(c.pod), OPTS, lookups));
    });
  }
});

test('workloadFromPod: ServiceEntry selecting the pod adds its hosts', () => {
  const se = serviceEntry('se', { hosts: ['x.example.com'], ports: [{ number: 80, name: 'http', targetPort: 8080 }], workloadSelector: { labels: { app: 'web' } } });
  const w = workloadFromPod(pod({ labels: { app: 'web' } }), OPTS, staticLookups({ serviceEntries: [se] }));
  assert.deepEqual(w?.services['default/x.example.com'], { ports: [{ servicePort: 80, targetPort: 8080 }] });
});

test('workloadFromWorkloadEntry', async (t) => {
  const lookups = staticLookups({ services: [service('vm', { selector: { app: 'vm' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] })] });
  await t.test('ambient-labelled VM', () => {
    const we = workloadEntry('vm1', { address: '192.168.1.10', labels: { app: 'vm', ...ambient }, serviceAccount: 'vm-sa', ports: { http: 9080 }, locality: 'r/z/s' });
    const w = workloadFromWorkloadEntry(we, OPTS, lookups);
    assert.equal(w.uid, 'Kubernetes/networking.istio.io/WorkloadEntry/default/vm1');
    assert.deepEqual(w.addresses, [bytes(192, 168, 1, 10)]);
    assert.equal(w.tunnelProtocol, 'HBONE');
    assert.equal(w.serviceAccount, 'vm-sa');
    assert.deepEqual(w.locality, { region: 'r', zone: 'z', subzone: 's' });
    assert.deepEqual(w.services, { 'default/vm.default.svc.cluster.local': { ports: [{ servicePort: 80, targetPort: 9080 }] } });
  });
  await t.test('unlabelled VM is NONE; hostname address', () => {
    const w = workloadFromWorkloadEntry(workloadEntry('vm2', { address: 'vm2.example.com' }), OPTS, lookups);
    assert.equal(w.tunnelProtocol, 'NONE');
    assert.deepEqual(w.addresses, []);
    assert.equal(w.hostname, 'vm2.example.com');
    assert.equal(w.serviceAccount, 'default');
  });
});

test('workloadsFromServiceEntry: inline endpoints', () => {
  const se = serviceEntry('ext', {
    hosts: ['ext.example.com'],
    ports: [{ number: 443, name: 'https' }],
    endpoints: [{ address: '1.1.1.1', labels: ambient }, { address: '2.2.2.2', ports: { https: 8443 } }],
  });
  const ws = workloadsFromServiceEntry(se, OPTS, staticLookups({}));
  assert.deepEqual(ws.map((w) => w.uid), [
    'Kubernetes/networking.istio.io/ServiceEntry/default/ext/1.1.1.1',
    'Kubernetes/networking.istio.io/ServiceEntry/default/ext/2.2.2.2',
  ]);
  assert.deepEqual(ws.map((w) => w.tunnelProtocol), ['HBONE', 'NONE']);
  assert.deepEqual(ws[1]?.services, { 'default/ext.example.com': { ports: [{ servicePort: 443, targetPort: 8443 }] } });
  assert.deepEqual(workloadsFromServiceEntry({ ...se, spec: { ...se.spec, workloadSelector: { labels: { a: 'b' } } } }, OPTS, staticLookups({})), []);
});
