// Pure probe state machine (Kubernetes semantics): a probe's result flips only after
// successThreshold consecutive successes or failureThreshold consecutive failures.
import type { V1Probe } from '@kubernetes/client-node';

export interface ProbeTiming {
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  successThreshold: number;
  failureThreshold: number;
}

export function probeTiming(p: V1Probe): ProbeTiming {
  return {
    initialDelayMs: (p.initialDelaySeconds ?? 0) * 1000,
    periodMs: Math.max(1, p.periodSeconds ?? 10) * 1000,
    timeoutMs: Math.max(1, p.timeoutSeconds ?? 1) * 1000,
    successThreshold: Math.max(1, p.successThreshold ?? 1),
    failureThreshold: Math.max(1, p.failureThreshold ?? 3),
  };
}

export interface ProbeState {
  /** Current verdict: readiness → ready; liveness → alive. */
  ok: boolean;
  successes: number;
  failures: number;
}

/** Readiness starts not ready; liveness starts alive. */
export const initialProbeState = (kind: 'readiness' | 'liveness'): ProbeState => ({ ok: kind === 'liveness', successes: 0, failures: 0 });

export function probeStep(state: ProbeState, success: boolean, t: Pick<ProbeTiming, 'successThreshold' | 'failureThreshold'>): ProbeState {
  if (success) {
    const successes = state.successes + 1;
    return { ok: state.ok || successes >= t.successThreshold, successes, failures: 0 };
  }
  const failures = state.failures + 1;
  return { ok: state.ok && failures < t.failureThreshold, successes: 0, failures };
}

/** An HTTP probe succeeds on 200–399. */
export const httpProbeSucceeded = (status: number): boolean => status >= 200 && status < 400;

/** Resolve a probe port (number or container port name). */
export function resolvePort(port: number | string | undefined, containerPorts: Array<{ name?: string; containerPort: number }>): number | undefined {
  if (typeof port === 'number') return port;
  if (port === undefined) return undefined;
  if (/^\d+$/.test(port)) return Number(port);
  return containerPorts.find((p) => p.name === port)?.containerPort;
}
