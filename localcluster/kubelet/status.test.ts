import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computePodStatus, exitCodeOf, podPhase, type ContainerView, type PodView } from './status.ts';

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-01T00:01:00.000Z';
const running = (name: string, ready = true): ContainerView => ({ name, image: 'img', state: { kind: 'running', startedAt: T0 }, restartCount: 0, ready, started: true, pid: 42 });
const waiting = (name: string, reason = 'ContainerCreating', restartCount = 0): ContainerView => ({ name, image: 'img', state: { kind: 'waiting', reason }, restartCount, ready: false, started: false });
const ended = (name: string, exitCode: number): ContainerView => ({ name, image: 'img', state: { kind: 'terminated', exitCode, reason: exitCode ? 'Error' : 'Completed', startedAt: T0, finishedAt: T1 }, restartCount: 0, ready: false, started: false });
const view = (containers: ContainerView[], extra: Partial<PodView> = {}): PodView => ({ sandboxReady: true, initContainers: [], containers, startTime: T0, podIP: '10.244.1.2', hostIP: '10.100.0.11', ...extra });

test('podPhase', () => {
  const cases: Array<[string, PodView, string]> = [
    ['no sandbox yet', view([waiting('a')], { sandboxReady: false }), 'Pending'],
    ['created, not started', view([waiting('a')]), 'Pending'],
    ['unknown image', view([waiting('a', 'ImageNotInCatalogue')]), 'Pending'],
    ['running', view([running('a'), waiting('b')]), 'Running'],
    ['crash looping', view([waiting('a', 'CrashLoopBackOff', 3)]), 'Running'],
    ['all completed', view([ended('a', 0), ended('b', 0)]), 'Succeeded'],
    ['one failed', view([ended('a', 0), ended('b', 1)]), 'Failed'],
    ['one still running', view([ended('a', 0), running('b')]), 'Running'],
    ['init running', view([waiting('a', 'PodInitializing')], { initContainers: [running('i')] }), 'Pending'],
    ['init failed', view([waiting('a', 'PodInitializing')], { initContainers: [ended('i', 2)] }), 'Failed'],
    ['init done', view([running('a')], { initContainers: [ended('i', 0)] }), 'Running'],
  ];
  for (const [name, v, want] of cases) assert.equal(podPhase(v), want, name);
});

test('computePodStatus builds conditions and container statuses', () => {
  const s = computePodStatus(view([running('a'), running('b', false)]), [], T1);
  assert.equal(s.phase, 'Running');
  assert.equal(s.podIP, '10.244.1.2');
  assert.deepEqual(s.podIPs, [{ ip: '10.244.1.2' }]);
  assert.equal(s.hostIP, '10.100.0.11');
  const byType = Object.fromEntries(s.conditions.map((c) => [c.type, c]));
  assert.equal(byType.PodScheduled?.status, 'True');
  assert.equal(byType.Initialized?.status, 'True');
  assert.equal(byType.Ready?.status, 'False');
  assert.equal(byType.Ready?.reason, 'ContainersNotReady');
  assert.match(byType.Ready?.message ?? '', /\[b\]/);
  assert.deepEqual(s.containerStatuses[0], {
    name: 'a', image: 'img', imageID: '', ready: true, started: true, restartCount: 0,
    state: { running: { startedAt: T0 } }, lastState: {}, containerID: 'local://42',
  });
});

test('computePodStatus keeps transition times while conditions hold, so unchanged pods produce identical documents', () => {
  const v = view([running('a')]);
  const first = computePodStatus(v, [], T0);
  const again = computePodStatus(v, first.conditions, T1);
  assert.deepEqual(again, first);
  const notReady = computePodStatus(view([running('a', false)]), first.conditions, T1);
  const ready = notReady.conditions.find((c) => c.type === 'Ready');
  assert.equal(ready?.status, 'False');
  assert.equal(ready?.lastTransitionTime, T1);
  assert.equal(notReady.conditions.find((c) => c.type === 'PodScheduled')?.lastTransitionTime, T0);
});

test('computePodStatus reports terminated state with exit code and reason; completed pods are not ready', () => {
  const s = computePodStatus(view([ended('a', 3)]), [], T1);
  assert.equal(s.phase, 'Failed');
  assert.deepEqual((s.containerStatuses[0] as any).state.terminated, { exitCode: 3, reason: 'Error', startedAt: T0, finishedAt: T1 });
  assert.equal(s.conditions.find((c) => c.type === 'Ready')?.reason, 'PodCompleted');
});

test('exitCodeOf maps signals to 128+n', () => {
  const cases: Array<[number | null, string | null, number]> = [[0, null, 0], [3, null, 3], [null, 'SIGTERM', 143], [null, 'SIGKILL', 137]];
  for (const [code, sig, want] of cases) assert.equal(exitCodeOf(code, sig), want);
});
