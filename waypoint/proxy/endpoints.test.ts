// policyFor: which TrafficPolicy a cluster (service, port, subset) gets from its DestinationPolicy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DestinationPolicy, TrafficPolicy } from '../../shared/waypoint/config.ts';
import { policyFor } from './endpoints.ts';

const lb = (simple: 'RANDOM' | 'ROUND_ROBIN' | 'LEAST_REQUEST'): TrafficPolicy => ({ loadBalancer: { simple } });
const d: DestinationPolicy = {
  service: 'demo/reviews.demo.svc.cluster.local', source: { kind: 'DestinationRule', namespace: 'demo', name: 'r' },
  policy: lb('RANDOM'),
  ports: [{ port: 9443, policy: lb('ROUND_ROBIN') }],
  subsets: [
    { name: 'plain', labels: {}, workloads: [] },
    { name: 'own', labels: {}, workloads: [], policy: lb('LEAST_REQUEST'), ports: [{ port: 9443, policy: { connectionPool: { maxConnections: 1 } } }] },
  ],
};

test('policyFor: subset port-level, then subset policy, then destination port-level, then destination policy', () => {
  const cases: Array<[string, DestinationPolicy | undefined, number, string | undefined, TrafficPolicy]> = [
    ['no rule', undefined, 9080, undefined, {}],
    ['destination policy', d, 9080, undefined, lb('RANDOM')],
    ['destination port-level', d, 9443, undefined, lb('ROUND_ROBIN')],
    ['subset without a policy: the destination\'s', d, 9443, 'plain', lb('ROUND_ROBIN')],
    ['subset policy', d, 9080, 'own', lb('LEAST_REQUEST')],
    ['subset port-level', d, 9443, 'own', { connectionPool: { maxConnections: 1 } }],
    ['unknown subset: the destination\'s', d, 9080, 'nosuch', lb('RANDOM')],
  ];
  for (const [name, dp, port, subset, want] of cases) assert.deepEqual(policyFor(dp, port, subset), want, name);
});
