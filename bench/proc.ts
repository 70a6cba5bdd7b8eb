// What the benchmarks read from /proc about a process they measure: CPU time and memory.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { statField } from '../shared/procfs.ts';

export const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** utime + stime (fields 14 and 15 of /proc/<pid>/stat) in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return ((statField(stat, 14) ?? NaN) + (statField(stat, 15) ?? NaN)) / CLK_TCK;
}

/**
 * Memory in MB from /proc/<pid>/status: VmRSS and its peak, and RSS split into anonymous pages (the process's own:
 * heap, stacks, buffers) and file pages (for a Node process mostly the node binary's code and data, shared by every
 * process running it and reclaimable).
 */
export interface Memory { rss: number; hwm: number; anon: number; file: number }

export function memoryMb(pid: number): Memory {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? NaN) / 1024;
  return { rss: mb('VmRSS'), hwm: mb('VmHWM'), anon: mb('RssAnon'), file: mb('RssFile') };
}
