// A namespace found only through a process (/proc/<pid>/ns/net) is named by that pid, and pids are reused: once
// the process exits, the same path may lead into another process's namespace. findPodNetns remembers the start
// time of the process each such path named (field 22 of /proc/<pid>/stat), and ensureNetns refuses a path whose
// pid now belongs to a different process, so capture never writes or removes rules in a stranger's namespace.
import { processStartTime } from '../../shared/procfs.ts';

const PROC_NS = /^\/proc\/([0-9]+)\/ns\/net$/;

/** path → start time of the process it named when found. Entries of exited processes are pruned on each find. */
const started = new Map<string, number>();

/** The pid a /proc/<pid>/ns/net path names, or undefined for any other path. Pure. */
export function procPathPid(path: string): number | undefined {
  const m = PROC_NS.exec(path);
  return m ? Number(m[1]) : undefined;
}

/** Remember which process a /proc path names now (no-op for other paths); forget exited ones. */
export function rememberProcPath(path: string): void {
  for (const [p, start] of started) {
    if (processStartTime(procPathPid(p)!) !== start) started.delete(p);
  }
  const pid = procPathPid(path);
  if (pid === undefined) return;
  const start = processStartTime(pid);
  if (start !== undefined) started.set(path, start);
}

/** False when `path` is a /proc path remembered for a process that is gone (its pid exited or was reused). */
export function procPathCurrent(path: string): boolean {
  const want = started.get(path);
  if (want === undefined) return true;
  return processStartTime(procPathPid(path)!) === want;
}
