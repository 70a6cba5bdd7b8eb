// Server-side printing: kubectl's duration format and the column sets.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { humanDuration, toTable } from './table.ts';

describe('humanDuration', () => {
  const cases: [number, string][] = [[5, '5s'], [119, '119s'], [125, '2m5s'], [600, '10m'], [3 * 3600, '3h'], [3 * 3600 + 60 * 5, '3h5m'], [30 * 3600, '30h'], [50 * 3600, '2d2h'], [10 * 86400, '10d'], [800 * 86400, '2y70d']];
  for (const [s, want] of cases) it(`${s}s → ${want}`, () => assert.equal(humanDuration(s * 1000), want));
});

describe('tables', () => {
  const now = Date.parse('2026-01-01T00:10:00Z');
  it('pods: NAME READY STATUS RESTARTS AGE, IP and NODE at priority 1', () => {
    const t = toTable('pod', [{
      metadata: { name: 'p', creationTimestamp: '2026-01-01T00:00:00Z' },
      spec: { containers: [{ name: 'a' }, { name: 'b' }], nodeName: 'n1' },
      status: { phase: 'Running', podIP: '10.244.1.2', containerStatuses: [{ name: 'a', ready: true, restartCount: 2, state: { running: {} } }, { name: 'b', ready: false, restartCount: 1, state: { waiting: { reason: 'CrashLoopBackOff' } } }] },
    }], { now });
    assert.deepEqual(t.columnDefinitions.filter((c: any) => c.priority === 0).map((c: any) => c.name), ['Name', 'Ready', 'Status', 'Restarts', 'Age']);
    assert.deepEqual(t.rows[0].cells.slice(0, 7), ['p', '1/2', 'CrashLoopBackOff', 2 + 1, '10m', '10.244.1.2', 'n1']);
    assert.equal(t.rows[0].object.kind, 'PartialObjectMetadata');
  });
  it('services show type, cluster ip, ports', () => {
    const t = toTable('service', [{ metadata: { name: 's', creationTimestamp: '2026-01-01T00:09:00Z' }, spec: { type: 'NodePort', clusterIP: '10.96.0.20', ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }] } }], { now });
    assert.deepEqual(t.rows[0].cells.slice(0, 6), ['s', 'NodePort', '10.96.0.20', '<none>', '80:30080/TCP', '60s']);
  });
  it('unknown printers fall back to NAME AGE; watch events after the first omit columns', () => {
    const t = toTable('nope', [{ metadata: { name: 'x', creationTimestamp: '2026-01-01T00:10:00Z' } }], { now, withColumns: false });
    assert.deepEqual(t.columnDefinitions, []);
    assert.deepEqual(t.rows[0].cells, ['x', '0s']);
  });
});
