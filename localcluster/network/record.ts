// The crash-safe creation record, `<stateDir>/created.jsonl`: one JSON line is appended *before* the cluster
// creates a network namespace or an /etc/netns directory, so `cleanupFromRecord` can undo everything even after a
// `kill -9` of the daemon. Cleanup kills only processes found inside recorded namespaces (never by name); an
// anonymous pod netns (holder.ts) is found through its recorded holder (pid + start time).
// The kubelet also records host paths it creates as mountpoints (`host-path`); those are removed only when
// still empty and not a mountpoint in any mount namespace (another cluster's container may be using one).
import { appendFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from './exec.ts';
import { netErr } from './errors.ts';
import { removeRootGuard } from './root-guard.ts';
import { killHolder } from './holder.ts';

export type RecordEntry =
  | { kind: 'netns'; name: string }
  /** The directory /etc/netns/<name> (resolv.conf and hosts that `ip netns exec` bind-mounts). */
  | { kind: 'etc-netns'; name: string }
  /** An nftables table (family inet) in the root namespace: the guard of root-guard.ts. */
  | { kind: 'root-nft-table'; name: string }
  /** A directory or empty file the kubelet created on the host as a mountpoint (absolute, normalised path). */
  | { kind: 'host-path'; path: string; type: 'dir' | 'file' }
  /** The holder process of an anonymous pod netns (holder.ts), recorded once it runs and before the netns loses its
   *  name; pid + start time (/proc/<pid>/stat field 22), so a reused pid is never killed. */
  | { kind: 'holder'; pid: number; start: number; netns: string };

export const RECORD_FILE = 'created.jsonl';
const NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

export function etcNetnsDir(name: string): string {
  return `/etc/netns/${name}`;
}

export function netnsExists(name: string): boolean {
  return existsSync(`/run/netns/${name}`);
}

/** An absolute, normalised path that is not `/` and holds no `..` (so cleanup can never be steered elsewhere). */
export function safeHostPath(p: unknown): p is string {
  return typeof p === 'string' && p.length > 1 && p.length < 4096 && p.startsWith('/') && posix.normalize(p) === p
    && !p.endsWith('/') && !p.split('/').includes('..') && !p.includes('\0');
}

function validEntry(e: RecordEntry): boolean {
  if (e.kind === 'host-path') return safeHostPath(e.path) && (e.type === 'dir' || e.type === 'file');
  if (e.kind === 'holder') {
    return Number.isInteger(e.pid) && e.pid > 1 && Number.isInteger(e.start) && e.start >= 0 && typeof e.netns === 'string' && NAME.test(e.netns);
  }
  return (e.kind === 'netns' || e.kind === 'etc-netns' || e.kind === 'root-nft-table') && typeof e.name === 'string' && NAME.test(e.name);
}

/** Append one entry; call before creating the thing it names. */
export function recordCreation(stateDir: string, entry: RecordEntry): void {
  if (!validEntry(entry)) throw netErr.badConfig(`refusing to record unsafe entry ${JSON.stringify(entry)}`);
  mkdirSync(stateDir, { recursive: true });
  appendFileSync(join(stateDir, RECORD_FILE), JSON.stringify(entry) + '\n');
}

/** Entries in creation order; a torn last line (crash mid-write) and unknown or unsafe lines are skipped. */
export function readRecord(stateDir: string): RecordEntry[] {
  let text: string;
  try {
    text = readFileSync(join(stateDir, RECORD_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: RecordEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as RecordEntry;
      if (e && typeof e === 'object' && validEntry(e)) out.push(e);
    } catch {}
  }
  return out;
}

/** Pids inside a netns (`ip netns pids`); empty when the netns is gone. */
export async function netnsPids(name: string): Promise<number[]> {
  if (!netnsExists(name)) return [];
  try {
    const { stdout } = await run('ip', ['netns', 'pids', name]);
    return stdout.split(/\s+/).filter(Boolean).map(Number).filter((n) => Number.isInteger(n) && n > 1);
  } catch {
    return [];
  }
}

function processGroup(pid: number | 'self'): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the parenthesised command: state ppid pgrp ...
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pgrp = Number(rest[2]);
    return Number.isInteger(pgrp) ? pgrp : undefined;
  } catch {
    return undefined;
  }
}

function signal(target: number): void {
  try {
    process.kill(target, 'SIGKILL');
  } catch {}
}

/**
 * SIGKILL every process inside `name`, and the process group of each one that leads its group (a container
 * started detached with `ip netns exec`), never our own group. Repeats until the netns is empty (bounded).
 * Returns the pids it signalled.
 */
export async function killNetnsProcesses(name: string): Promise<number[]> {
  const own = processGroup('self');
  const killed = new Set<number>();
  for (let attempt = 0; attempt < 40; attempt++) {
    const pids = (await netnsPids(name)).filter((p) => p !== process.pid);
    if (pids.length === 0) break;
    for (const pid of pids) {
      const pgid = processGroup(pid);
      if (pgid === pid && pgid !== own && pgid > 1) signal(-pgid);
      signal(pid);
      killed.add(pid);
    }
    await sleep(25);
  }
  return [...killed];
}

/** Delete a netns (its veths and nftables tables go with it); a missing netns is fine. */
export async function deleteNetns(name: string): Promise<boolean> {
  if (!netnsExists(name)) return false;
  try {
    await run('ip', ['netns', 'del', name]);
  } catch (err) {
    if (netnsExists(name)) throw err;
  }
  return true;
}

