import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planScheduling } from './scheduler.ts';
import { node, pod } from './testdata.ts';

test('planScheduling', () => {
  const cases: Array<{ name: string; pods: ReturnType<typeof pod>[]; nodes: ReturnType<typeof node>[]; want: string[] }> = [
    { name: 'no pending pods', pods: [pod('a', { node: 'n1' })], nodes: [node('n1')], want: [] },
    { name: 'fewest pods first', pods: [pod('a', { node: 'n1' }), pod('b')], nodes: [node('n1'), node('n2')], want: ['bind default/b n2'] },
    { name: 'spreads a batch', pods: [pod('a', { created: '1' }), pod('b', { created: '2' }), pod('c', { created: '3' })], nodes: [node('n1'), node('n2')], want: ['bind default/a n1', 'bind default/b n2', 'bind default/c n1'] },
    { name: 'nodeSelector', pods: [pod('a', { nodeSelector: { zone: 'b' } })], nodes: [node('n1', { zone: 'a' }), node('n2', { zone: 'b' })], want: ['bind default/a n2'] },
    { name: 'hostname selector', pods: [pod('a', { nodeSelector: { 'kubernetes.io/hostname': 'n1' } })], nodes: [node('n1'), node('n2')], want: ['bind default/a n1'] },
    { name: 'skips not-ready and cordoned nodes', pods: [pod('a')], nodes: [node('n1', {}, false), node('n2', {}, true, true), node('n3')], want: ['bind default/a n3'] },
    { name: 'unschedulable', pods: [pod('a', { nodeSelector: { gpu: 'yes' } })], nodes: [node('n1'), node('n2', {}, false)], want: ['unschedulable default/a 0/2 nodes are available: 1 node(s) not ready, 1 node(s) didn\'t match Pod\'s node affinity/selector.'] },
    { name: 'ignores terminating and finished pods', pods: [pod('a', { terminating: true }), pod('b', { phase: 'Succeeded' })], nodes: [node('n1')], want: [] },
    { name: 'finished pods do not count as load', pods: [pod('x', { node: 'n1', phase: 'Failed' }), pod('y', { node: 'n1', phase: 'Failed' }), pod('z', { node: 'n2' }), pod('a')], nodes: [node('n1'), node('n2')], want: ['bind default/a n1'] },
  ];
  for (const c of cases) {
    const got = planScheduling(c.pods, c.nodes).map((a) => a.kind === 'bind' ? `bind ${a.namespace}/${a.pod} ${a.node}` : `unschedulable ${a.namespace}/${a.pod} ${a.message}`);
    assert.deepEqual(got, c.want, c.name);
  }
});

test('planScheduling does not repeat an identical Unschedulable condition', () => {
  const p = pod('a', { nodeSelector: { gpu: 'yes' } });
  const [first] = planScheduling([p], [node('n1')]);
  assert.equal(first?.kind, 'unschedulable');
  p.status!.conditions = [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: first?.kind === 'unschedulable' ? first.message : '' }];
  assert.deepEqual(planScheduling([p], [node('n1')]), []);
});
