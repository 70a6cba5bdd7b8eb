// Anonymous pod network namespaces (`meshctl up --pod-netns anonymous`), as a container runtime's pause container
// holds them: a small holder process (`sleep infinity`) is started inside the named pod netns, then the name is
// removed (`ip netns delete` only unmounts it), so the namespace lives exactly as long as the holder. Everything
// else enters it through `/proc/<holder pid>/ns/net`. A holder is identified by pid *and* start time (field 22 of
// /proc/<pid>/stat), so a reused pid is never mistaken for it. Processes inside an anonymous netns are found by
// comparing namespace inodes, as `ip netns pids` does for named ones.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { processStartTime, statField } from '../../shared/procfs.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { netErr } from './errors.ts';

export type PodNetnsMode = 'named' | 'anonymous';
export const POD_NETNS_MODES: readonly PodNetnsMode[] = ['named', 'anonymous'];

/** The environment variable that carries the pod uid in the holder, so a reader of /proc (ztunnel) can tell the
 *  namespaces of several clusters apart when they reuse the same pod IPs. */
export const HOLDER_UID_ENV = 'LOCALCLUSTER_POD_UID';

export interface Holder {
  pid: number;
  /** Start time in clock ticks since boot (/proc/<pid>/stat field 22). */
  start: number;
}

/** The path other processes enter the netns by. */
export function holderNetnsPath(h: Pick<Holder, 'pid'>): string {
  return `/proc/${h.pid}/ns/net`;
}

/** argv of the holder: enters the named netns and sleeps until killed. Pure. */
export function holderArgv(netnsName: string): string[] {
  return ['nsenter', `--net=/var/run/netns/${netnsName}`, '--', 'sleep', 'infinity'];
}

/** Whether the holder still runs (same pid, same start time). */
export function holderAlive(h: Holder): boolean {
  return processStartTime(h.pid) === h.start;
}

/** `<dev>:<ino>` of a namespace file: what identifies a namespace across paths. */
export function netnsKey(path: string): string | undefined {
  try {
    const s = statSync(path);
    return `${s.dev}:${s.ino}`;
  } catch {
    return undefined;
  }
}

/** Pids (other than 1 and our own) whose network namespace is the one with `key`. */
export function pidsInNetns(key: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const pid = Number(d);
    if (pid <= 1 || pid === process.pid) continue;
    if (netnsKey(`/proc/${d}/ns/net`) === key) out.push(pid);
  }
  return out;
}

/**
 * Start the holder inside the named netns and wait until it is in there (nsenter has entered and exec'd sleep).
 * Detached, so it outlives a crashed daemon (the creation record finds it then).
 */
export async function startHolder(netnsName: string, uid: string): Promise<Holder> {
  const want = netnsKey(`/var/run/netns/${netnsName}`);
  if (!want) throw netErr.missing(netnsName);
  const argv = holderArgv(netnsName);
  const child = spawn(argv[0]!, argv.slice(1), {
    detached: true, stdio: 'ignore', env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', [HOLDER_UID_ENV]: uid },
  });
  const failed = new Promise<Error>((resolve) => child.once('error', resolve));
  const exited = new Promise<string>((resolve) => child.once('exit', (code, sig) => resolve(`exit ${code ?? sig}`)));
  child.unref();
  const pid = child.pid;
  const deadline = Date.now() + 5000;
  while (pid !== undefined && Date.now() < deadline) {
    // the netns matches once nsenter has entered; the comm is sleep once it has exec'd (so the pid is final)
    if (netnsKey(`/proc/${pid}/ns/net`) === want && readComm(pid) === 'sleep') {
      const start = processStartTime(pid);
      if (start !== undefined) return { pid, start };
    }
    const r = await Promise.race([failed.then((e) => e.message), exited, sleep(2).then(() => undefined)]);
    if (r !== undefined) throw netErr.command(argv.join(' '), r);
  }
  if (pid !== undefined) killPid(pid);
  throw netErr.command(argv.join(' '), 'the holder did not enter the namespace within 5 s');
}

function readComm(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function killPid(target: number): void {
  try {
    process.kill(target, 'SIGKILL');
  } catch {}
}

function processGroup(pid: number): number | undefined {
  try {
    return statField(readFileSync(`/proc/${pid}/stat`, 'utf8'), 5); // pgrp
  } catch {
    return undefined;
  }
}

/**
 * SIGKILL everything inside the holder's netns (and the process group of each group leader: a container), then
 * the holder; the netns goes with its last process (unless a socket still holds it: ztunnel's, until it releases
 * the pod). Nothing happens when the holder is gone, its pid now belongs to another process, or it is not in a
 * namespace of its own. Returns the pids signalled.
 */
export async function killHolder(h: Holder): Promise<number[]> {
  if (!holderAlive(h) || readComm(h.pid) !== 'sleep') return [];
  const key = netnsKey(holderNetnsPath(h));
  if (!key || !holderAlive(h)) return [];
  // never the namespace we or init live in: that would be every process of the machine
  if (key === netnsKey('/proc/self/ns/net') || key === netnsKey('/proc/1/ns/net')) return [];
  const own = processGroup(process.pid);
  const killed = new Set<number>();
  for (let attempt = 0; attempt < 40; attempt++) {
    const pids = pidsInNetns(key);
    if (pids.length === 0) break;
    for (const pid of pids) {
      const pgid = processGroup(pid);
      if (pgid === pid && pgid !== own && pgid > 1) killPid(-pgid);
      killPid(pid);
      killed.add(pid);
    }
    await sleep(25);
  }
  return [...killed];
}
