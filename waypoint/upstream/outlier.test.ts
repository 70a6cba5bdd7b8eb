// Table tests of outlier detection over a fake clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OutlierDetection } from '../../shared/waypoint/config.ts';
import { createOutlierDetector, type OutlierResult } from './outlier.ts';

const base: OutlierDetection = { intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 100 };

function setup(cfg: Partial<OutlierDetection>, hosts = ['a', 'b', 'c', 'd']) {
  const clock = { t: 0 };
  const d = createOutlierDetector({ ...base, ...cfg }, () => clock.t);
  d.setHosts(hosts);
  return { d, clock };
}

const repeat = (n: number, r: OutlierResult): OutlierResult[] => Array.from({ length: n }, () => r);

test('which result sequences eject a host', () => {
  const cases: Array<{ name: string; cfg: Partial<OutlierDetection>; results: OutlierResult[]; ejected: boolean }> = [
    { name: 'default threshold 5: four 5xx', cfg: {}, results: repeat(4, 500), ejected: false },
    { name: 'default threshold 5: five 5xx', cfg: {}, results: repeat(5, 500), ejected: true },
    { name: 'a success resets the count', cfg: {}, results: [...repeat(4, 503), 200, ...repeat(4, 503)], ejected: false },
    { name: '4xx is a success for outlier detection', cfg: { consecutive5xxErrors: 2 }, results: [500, 404, 500], ejected: false },
    { name: 'connect failures count as 5xx', cfg: { consecutive5xxErrors: 3 }, results: repeat(3, 'connect-failure'), ejected: true },
    { name: 'resets and timeouts count as 5xx', cfg: { consecutive5xxErrors: 2 }, results: ['reset', 'timeout'], ejected: true },
    { name: 'consecutive5xxErrors 0 disables', cfg: { consecutive5xxErrors: 0 }, results: repeat(50, 500), ejected: false },
    { name: 'gateway errors: 502/503/504', cfg: { consecutive5xxErrors: 0, consecutiveGatewayErrors: 3 }, results: [502, 503, 504], ejected: true },
    { name: 'gateway errors: a 500 resets them', cfg: { consecutive5xxErrors: 0, consecutiveGatewayErrors: 3 }, results: [502, 503, 500, 504], ejected: false },
    { name: 'gateway errors: connect failure is one', cfg: { consecutive5xxErrors: 0, consecutiveGatewayErrors: 2 }, results: ['connect-failure', 'timeout'], ejected: true },
    { name: 'gateway threshold below the 5xx one wins', cfg: { consecutive5xxErrors: 10, consecutiveGatewayErrors: 2 }, results: [503, 503], ejected: true },
    { name: 'gateway errors off by default', cfg: { consecutive5xxErrors: 0 }, results: repeat(20, 503), ejected: false },
  ];
  for (const c of cases) {
    const { d } = setup(c.cfg);
    for (const r of c.results) d.report('a', r);
    assert.equal(d.isEjected('a'), c.ejected, c.name);
    assert.deepEqual(d.ejected(), c.ejected ? ['a'] : [], c.name);
  }
});

test('report() says when it ejected', () => {
  const { d } = setup({ consecutive5xxErrors: 2 });
  assert.deepEqual([d.report('a', 500), d.report('a', 500), d.report('a', 500)], [false, true, false]);
});

test('maxEjectionPercent: (ejected + 1) / hosts must not exceed it (Envoy ≥ 1.31)', () => {
  const cases: Array<{ hosts: number; percent: number; failing: number; want: number }> = [
    { hosts: 3, percent: 10, failing: 3, want: 0 },
    { hosts: 10, percent: 10, failing: 3, want: 1 },
    { hosts: 20, percent: 10, failing: 5, want: 2 },
    { hosts: 4, percent: 50, failing: 4, want: 2 },
    { hosts: 3, percent: 34, failing: 3, want: 1 },
    { hosts: 1, percent: 100, failing: 1, want: 1 },
    { hosts: 5, percent: 0, failing: 5, want: 0 },
    { hosts: 5, percent: 100, failing: 5, want: 5 },
  ];
  for (const c of cases) {
    const ids = Array.from({ length: c.hosts }, (_, i) => `h${i}`);
    const { d } = setup({ consecutive5xxErrors: 1, maxEjectionPercent: c.percent }, ids);
    for (const id of ids.slice(0, c.failing)) d.report(id, 503);
    assert.equal(d.ejected().length, c.want, `${c.hosts} hosts, ${c.percent}%`);
  }
});

test('a blocked ejection restarts the count', () => {
  const { d } = setup({ consecutive5xxErrors: 2, maxEjectionPercent: 50 }, ['a', 'b']);
  d.report('a', 500);
  d.report('a', 500); // a ejected (1/2 = 50%)
  d.report('b', 500);
  d.report('b', 500); // blocked: 2/2 > 50%
  d.tick();
  assert.deepEqual(d.ejected(), ['a']);
  // a returns; b needs two fresh errors, not one.
  const { d: d2, clock } = setup({ consecutive5xxErrors: 2, maxEjectionPercent: 50 }, ['a', 'b']);
  d2.report('a', 500);
  d2.report('a', 500);
  d2.report('b', 500);
  d2.report('b', 500);
  clock.t = 30_000;
  assert.deepEqual(d2.tick(), ['a']);
  d2.report('b', 500);
  assert.equal(d2.isEjected('b'), false);
  d2.report('b', 500);
  assert.equal(d2.isEjected('b'), true);
});

