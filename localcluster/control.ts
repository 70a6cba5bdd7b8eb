// The CLI side of the local cluster's life: start the daemon detached and wait until it is
// ready, stop it by its recorded pid, and clean up whatever a crashed run left behind.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MeshError } from '../shared/errors.ts';
import { repoRoot, type ClusterConfig, type ClusterPaths, type DaemonStatus } from './paths.ts';
import { cleanupFromRecord } from './network/index.ts';

export class ClusterError extends MeshError {}

const daemonScript = join(repoRoot, 'localcluster/daemon.ts');

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** The daemon's pid if a daemon of *this* cluster dir is alive (checked against its command line). */
export function runningDaemon(p: ClusterPaths): number | undefined {
  const pid = Number(readJson<number>(p.pidFile));
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmd.includes(daemonScript) && cmd.includes(p.dir) ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function readStatus(p: ClusterPaths): DaemonStatus | undefined {
  return readJson<DaemonStatus>(p.statusFile);
}

export function readConfig(p: ClusterPaths): ClusterConfig | undefined {
  return readJson<ClusterConfig>(p.config);
}

export interface UpOptions {
  nodes: number;
  /** Default 'named'. */
  podNetns?: 'named' | 'anonymous';
  timeoutMs?: number;
  progress?: (line: string) => void;
}

/** Start the cluster (idempotent: an already running one is just waited for). */
export async function up(p: ClusterPaths, o: UpOptions): Promise<DaemonStatus> {
  const progress = o.progress ?? (() => {});
  let pid = runningDaemon(p);
  if (pid) {
    const cfg = readConfig(p);
    if (cfg && cfg.nodes !== o.nodes) progress(`cluster already running with ${cfg.nodes} nodes; run meshctl down first to change the node count`);
    if (cfg && (cfg.podNetns ?? 'named') !== (o.podNetns ?? 'named')) {
      progress(`cluster already running with ${cfg.podNetns ?? 'named'} pod network namespaces; run meshctl down first to change it`);
    }
  } else {
    await cleanupFromRecord(p.dir); // leftovers of a crashed run
    mkdirSync(p.dir, { recursive: true });
    const old = readConfig(p);
    const cfg: ClusterConfig = {
      clusterId: old?.clusterId ?? `mc${randomBytes(2).toString('hex')}`, nodes: o.nodes,
      ...(o.podNetns && o.podNetns !== 'named' ? { podNetns: o.podNetns } : {}),
    };
    writeFileSync(p.config, JSON.stringify(cfg, null, 2));
    rmSync(p.statusFile, { force: true });
    const log = openSync(p.daemonLog, 'a');
    const child = spawn(process.execPath, [daemonScript, '--dir', p.dir], { detached: true, stdio: ['ignore', log, log], cwd: repoRoot });
    closeSync(log);
    pid = child.pid!;
    writeFileSync(p.pidFile, JSON.stringify(pid));
    child.unref();
  }
  return await waitReady(p, pid, o.timeoutMs ?? 180_000, progress);
}

async function waitReady(p: ClusterPaths, pid: number, timeoutMs: number, progress: (l: string) => void): Promise<DaemonStatus> {
  const deadline = Date.now() + timeoutMs;
  let lastPhase = '';
  while (Date.now() < deadline) {
    const st = readStatus(p);
    if (st && st.pid === pid) {
      if (st.phase !== lastPhase) progress((lastPhase = st.phase));
      if (st.error) throw new ClusterError('CLUSTER_START_FAILED', `the cluster failed to start: ${st.error}; see ${p.daemonLog}`);
      if (st.ready) return st;
    }
    if (!runningDaemon(p)) {
      throw new ClusterError('CLUSTER_START_FAILED', `the cluster daemon exited during start-up; see ${p.daemonLog}:\n${tail(p.daemonLog, 15)}`);
    }
    await sleep(200);
  }
  throw new ClusterError('CLUSTER_START_TIMEOUT', `the cluster was not ready after ${timeoutMs / 1000}s (last phase: ${lastPhase || 'none'}); see ${p.daemonLog}`);
}

function tail(path: string, n: number): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

/** Stop the daemon (SIGTERM, then SIGKILL after a grace period) and remove everything the cluster made. */
export async function down(p: ClusterPaths, progress: (l: string) => void = () => {}): Promise<void> {
  const pid = runningDaemon(p);
  if (pid) {
    progress(`stopping the cluster daemon (pid ${pid})`);
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 20_000;
    while (runningDaemon(p) && Date.now() < deadline) await sleep(100);
    if (runningDaemon(p)) {
      progress('the daemon did not stop in 20s; killing it');
      process.kill(pid, 'SIGKILL');
      while (runningDaemon(p)) await sleep(50);
    }
  }
  const removed = await cleanupFromRecord(p.dir);
  if (removed) progress(removed);
  if (existsSync(p.dir)) rmSync(p.dir, { recursive: true, force: true });
}
