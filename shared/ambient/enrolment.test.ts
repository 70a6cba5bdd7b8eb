import assert from 'node:assert/strict';
import { test } from 'node:test';
import { captureDecision, podHasWorkload, podReady } from './enrolment.ts';
import { namespace, pod, type PodInit } from '../../controller/ambient/fixtures.ts';

const ambientNs = namespace('default', { 'istio.io/dataplane-mode': 'ambient' });
const plainNs = namespace('default');

test('captureDecision', async (t) => {
  const cases: { name: string; pod: PodInit; ns: ReturnType<typeof namespace> | undefined; captured: boolean; reason: string }[] = [
    { name: 'namespace enrolled', pod: {}, ns: ambientNs, captured: true, reason: 'enrolled-namespace' },
    { name: 'pod enrolled, namespace not', pod: { labels: { 'istio.io/dataplane-mode': 'ambient' } }, ns: plainNs, captured: true, reason: 'enrolled-pod' },
    { name: 'pod enrolled, namespace unknown', pod: { labels: { 'istio.io/dataplane-mode': 'ambient' } }, ns: undefined, captured: true, reason: 'enrolled-pod' },
    { name: 'neither enrolled', pod: {}, ns: plainNs, captured: false, reason: 'not-enrolled' },
    { name: 'pod opts out of enrolled namespace', pod: { labels: { 'istio.io/dataplane-mode': 'none' } }, ns: ambientNs, captured: false, reason: 'opted-out' },
    { name: 'hostNetwork', pod: { hostNetwork: true }, ns: ambientNs, captured: false, reason: 'host-network' },
    { name: 'sidecar status annotation', pod: { annotations: { 'sidecar.istio.io/status': '{}' } }, ns: ambientNs, captured: false, reason: 'sidecar-injected' },
    { name: 'istio-proxy container', pod: { containers: [{ name: 'app' }, { name: 'istio-proxy' }] }, ns: ambientNs, captured: false, reason: 'sidecar-injected' },
    { name: 'other namespace label value', pod: {}, ns: namespace('default', { 'istio.io/dataplane-mode': 'sidecar' }), captured: false, reason: 'not-enrolled' },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      assert.deepEqual(captureDecision(pod(c.pod), c.ns), { captured: c.captured, reason: c.reason });
    });
  }
});

test('podHasWorkload', async (t) => {
  const cases: { name: string; pod: PodInit; want: boolean }[] = [
    { name: 'running with ip', pod: {}, want: true },
    { name: 'pending with ip', pod: { phase: 'Pending' }, want: true },
    { name: 'no ip yet', pod: { ip: undefined }, want: false },
    { name: 'podIPs only', pod: { ip: undefined, ips: ['10.0.0.9'] }, want: true },
    { name: 'succeeded', pod: { phase: 'Succeeded' }, want: false },
    { name: 'failed', pod: { phase: 'Failed' }, want: false },
    { name: 'being deleted', pod: { deleting: true }, want: false },
  ];
  for (const c of cases) {
    await t.test(c.name, () => assert.equal(podHasWorkload(pod(c.pod)), c.want));
  }
});

test('podReady follows the Ready condition', () => {
  assert.equal(podReady(pod({ ready: true })), true);
  assert.equal(podReady(pod({ ready: false })), false);
  const noConditions = pod();
  noConditions.status = { ...noConditions.status, conditions: [] };
  assert.equal(podReady(noConditions), false);
});
