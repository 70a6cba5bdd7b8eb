import { test } from 'node:test';
import assert from 'node:assert/strict';
import { httpProbeSucceeded, initialProbeState, probeStep, probeTiming, resolvePort, type ProbeState } from './probe.ts';

test('probeTiming applies Kubernetes defaults', () => {
  assert.deepEqual(probeTiming({}), { initialDelayMs: 0, periodMs: 10_000, timeoutMs: 1000, successThreshold: 1, failureThreshold: 3 });
  assert.deepEqual(probeTiming({ initialDelaySeconds: 2, periodSeconds: 1, timeoutSeconds: 3, successThreshold: 2, failureThreshold: 1 }),
    { initialDelayMs: 2000, periodMs: 1000, timeoutMs: 3000, successThreshold: 2, failureThreshold: 1 });
});

test('probeStep flips only after the thresholds', () => {
  const t = { successThreshold: 2, failureThreshold: 3 };
  const run = (start: ProbeState, results: boolean[]): boolean[] => {
    const out: boolean[] = [];
    let s = start;
    for (const r of results) { s = probeStep(s, r, t); out.push(s.ok); }
    return out;
  };
  const cases: Array<{ name: string; start: ProbeState; results: boolean[]; want: boolean[] }> = [
    { name: 'readiness needs 2 successes', start: initialProbeState('readiness'), results: [true, true, true], want: [false, true, true] },
    { name: 'interrupted successes restart the count', start: initialProbeState('readiness'), results: [true, false, true, true], want: [false, false, false, true] },
    { name: 'ready survives fewer than 3 failures', start: { ok: true, successes: 5, failures: 0 }, results: [false, false, true, false], want: [true, true, true, true] },
    { name: '3 failures make it not ready', start: { ok: true, successes: 5, failures: 0 }, results: [false, false, false], want: [true, true, false] },
    { name: 'liveness starts alive', start: initialProbeState('liveness'), results: [false, false, false], want: [true, true, false] },
  ];
  for (const c of cases) assert.deepEqual(run(c.start, c.results), c.want, c.name);
});

test('httpProbeSucceeded accepts 2xx and 3xx', () => {
  const cases: Array<[number, boolean]> = [[199, false], [200, true], [302, true], [399, true], [400, false], [503, false]];
  for (const [s, want] of cases) assert.equal(httpProbeSucceeded(s), want, String(s));
});

test('resolvePort resolves numbers and named container ports', () => {
  const ports = [{ name: 'http', containerPort: 8080 }, { containerPort: 9000 }];
  const cases: Array<[number | string | undefined, number | undefined]> = [[80, 80], ['8081', 8081], ['http', 8080], ['grpc', undefined], [undefined, undefined]];
  for (const [p, want] of cases) assert.equal(resolvePort(p, ports), want, String(p));
});
