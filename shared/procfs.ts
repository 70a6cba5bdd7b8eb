// Process identity from /proc: a pid is reused once its process exits, so a process is named by pid *and* start
// time (field 22 of /proc/<pid>/stat, clock ticks since boot). Used by the local cluster (namespace holders) and
// ztunnel (namespaces found through /proc/<pid>/ns/net).
import { readFileSync } from 'node:fs';

/** Numeric field `n` (1-based, n ≥ 3) of a /proc/<pid>/stat line; the command (field 2) may hold spaces and
 *  parentheses, so fields are counted after its last `)`. Pure. */
export function statField(stat: string, n: number): number | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const v = Number(stat.slice(close + 2).split(' ')[n - 3]);
  return Number.isInteger(v) && v >= 0 ? v : undefined;
}

/** Field 22 (starttime) of a /proc/<pid>/stat line. Pure. */
export function startTimeOf(stat: string): number | undefined {
  return statField(stat, 22);
}

/** Start time of process `pid`, or undefined when it does not exist (any more). */
export function processStartTime(pid: number): number | undefined {
  try {
    return startTimeOf(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}