export interface CleanupReport {
  killed: number[]; deletedNetns: string[]; removedDirs: string[]; removedTables: string[];
  /** Kubelet mountpoints removed from the host; present only when the record named some. */
  removedHostPaths?: string[];
}

/** Every mount point in every mount namespace on the machine (one mountinfo read per namespace). */
export function mountPointsEverywhere(): Set<string> {
  const seen = new Set<string>();
  const out = new Set<string>();
  let pids: string[];
  try { pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d)); } catch { return out; }
  for (const pid of pids) {
    let ns: string;
    try { ns = readlinkSync(`/proc/${pid}/ns/mnt`); } catch { continue; }
    if (seen.has(ns)) continue;
    seen.add(ns);
    let text: string;
    try { text = readFileSync(`/proc/${pid}/mountinfo`, 'utf8'); } catch { continue; }
    for (const line of text.split('\n')) {
      const field = line.split(' ')[4];
      if (field) out.add(field.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))));
    }
  }
  return out;
}

/** Remove a recorded host path if it is still what we made: an empty dir or empty file, mounted nowhere. */
export function removeHostPath(e: { path: string; type: 'dir' | 'file' }, mounted: Set<string>): boolean {
  let st;
  try { st = lstatSync(e.path); } catch { return false; }
  let real = e.path;
  try { real = realpathSync(e.path); } catch {}
  if (mounted.has(real) || mounted.has(e.path)) return false;
  try {
    if (e.type === 'dir' && st.isDirectory()) { rmdirSync(e.path); return true; }
    if (e.type === 'file' && st.isFile() && st.size === 0) { unlinkSync(e.path); return true; }
  } catch { /* not empty, busy, or gone: leave it */ }
  return false;
}

/**
 * Undo everything the record names, newest first: kill processes in each existing netns, delete the netns,
 * remove the /etc/netns directories, then truncate the record. Idempotent; safe when nothing exists.
 */
export async function cleanupFromRecordDetailed(stateDir: string): Promise<CleanupReport> {
  const entries = readRecord(stateDir).reverse();
  const netns = [...new Set(entries.filter((e) => e.kind === 'netns').map((e) => e.name))];
  const dirs = [...new Set(entries.filter((e) => e.kind === 'etc-netns').map((e) => e.name))];
  const tables = [...new Set(entries.filter((e) => e.kind === 'root-nft-table').map((e) => e.name))];
  const hostPaths = entries.filter((e): e is Extract<RecordEntry, { kind: 'host-path' }> => e.kind === 'host-path');
  const holders = entries.filter((e): e is Extract<RecordEntry, { kind: 'holder' }> => e.kind === 'holder');
  const report: CleanupReport = { killed: [], deletedNetns: [], removedDirs: [], removedTables: [] };
  // kill everywhere first, so nothing restarts work in a namespace we are about to delete; anonymous pod netns
  // (no name left to find them by) through their holders, which end them
  for (const batch of chunks(holders, 16)) {
    for (const pids of await Promise.all(batch.map(killHolder))) report.killed.push(...pids);
  }
  for (const batch of chunks(netns, 16)) {
    for (const pids of await Promise.all(batch.map(killNetnsProcesses))) report.killed.push(...pids);
  }
  for (const batch of chunks(netns, 16)) {
    const deleted = await Promise.all(batch.map(deleteNetns));
    batch.forEach((n, i) => { if (deleted[i]) report.deletedNetns.push(n); });
  }
  for (const name of dirs) {
    const dir = etcNetnsDir(name);
    if (existsSync(dir)) {
      rmSync(dir, { recursive: true, force: true });
      report.removedDirs.push(dir);
    }
  }
  // after the namespaces are gone (their mounts with them); newest first, so children go before parents
  if (hostPaths.length > 0) {
    const mounted = mountPointsEverywhere();
    const done = new Set<string>();
    report.removedHostPaths = [];
    for (const e of hostPaths) {
      if (done.has(e.path)) continue;
      done.add(e.path);
      if (removeHostPath(e, mounted)) report.removedHostPaths.push(e.path);
    }
  }
  // the guard goes last: it protects the root namespace until every cluster address is gone
  for (const name of tables) if (await removeRootGuard(name)) report.removedTables.push(name);
  if (existsSync(join(stateDir, RECORD_FILE))) writeFileSync(join(stateDir, RECORD_FILE), '');
  return report;
}

function chunks<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/** `cleanupFromRecordDetailed`, summarised as one line for the CLI ('' when there was nothing to clean). */
export async function cleanupFromRecord(stateDir: string): Promise<string> {
  const r = await cleanupFromRecordDetailed(stateDir);
  const parts: string[] = [];
  if (r.killed.length) parts.push(`killed ${r.killed.length} process(es)`);
  if (r.deletedNetns.length) parts.push(`deleted ${r.deletedNetns.length} network namespace(s)`);
  if (r.removedDirs.length) parts.push(`removed ${r.removedDirs.length} /etc/netns dir(s)`);
  if (r.removedHostPaths?.length) parts.push(`removed ${r.removedHostPaths.length} kubelet mountpoint(s)`);
  if (r.removedTables.length) parts.push(`removed the root-namespace guard`);
  return parts.join(', ');
}
