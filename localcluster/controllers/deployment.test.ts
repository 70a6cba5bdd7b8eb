import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { deploymentTemplateHash, planDeployment, templateHashLabel } from './deployment.ts';
import { pod } from './testdata.ts';

const NOW = '2026-01-01T00:00:00.000Z';

function deploy(replicas: number, image = 'img:v1', strategy?: V1Deployment['spec'] extends infer S ? S extends { strategy?: infer X } ? X : never : never): V1Deployment {
  return {
    metadata: { name: 'web', namespace: 'default', uid: 'd-uid', generation: 3 },
    spec: { replicas, selector: { matchLabels: { app: 'web' } }, strategy, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }] } } },
  };
}

let n = 0;
const suffix = (): string => `s${n++}`;
/** A pod of `d` (current template unless `old`). */
function member(d: V1Deployment, name: string, ready: boolean, old = false): V1Pod {
  const hash = old ? 'oldhash' : deploymentTemplateHash(d);
  return pod(name, { owner: { uid: 'd-uid' }, ready, labels: { app: 'web', [templateHashLabel]: hash }, created: name });
}

test('planDeployment scales and rolls out', () => {
  const d1 = deploy(3);
  const d2 = deploy(4, 'img:v2');
  const d3 = deploy(2, 'img:v1', { type: 'Recreate' });
  const cases: Array<{ name: string; d: V1Deployment; pods: V1Pod[]; creates: number; deletes: string[] }> = [
    { name: 'scale up from zero', d: d1, pods: [], creates: 3, deletes: [] },
    { name: 'steady', d: d1, pods: [member(d1, 'a', true), member(d1, 'b', true), member(d1, 'c', true)], creates: 0, deletes: [] },
    { name: 'scale down prefers unready', d: deploy(1), pods: [member(deploy(1), 'a', true), member(deploy(1), 'b', false), member(deploy(1), 'c', true)], creates: 0, deletes: ['b', 'c'] },
    { name: 'ignores pods of others', d: d1, pods: [pod('x', { owner: { uid: 'other' }, ready: true })], creates: 3, deletes: [] },
    { name: 'replaces finished pods', d: d1, pods: [member(d1, 'a', true), member(d1, 'b', true), { ...member(d1, 'c', false), status: { phase: 'Failed' } }], creates: 1, deletes: ['c'] },
    // 4 replicas: maxSurge 1, maxUnavailable 1.
    { name: 'rollout starts: surge 1, remove 1 ready old', d: d2, pods: ['a', 'b', 'c', 'd'].map((x) => member(d2, x, true, true)), creates: 1, deletes: ['d'] },
    { name: 'rollout waits for readiness', d: d2, pods: [...['a', 'b', 'c'].map((x) => member(d2, x, true, true)), member(d2, 'n1', false), member(d2, 'n2', false)], creates: 0, deletes: [] },
    { name: 'rollout continues as new pods become ready', d: d2, pods: [...['a', 'b', 'c'].map((x) => member(d2, x, true, true)), member(d2, 'n1', true), member(d2, 'n2', false)], creates: 0, deletes: ['c'] },
    { name: 'unready old pods go first, free', d: d2, pods: [member(d2, 'a', false, true), ...['b', 'c', 'd'].map((x) => member(d2, x, true, true))], creates: 1, deletes: ['a'] },
    { name: 'recreate deletes old first', d: d3, pods: [member(d3, 'a', true, true), member(d3, 'b', true, true)], creates: 0, deletes: ['a', 'b'] },
  ];
  for (const c of cases) {
    const plan = planDeployment(c.d, c.pods, suffix, NOW);
    assert.equal(plan.create.length, c.creates, `${c.name}: creates`);
    assert.deepEqual(plan.delete, c.deletes, `${c.name}: deletes`);
  }
});

test('planDeployment builds owned, labelled, well-named pods', () => {
  const d = deploy(1);
  const [p] = planDeployment(d, [], () => 'abcde', NOW).create;
  const hash = deploymentTemplateHash(d);
  assert.equal(p?.metadata?.name, `web-${hash}-abcde`);
  assert.equal(p?.metadata?.namespace, 'default');
  assert.deepEqual(p?.metadata?.labels, { app: 'web', [templateHashLabel]: hash });
  assert.deepEqual(p?.metadata?.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd-uid', controller: true, blockOwnerDeletion: true }]);
  assert.deepEqual(p?.spec?.containers, [{ name: 'c', image: 'img:v1' }]);
  assert.notEqual(hash, deploymentTemplateHash(deploy(1, 'img:v2')));
  assert.equal(hash, deploymentTemplateHash(deploy(5)), 'replicas do not change the template hash');
});

test('planDeployment status counts replicas and writes only on change', () => {
  const d = deploy(2);
  const pods = [member(d, 'a', true), member(d, 'b', false)];
  const s = planDeployment(d, pods, suffix, NOW).status as any;
  assert.equal(s.replicas, 2);
  assert.equal(s.updatedReplicas, 2);
  assert.equal(s.readyReplicas, 1);
  assert.equal(s.availableReplicas, 1);
  assert.equal(s.observedGeneration, 3);
  // 25 % of 2 rounds down to maxUnavailable 0, so one ready pod of two is not minimum availability.
  assert.equal(s.conditions.find((c: any) => c.type === 'Available').status, 'False');
  d.status = s;
  assert.equal(planDeployment(d, pods, suffix, NOW).status, undefined, 'unchanged status is not rewritten');
  const ready = planDeployment(d, [member(d, 'a', true), member(d, 'b', true)], suffix, NOW).status as any;
  assert.equal(ready.readyReplicas, 2);
  assert.equal(ready.conditions.find((c: any) => c.type === 'Available').status, 'True');
  assert.equal(ready.conditions.find((c: any) => c.type === 'Progressing').reason, 'NewReplicaSetAvailable');
});
