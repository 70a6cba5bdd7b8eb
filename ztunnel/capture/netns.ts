// Finds the network namespace that holds a pod IP without asking the container runtime: every named
// namespace (/var/run/netns/*) and every process's namespace (/proc/<pid>/ns/net), deduplicated by
// device + inode, skipping ztunnel's own. Membership is tested by binding a TCP socket to <ip>:0 inside
// the candidate (EADDRNOTAVAIL unless the address is local there), then closing it: no process per
// candidate. A namespace with net.ipv4.ip_nonlocal_bind=1 would answer yes for any IP; pods do not set it.
import { readdir, stat } from 'node:fs/promises';
import type { Server } from 'node:net';
import { isIP } from 'node:net';
import { listenTcp } from '../../shared/netsock/index.ts';
import { CaptureBadConfigError } from './errors.ts';

export const NAMED_NETNS_DIR = '/var/run/netns';

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

/** Candidate namespace paths in preference order (named first), each namespace once, own excluded. */
async function candidates(): Promise<string[]> {
  const seen = new Set<string>();
  const own = await keyOf('/proc/self/ns/net');
  if (own) seen.add(own);
  const out: string[] = [];
  const add = async (path: string): Promise<void> => {
    const key = await keyOf(path);
    if (key === undefined || seen.has(key)) return;
    seen.add(key);
    out.push(path);
  };
  const names = await readdir(NAMED_NETNS_DIR).catch(() => [] as string[]);
  for (const name of names.sort()) await add(`${NAMED_NETNS_DIR}/${name}`);
  const pids = (await readdir('/proc')).filter((d) => /^[0-9]+$/.test(d)).sort((a, b) => Number(a) - Number(b));
  for (const pid of pids) await add(`/proc/${pid}/ns/net`);
  return out;
}

/**
 * The path of the network namespace that has `ip` as a local address, or undefined.
 * Prefers /var/run/netns/<name>, which lives as long as the namespace. A /proc/<pid>/ns/net path is only
 * valid while that process lives (the namespace may outlive it, held by other processes): a caller that
 * keeps it should open it and hold the fd, or call findPodNetns again when the path stops working.
 */
/** Among several namespaces holding the IP, the one whose name carries the pod uid's short form (the local
 *  cluster names pod namespaces `<cluster>-pod-<first 8 alphanumerics of the uid>`). Pure. */
export function preferByUid(paths: string[], uid: string | undefined): string | undefined {
  if (paths.length <= 1) return paths[0];
  if (!uid) return undefined;
  const short = uid.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 8);
  const named = paths.filter((p) => p.startsWith(`${NAMED_NETNS_DIR}/`) && p.endsWith(`-${short}`));
  return named.length === 1 ? named[0] : undefined;
}

/** The namespace holding a pod IP. In one cluster pod IPs are unique; several local clusters on one machine reuse
 *  the same ranges, so when more than one namespace holds the IP the pod's uid picks (`preferByUid`). */
export async function findPodNetns(ip: string, uid?: string): Promise<string | undefined> {
  if (isIP(ip) === 0) throw new CaptureBadConfigError(`pod IP ${JSON.stringify(ip)} is not an IP address`);
  // Every namespace with lo up has these: the first one found would be an arbitrary answer.
  if (/^(127\.|0\.0\.0\.0$|::1?$)/.test(ip)) {
    throw new CaptureBadConfigError(`pod IP ${ip} is a loopback or unspecified address; pass the pod's own IP`);
  }
  const found: string[] = [];
  for (const path of await candidates()) {
    if (await holds(path, ip)) found.push(path);
  }
  return preferByUid(found, uid);
}
