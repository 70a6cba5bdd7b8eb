// A namespace found only through a process (/proc/<pid>/ns/net) is named by that pid, and pids are reused: once
// the process exits, the same path may lead into another process's namespace. findPodNetns remembers the start
// time of the process each such path named (field 22 of /proc/<pid>/stat), and ensureNetns refuses a path whose
// pid now belongs to a different process, so capture never writes or removes rules in a stranger's namespace.
import { readFileSync } from 'node:fs';

const PROC_NS = /^\/proc\/([0-9]+)\/ns\/net$/;

/** path → start time of the process it named when found. Entries of exited processes are pruned on each find. */
const started = new Map<string, number>();

/** Field 22 of a /proc/<pid>/stat line (start time, clock ticks since boot); the command may hold spaces. Pure. */
export function startTimeOf(stat: string): number | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const v = Number(stat.slice(close + 2).split(' ')[19]);
  return Number.isInteger(v) && v >= 0 ? v : undefined;
}

/** The pid a /proc/<pid>/ns/net path names, or undefined for any other path. Pure. */
export function procPathPid(path: string): number | undefined {
  const m = PROC_NS.exec(path);
  return m ? Number(m[1]) : undefined;
}

export function processStart(pid: number): number | undefined {
  try {
    return startTimeOf(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Remember which process a /proc path names now (no-op for other paths); forget exited ones. */
export function rememberProcPath(path: string): void {
  for (const [p, start] of started) {
    if (processStart(procPathPid(p)!) !== start) started.delete(p);
  }
  const pid = procPathPid(path);
  if (pid === undefined) return;
  const start = processStart(pid);
  if (start !== undefined) started.set(path, start);
}

/** False when `path` is a /proc path remembered for a process that is gone (its pid exited or was reused). */
export function procPathCurrent(path: string): boolean {
  const want = started.get(path);
  if (want === undefined) return true;
  return processStart(procPathPid(path)!) === want;
}
