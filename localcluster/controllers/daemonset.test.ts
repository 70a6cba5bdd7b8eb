import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1DaemonSet, V1Pod } from '@kubernetes/client-node';
import { planDaemonSet, revisionHashLabel } from './daemonset.ts';
import { stableHash } from './util.ts';
import { node, pod } from './testdata.ts';

function ds(image = 'img:v1', nodeSelector?: Record<string, string>): V1DaemonSet {
  return {
    metadata: { name: 'agent', namespace: 'kube-system', uid: 'ds-uid', generation: 2 },
    spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { nodeSelector, containers: [{ name: 'c', image }] } } },
  };
}
const member = (d: V1DaemonSet, name: string, nodeName: string, ready: boolean, old = false): V1Pod =>
  pod(name, { ns: 'kube-system', node: nodeName, ready, owner: { uid: 'ds-uid', kind: 'DaemonSet' }, labels: { app: 'agent', [revisionHashLabel]: old ? 'old' : stableHash(d.spec?.template) } });

test('planDaemonSet', () => {
  const d = ds();
  const d2 = ds('img:v2');
  const nodes = [node('n1'), node('n2', { role: 'edge' }), node('n3', {}, false)];
  const cases: Array<{ name: string; d: V1DaemonSet; pods: V1Pod[]; creates: string[]; deletes: string[] }> = [
    { name: 'one per ready node', d, pods: [], creates: ['n1', 'n2'], deletes: [] },
    { name: 'steady', d, pods: [member(d, 'a', 'n1', true), member(d, 'b', 'n2', true)], creates: [], deletes: [] },
    { name: 'nodeSelector', d: ds('img:v1', { role: 'edge' }), pods: [member(ds('img:v1', { role: 'edge' }), 'a', 'n1', true)], creates: ['n2'], deletes: ['a'] },
    { name: 'duplicates removed', d, pods: [member(d, 'a', 'n1', true), member(d, 'b', 'n1', false), member(d, 'c', 'n2', true)], creates: [], deletes: ['b'] },
    { name: 'update one node at a time', d: d2, pods: [member(d2, 'a', 'n1', true, true), member(d2, 'b', 'n2', true, true)], creates: [], deletes: ['a'] },
    { name: 'update waits while a node is unavailable', d: d2, pods: [member(d2, 'a', 'n1', false), member(d2, 'b', 'n2', true, true)], creates: [], deletes: [] },
    { name: 'unready old pods are replaced freely', d: d2, pods: [member(d2, 'a', 'n1', false, true), member(d2, 'b', 'n2', false, true)], creates: [], deletes: ['a', 'b'] },
    { name: 'pod on gone node deleted', d, pods: [member(d, 'a', 'n9', true)], creates: ['n1', 'n2'], deletes: ['a'] },
  ];
  let i = 0;
  for (const c of cases) {
    const plan = planDaemonSet(c.d, nodes, c.pods, () => `x${i++}`);
    assert.deepEqual(plan.create.map((p) => p.spec?.nodeName), c.creates, `${c.name}: creates`);
    assert.deepEqual(plan.delete, c.deletes, `${c.name}: deletes`);
    for (const p of plan.create) {
      assert.match(p.metadata?.name ?? '', /^agent-x\d+$/);
      assert.equal(p.metadata?.ownerReferences?.[0]?.kind, 'DaemonSet');
      assert.equal(p.metadata?.labels?.[revisionHashLabel], stableHash(c.d.spec?.template));
    }
  }
});

test('planDaemonSet with maxSurge: the new pod starts next to the old one, which goes once the new one is Ready', () => {
  const surge = (image: string): V1DaemonSet => {
    const d = ds(image);
    d.spec!.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } as never };
    return d;
  };
  const d2 = surge('img:v2');
  const nodes = [node('n1'), node('n2')];
  const cases: Array<{ name: string; pods: V1Pod[]; creates: string[]; deletes: string[] }> = [
    { name: 'surge on one node at a time', pods: [member(d2, 'a', 'n1', true, true), member(d2, 'b', 'n2', true, true)], creates: ['n1'], deletes: [] },
    { name: 'both run until the new one is ready', pods: [member(d2, 'a', 'n1', true, true), member(d2, 'new1', 'n1', false), member(d2, 'b', 'n2', true, true)], creates: [], deletes: [] },
    { name: 'new one ready: old deleted', pods: [member(d2, 'a', 'n1', true, true), member(d2, 'new1', 'n1', true), member(d2, 'b', 'n2', true, true)], creates: [], deletes: ['a'] },
    { name: 'next node', pods: [member(d2, 'new1', 'n1', true), member(d2, 'b', 'n2', true, true)], creates: ['n2'], deletes: [] },
    { name: 'an unready old pod is replaced without surge', pods: [member(d2, 'new1', 'n1', true), member(d2, 'b', 'n2', false, true)], creates: [], deletes: ['b'] },
    { name: 'steady', pods: [member(d2, 'new1', 'n1', true), member(d2, 'new2', 'n2', true)], creates: [], deletes: [] },
  ];
  let i = 0;
  for (const c of cases) {
    const plan = planDaemonSet(d2, nodes, c.pods, () => `s${i++}`);
    assert.deepEqual(plan.create.map((p) => p.spec?.nodeName), c.creates, `${c.name}: creates`);
    assert.deepEqual(plan.delete, c.deletes, `${c.name}: deletes`);
  }
});

test('planDaemonSet status', () => {
  const d = ds('img:v2');
  const nodes = [node('n1'), node('n2')];
  const s = planDaemonSet(d, nodes, [member(d, 'a', 'n1', true), member(d, 'b', 'n2', false, true)], () => 'x').status;
  assert.deepEqual(s, { desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 1, updatedNumberScheduled: 1, numberAvailable: 1, numberUnavailable: 1, numberMisscheduled: 0, observedGeneration: 2 });
  d.status = s as V1DaemonSet['status'];
  assert.equal(planDaemonSet(d, nodes, [member(d, 'a', 'n1', true), member(d, 'b', 'n2', false, true)], () => 'x').status, undefined);
});
