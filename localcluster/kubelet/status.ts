// Pure: the pod status the kubelet publishes, computed from what it knows about its containers.
// Condition transition times carry over from the previous status while a condition keeps its
// value, so recomputing an unchanged pod yields an identical document (writes are skipped).

export type ContainerState =
  | { kind: 'waiting'; reason: string; message?: string }
  | { kind: 'running'; startedAt: string }
  | { kind: 'terminated'; exitCode: number; signal?: number; reason: string; message?: string; startedAt: string; finishedAt: string; pid?: number };

export interface ContainerView {
  name: string;
  image: string;
  state: ContainerState;
  lastState?: ContainerState;
  restartCount: number;
  ready: boolean;
  started: boolean;
  pid?: number;
}

export interface PodView {
  /** Network set up; before that every container is waiting in ContainerCreating. */
  sandboxReady: boolean;
  initContainers: ContainerView[];
  containers: ContainerView[];
  podIP?: string;
  hostIP?: string;
  startTime: string;
}

export interface PodCondition { type: string; status: 'True' | 'False'; lastTransitionTime: string; reason?: string; message?: string }

export interface PodStatusDoc {
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  conditions: PodCondition[];
  podIP?: string;
  podIPs?: Array<{ ip: string }>;
  hostIP?: string;
  hostIPs?: Array<{ ip: string }>;
  startTime: string;
  initContainerStatuses?: unknown[];
  containerStatuses: unknown[];
}

export function podPhase(v: PodView): PodStatusDoc['phase'] {
  const initFailed = v.initContainers.some((c) => c.state.kind === 'terminated' && c.state.exitCode !== 0);
  if (initFailed) return 'Failed';
  const initDone = v.initContainers.every((c) => c.state.kind === 'terminated' && c.state.exitCode === 0);
  if (!v.sandboxReady || !initDone) return 'Pending';
  const states = v.containers.map((c) => c.state);
  if (states.length > 0 && states.every((s) => s.kind === 'terminated')) {
    return states.every((s) => s.kind === 'terminated' && s.exitCode === 0) ? 'Succeeded' : 'Failed';
  }
  const everStarted = v.containers.some((c) => c.state.kind !== 'waiting' || c.restartCount > 0 || c.lastState !== undefined);
  return everStarted ? 'Running' : 'Pending';
}

function stateDoc(s: ContainerState): Record<string, unknown> {
  switch (s.kind) {
    case 'waiting': return { waiting: s.message === undefined ? { reason: s.reason } : { reason: s.reason, message: s.message } };
    case 'running': return { running: { startedAt: s.startedAt } };
    case 'terminated': {
      const t: Record<string, unknown> = { exitCode: s.exitCode, reason: s.reason, startedAt: s.startedAt, finishedAt: s.finishedAt };
      if (s.signal !== undefined) t.signal = s.signal;
      if (s.message !== undefined) t.message = s.message;
      if (s.pid !== undefined) t.containerID = `local://${s.pid}`;
      return { terminated: t };
    }
  }
}

export function containerStatusDoc(c: ContainerView): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    name: c.name,
    image: c.image,
    imageID: '',
    ready: c.ready,
    started: c.started,
    restartCount: c.restartCount,
    state: stateDoc(c.state),
    lastState: c.lastState ? stateDoc(c.lastState) : {},
  };
  if (c.pid !== undefined) doc.containerID = `local://${c.pid}`;
  return doc;
}

export function computePodStatus(v: PodView, previous: PodCondition[], now: string): PodStatusDoc {
  const phase = podPhase(v);
  const initDone = v.initContainers.every((c) => c.state.kind === 'terminated' && c.state.exitCode === 0);
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const containersReady = !terminal && v.containers.length > 0 && v.containers.every((c) => c.ready);
  const notReady = v.containers.filter((c) => !c.ready).map((c) => c.name);
  const cond = (type: string, ok: boolean, reason?: string, message?: string): PodCondition => {
    const prev = previous.find((p) => p.type === type);
    const status = ok ? 'True' : 'False';
    const c: PodCondition = { type, status, lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : now };
    if (!ok && reason) c.reason = reason;
    if (!ok && message) c.message = message;
    return c;
  };
  const notReadyReason = terminal ? 'PodCompleted' : 'ContainersNotReady';
  const notReadyMsg = terminal ? undefined : `containers with unready status: [${notReady.join(' ')}]`;
  const conditions = [
    cond('PodScheduled', true),
    cond('Initialized', initDone || terminal, 'ContainersNotInitialized', 'containers with incomplete status: init'),
    cond('ContainersReady', containersReady, notReadyReason, notReadyMsg),
    cond('Ready', containersReady, notReadyReason, notReadyMsg),
  ];
  const doc: PodStatusDoc = { phase, conditions, startTime: v.startTime, containerStatuses: v.containers.map(containerStatusDoc) };
  if (v.initContainers.length > 0) doc.initContainerStatuses = v.initContainers.map(containerStatusDoc);
  if (v.podIP) { doc.podIP = v.podIP; doc.podIPs = [{ ip: v.podIP }]; }
  if (v.hostIP) { doc.hostIP = v.hostIP; doc.hostIPs = [{ ip: v.hostIP }]; }
  return doc;
}

/** Kubernetes' reason for a container that ended. */
export function terminatedReason(exitCode: number): string {
  return exitCode === 0 ? 'Completed' : 'Error';
}

/** Exit code as a shell would report it: 128 + signal number for signal deaths. */
export function exitCodeOf(code: number | null, signal: string | null): number {
  if (code !== null) return code;
  const signals: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15 };
  return 128 + (signal ? signals[signal] ?? 0 : 0);
}