test('ejection time: base × multiplier, re-admitted on the first tick after it', () => {
  const { d, clock } = setup({ consecutive5xxErrors: 1 });
  const steps: Array<{ t: number; report?: OutlierResult; tickReturns?: string[]; ejected: boolean }> = [
    { t: 0, report: 500, ejected: true },
    { t: 29_999, tickReturns: [], ejected: true },
    { t: 30_000, tickReturns: ['a'], ejected: false },
    // Ejected again right away: twice as long.
    { t: 31_000, report: 500, ejected: true },
    { t: 90_999, tickReturns: [], ejected: true },
    { t: 91_000, tickReturns: ['a'], ejected: false },
  ];
  for (const s of steps) {
    clock.t = s.t;
    if (s.report !== undefined) d.report('a', s.report);
    if (s.tickReturns) assert.deepEqual(d.tick(), s.tickReturns, `t=${s.t}`);
    assert.equal(d.isEjected('a'), s.ejected, `t=${s.t}`);
  }
});

test('ejection time: the multiplier decays while the host stays healthy', () => {
  const { d, clock } = setup({ consecutive5xxErrors: 1 });
  d.report('a', 500); // ×1
  clock.t = 30_000;
  d.tick();
  d.report('a', 500); // ×2, ejected at 30 s for 60 s
  clock.t = 90_000;
  assert.deepEqual(d.tick(), ['a']);
  // Two healthy intervals: ×2 → ×0.
  clock.t = 100_000;
  d.tick();
  clock.t = 110_000;
  d.tick();
  d.report('a', 500); // ×1 again
  clock.t = 140_000;
  assert.deepEqual(d.tick(), ['a'], 'back to one base ejection time');
});

test('ejection time is capped at max(base, 300 s)', () => {
  const { d, clock } = setup({ consecutive5xxErrors: 1, baseEjectionTimeMs: 100_000 });
  let t = 0;
  const durations: number[] = [];
  for (let i = 0; i < 5; i++) {
    clock.t = t;
    d.report('a', 500);
    const start = t;
    do {
      t += 1_000;
      clock.t = t;
    } while (d.tick().length === 0);
    durations.push(t - start);
  }
  assert.deepEqual(durations, [100_000, 200_000, 300_000, 300_000, 300_000]);
});

test('a returning host starts with fresh counters; reports while ejected do not extend it', () => {
  const { d, clock } = setup({ consecutive5xxErrors: 3 });
  for (const r of repeat(3, 500)) d.report('a', r);
  clock.t = 10_000;
  for (const r of repeat(10, 500)) d.report('a', r); // panic-mode traffic, say
  clock.t = 30_000;
  assert.deepEqual(d.tick(), ['a']);
  d.report('a', 500);
  d.report('a', 500);
  assert.equal(d.isEjected('a'), false);
});

test('minHealthPercent: below it ejections are ignored (panic)', () => {
  const cases: Array<{ minHealth?: number; failing: string[]; healthy: string[]; aEjected: boolean }> = [
    { failing: ['a', 'b', 'c'], healthy: ['d'], aEjected: true },
    { minHealth: 50, failing: ['a'], healthy: ['b', 'c', 'd'], aEjected: true },
    { minHealth: 50, failing: ['a', 'b'], healthy: ['c', 'd'], aEjected: true },
    { minHealth: 50, failing: ['a', 'b', 'c'], healthy: ['a', 'b', 'c', 'd'], aEjected: false },
    { minHealth: 100, failing: ['a'], healthy: ['a', 'b', 'c', 'd'], aEjected: false },
    { failing: ['a', 'b', 'c', 'd'], healthy: [], aEjected: true },
  ];
  for (const c of cases) {
    const { d } = setup({ consecutive5xxErrors: 1, ...(c.minHealth !== undefined ? { minHealthPercent: c.minHealth } : {}) });
    for (const id of c.failing) d.report(id, 503);
    const eps = ['a', 'b', 'c', 'd'].map((id) => ({ id }));
    assert.deepEqual(d.healthy(eps).map((e) => e.id), c.healthy, `min ${c.minHealth} failing ${c.failing}`);
    assert.equal(d.isEjected('a'), c.aEjected, `min ${c.minHealth} failing ${c.failing}`);
  }
});

test('healthy() judges panic over the endpoints it is given (a subset)', () => {
  const { d } = setup({ consecutive5xxErrors: 1, minHealthPercent: 50 }, ['a', 'b', 'c', 'd', 'e', 'f']);
  d.report('a', 503);
  // Cluster-wide 5/6 are healthy; the subset decides: 1/2 is not below 50%, 0/1 is (panic: all of it).
  assert.deepEqual(d.healthy([{ id: 'a' }, { id: 'b' }]).map((e) => e.id), ['b'], '1/2 healthy is not below 50%');
  assert.deepEqual(d.healthy([{ id: 'a' }, { id: 'b' }, { id: 'c' }]).map((e) => e.id), ['b', 'c']);
  assert.deepEqual(d.healthy([{ id: 'a' }]).map((e) => e.id), ['a']);
});

test('setHosts: gone hosts are forgotten and no longer count', () => {
  const { d } = setup({ consecutive5xxErrors: 1, maxEjectionPercent: 50 }, ['a', 'b']);
  d.report('a', 503);
  d.report('b', 503); // blocked: 2/2
  assert.deepEqual(d.ejected(), ['a']);
  d.setHosts(['b', 'c', 'd', 'e']);
  assert.deepEqual(d.ejected(), []);
  d.report('b', 503);
  d.report('c', 503);
  d.report('d', 503); // 3/4 > 50%: blocked
  assert.deepEqual(d.ejected().sort(), ['b', 'c']);
  // A host reported before setHosts knows of it joins the denominator.
  d.report('z', 200);
  d.report('d', 503);
  assert.deepEqual(d.ejected().sort(), ['b', 'c']);
});
