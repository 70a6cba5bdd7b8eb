// Pure restart decisions. Local clusters favour fast feedback, so crash-loop backoff starts at 1 s
// and caps at 30 s (Kubernetes: 10 s doubling to 5 min); it resets after a run of 60 s
// (Kubernetes: 10 min).
export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

export const backoffStartMs = 1000;
export const backoffCapMs = 30_000;
export const backoffResetAfterMs = 60_000;

export function shouldRestart(policy: string | undefined, exitCode: number | null): boolean {
  switch (policy ?? 'Always') {
    case 'Never': return false;
    case 'OnFailure': return exitCode !== 0;
    default: return true;
  }
}

/** Delay before the next start, given how many consecutive quick crashes preceded it (0 = first). */
export function restartDelayMs(consecutiveCrashes: number): number {
  if (consecutiveCrashes <= 0) return backoffStartMs;
  return Math.min(backoffCapMs, backoffStartMs * 2 ** Math.min(consecutiveCrashes, 30));
}

/** Consecutive-crash counter after a run that lasted `ranMs`. */
export function nextCrashCount(previous: number, ranMs: number): number {
  return ranMs >= backoffResetAfterMs ? 0 : previous + 1;
}
