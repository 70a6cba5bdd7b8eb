// Finds the network namespace that holds a pod IP without asking the container runtime: every named
// namespace (/var/run/netns/*) and every process's namespace (/proc/<pid>/ns/net), deduplicated by
// device + inode, skipping ztunnel's own. A namespace without a name is given by the path of its *oldest*
// process: the sandbox holder (a pause container; the local cluster's `--pod-netns anonymous` holder), which
// lives exactly as long as the pod's network, whereas an app container may restart and free its pid. Membership is tested by binding a TCP socket to <ip>:0 inside
// the candidate (EADDRNOTAVAIL unless the address is local there), then closing it: no process per
// candidate. A namespace with net.ipv4.ip_nonlocal_bind=1 would answer yes for any IP; pods do not set it.
import { readdir, readFile, stat } from 'node:fs/promises';
import type { Server } from 'node:net';
import { isIP } from 'node:net';
import { listenTcp } from '../../shared/netsock/index.ts';
import { CaptureBadConfigError } from './errors.ts';
import { rememberProcPath } from './proc-path.ts';
import { startTimeOf } from '../../shared/procfs.ts';

export const NAMED_NETNS_DIR = '/var/run/netns';
/** The variable the local cluster's netns holder carries its pod's uid in (localcluster/network/holder.ts). */
export const POD_UID_ENV = 'LOCALCLUSTER_POD_UID';

/** What a namespace file is, across paths: the nsfs device and inode. */
function nsKey(s: { dev: number; ino: number }): string {
  return `${s.dev}:${s.ino}`;
}

async function keyOf(path: string): Promise<string | undefined> {
  try {
    return nsKey(await stat(path));
  } catch {
    return undefined; // gone meanwhile (process exited, namespace deleted) or not a namespace
  }
}

async function holds(path: string, ip: string): Promise<boolean> {
  let server: Server;
  try {
    server = await listenTcp({ netns: path, host: ip, port: 0 });
  } catch {
    return false; // EADDRNOTAVAIL: not here; ENOENT / EINVAL: the namespace went away meanwhile
  }
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return true;
}

/** One namespace: the path to test it by, and for one without a name, the processes inside it. */
interface Candidate { path: string; pids: number[] }

/** Candidate namespaces in preference order (named first), each namespace once, own excluded. */
async function candidates(): Promise<Candidate[]> {
  const byKey = new Map<string, Candidate | undefined>();
  const own = await keyOf('/proc/self/ns/net');
  if (own) byKey.set(own, undefined);
  const out: Candidate[] = [];
  const names = await readdir(NAMED_NETNS_DIR).catch(() => [] as string[]);
  for (const name of names.sort()) {
    const path = `${NAMED_NETNS_DIR}/${name}`;
    const key = await keyOf(path);
    if (key === undefined || byKey.has(key)) continue;
    byKey.set(key, undefined);
    out.push({ path, pids: [] });
  }
  const pids = (await readdir('/proc')).filter((d) => /^[0-9]+$/.test(d)).map(Number).sort((a, b) => a - b);
  for (const pid of pids) {
    const path = `/proc/${pid}/ns/net`;
    const key = await keyOf(path);
    if (key === undefined) continue;
    if (byKey.has(key)) {
      byKey.get(key)?.pids.push(pid); // named, own: no pids needed
      continue;
    }
    const c = { path, pids: [pid] };
    byKey.set(key, c);
    out.push(c);
  }
  return out;
}

/** The process started first among `pids` (undefined when all are gone). */
async function oldest(pids: number[]): Promise<number | undefined> {
  let best: { pid: number; start: number } | undefined;
  for (const pid of pids) {
    const start = startTimeOf(await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => ''));
    if (start !== undefined && (!best || start < best.start)) best = { pid, start };
  }
  return best?.pid;
}

/** Pod uids the processes carry in POD_UID_ENV (the local cluster's holder does). Pure. */
export function uidsInEnviron(environ: string): string[] {
  const prefix = `${POD_UID_ENV}=`;
  return environ.split('\0').filter((v) => v.startsWith(prefix)).map((v) => v.slice(prefix.length));
}

async function carriedUids(pids: number[]): Promise<string[]> {
  const out: string[] = [];
  for (const pid of pids) out.push(...uidsInEnviron(await readFile(`/proc/${pid}/environ`, 'latin1').catch(() => '')));
  return out;
}

/** Among several namespaces holding the IP, the one whose name carries the pod uid's short form (the local
 *  cluster names pod namespaces `<cluster>-pod-<first 8 alphanumerics of the uid>`), or, for one without a name,
 *  whose processes carry the uid (`carried`: path → uids from POD_UID_ENV). Pure. */
export function preferByUid(paths: string[], uid: string | undefined, carried: ReadonlyMap<string, readonly string[]> = new Map()): string | undefined {
  if (paths.length <= 1) return paths[0];
  if (!uid) return undefined;
  const short = uid.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 8);
  const named = paths.filter((p) => (p.startsWith(`${NAMED_NETNS_DIR}/`) && p.endsWith(`-${short}`)) || (carried.get(p) ?? []).includes(uid));
  return named.length === 1 ? named[0] : undefined;
}

/**
 * The path of the network namespace that has `ip` as a local address, or undefined. In one cluster pod IPs are
 * unique; several local clusters on one machine reuse the same ranges, so when more than one namespace holds the
 * IP the pod's uid picks (`preferByUid`).
 * Prefers /var/run/netns/<name>, which lives as long as the namespace. Otherwise /proc/<pid>/ns/net of the
 * namespace's oldest process (the sandbox holder), valid while that process lives: capture remembers the process
 * (proc-path.ts) and refuses the path with ZT_CAPTURE_NETNS_MISSING once the pid names another process; a caller
 * that keeps the path longer than the pod should call findPodNetns again then.
 */
export async function findPodNetns(ip: string, uid?: string): Promise<string | undefined> {
  if (isIP(ip) === 0) throw new CaptureBadConfigError(`pod IP ${JSON.stringify(ip)} is not an IP address`);
  // Every namespace with lo up has these: the first one found would be an arbitrary answer.
  if (/^(127\.|0\.0\.0\.0$|::1?$)/.test(ip)) {
    throw new CaptureBadConfigError(`pod IP ${ip} is a loopback or unspecified address; pass the pod's own IP`);
  }
  const found: string[] = [];
  const pidsOf = new Map<string, number[]>();
  for (const c of await candidates()) {
    if (!(await holds(c.path, ip))) continue;
    if (c.pids.length === 0) {
      found.push(c.path);
      continue;
    }
    const pid = await oldest(c.pids);
    if (pid === undefined) continue; // every process left: the namespace is going away
    const path = `/proc/${pid}/ns/net`;
    found.push(path);
    pidsOf.set(path, c.pids);
  }
  const carried = new Map<string, string[]>();
  if (found.length > 1 && uid) for (const [path, pids] of pidsOf) carried.set(path, await carriedUids(pids));
  const chosen = preferByUid(found, uid, carried);
  if (chosen) rememberProcPath(chosen);
  return chosen;
}
