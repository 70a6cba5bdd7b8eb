// Table tests for admission: defaults, names, ClusterIP allocation, status handling and generation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { admitCreate, admitUpdate, allocateClusterIP, validateName, type AdmissionContext } from './admission.ts';
import { kindByGroupKind } from './kinds.ts';
import { ApiError } from './status.ts';

const ctx = (used: string[] = []): AdmissionContext => ({ now: new Date('2026-01-01T00:00:00Z'), usedClusterIPs: new Set(used), serviceCidr: '10.96.0.0/16', usedNodePorts: new Set() });
const Pod = kindByGroupKind('', 'Pod')!;
const Service = kindByGroupKind('', 'Service')!;
const ConfigMap = kindByGroupKind('', 'ConfigMap')!;

describe('names', () => {
  const cases: [string, string, boolean][] = [
    ['Pod', 'web-1', true], ['Pod', 'a.b.c', true], ['Pod', 'Web', false], ['Pod', '-a', false],
    ['Service', 'a.b', false], ['Namespace', 'kube-system', true], ['Namespace', 'x'.repeat(64), false],
  ];
  for (const [kind, name, ok] of cases) it(`${kind} ${name.slice(0, 12)} → ${ok}`, () => assert.equal(validateName(kind, name) === undefined, ok));
});

describe('ClusterIP allocation', () => {
  const cases: [string, string[], string | undefined, string | RegExp][] = [
    ['lowest free above .10', [], undefined, '10.96.0.11'],
    ['skips used', ['10.96.0.11', '10.96.0.12'], undefined, '10.96.0.13'],
    ['honours a requested ip', [], '10.96.5.5', '10.96.5.5'],
    ['rejects a used requested ip', ['10.96.5.5'], '10.96.5.5', /already allocated/],
    ['rejects out of range', [], '10.97.0.1', /not in the valid range/],
  ];
  for (const [name, used, req, want] of cases) {
    it(name, () => {
      if (typeof want === 'string') assert.equal(allocateClusterIP('10.96.0.0/16', new Set(used), req), want);
      else assert.throws(() => allocateClusterIP('10.96.0.0/16', new Set(used), req), (e: ApiError) => want.test(e.message));
    });
  }
});

describe('create defaults', () => {
  it('pods get Kubernetes defaults and Pending', () => {
    const p = admitCreate(Pod, { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80 }] }] } }, 'default', ctx());
    assert.equal(p.spec.restartPolicy, 'Always');
    assert.equal(p.spec.dnsPolicy, 'ClusterFirst');
    assert.equal(p.spec.serviceAccountName, 'default');
    assert.equal(p.spec.terminationGracePeriodSeconds, 30);
    assert.equal(p.spec.containers[0].imagePullPolicy, 'Always');
    assert.equal(p.spec.containers[0].ports[0].protocol, 'TCP');
    assert.equal(p.status.phase, 'Pending');
    assert.equal(p.metadata.namespace, 'default');
    assert.equal(p.metadata.generation, 1);
    assert.equal(p.metadata.creationTimestamp, '2026-01-01T00:00:00Z');
    assert.match(p.metadata.uid, /^[0-9a-f-]{36}$/);
  });
  it('services get a ClusterIP, TCP, targetPort = port; None stays headless', () => {
    const s = admitCreate(Service, { metadata: { name: 's' }, spec: { ports: [{ port: 80 }] } }, 'default', ctx(['10.96.0.11']));
    assert.equal(s.spec.clusterIP, '10.96.0.12');
    assert.deepEqual(s.spec.clusterIPs, ['10.96.0.12']);
    assert.equal(s.spec.type, 'ClusterIP');
    assert.deepEqual(s.spec.ports, [{ port: 80, protocol: 'TCP', targetPort: 80 }]);
    const h = admitCreate(Service, { metadata: { name: 'h' }, spec: { clusterIP: 'None', ports: [{ port: 80 }] } }, 'default', ctx());
    assert.equal(h.spec.clusterIP, 'None');
  });
  it('generateName makes a name with a random suffix', () => {
    const c = admitCreate(ConfigMap, { metadata: { generateName: 'cfg-' } }, 'default', ctx());
    assert.match(c.metadata.name, /^cfg-[a-z0-9]{5}$/);
  });
});

describe('update', () => {
  const old = admitCreate(Pod, { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'i' }] } }, 'default', ctx());
  old.metadata.resourceVersion = '5';
  it('main endpoint keeps status; spec change bumps generation', () => {
    const next = admitUpdate(Pod, old, { ...structuredClone(old), spec: { ...old.spec, activeDeadlineSeconds: 3 }, status: { phase: 'Running' } }, ctx());
    assert.equal(next.status.phase, 'Pending');
    assert.equal(next.metadata.generation, 2);
  });
  it('status endpoint changes only status', () => {
    const next = admitUpdate(Pod, old, { ...structuredClone(old), spec: { containers: [] }, status: { phase: 'Running' } }, ctx(), 'status');
    assert.equal(next.status.phase, 'Running');
    assert.equal(next.spec.containers.length, 1);
    assert.equal(next.metadata.generation, 1);
  });
  it('stale resourceVersion → Conflict', () => {
    assert.throws(() => admitUpdate(Pod, old, { ...structuredClone(old), metadata: { ...old.metadata, resourceVersion: '4' } }, ctx()), (e: ApiError) => e.reason === 'Conflict');
  });
  it('identity metadata comes from the stored object', () => {
    const next = admitUpdate(Pod, old, { ...structuredClone(old), metadata: { name: 'p', uid: 'forged', labels: { a: 'b' } } }, ctx());
    assert.equal(next.metadata.uid, old.metadata.uid);
    assert.deepEqual(next.metadata.labels, { a: 'b' });
  });
});
