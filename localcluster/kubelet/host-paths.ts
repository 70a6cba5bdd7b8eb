// Host mountpoints: a bind mount needs its target to exist, and containers share the host filesystem, so a
// mountPath the host lacks (say /var/run/secrets/kubernetes.io/serviceaccount) is created on the host. Every
// directory or file made is appended to the cluster's creation record first, so `meshctl down` and crash
// cleanup remove it again (only if still empty and mounted nowhere). hostPath DirectoryOrCreate/FileOrCreate
// use the same path.
import { existsSync, mkdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { recordCreation, type RecordEntry } from '../network/record.ts';

export type Recorder = (entry: Extract<RecordEntry, { kind: 'host-path' }>) => void;

export const recorderFor = (stateDir: string): Recorder => (e) => recordCreation(stateDir, e);

/**
 * Make `target` exist as a directory (or an empty file), creating missing parents; returns the paths created.
 * Existing paths are left alone (whatever type they are: the mount reports a mismatch itself).
 */
export function ensureHostPath(target: string, type: 'dir' | 'file', record: Recorder): string[] {
  if (existsSync(target)) return [];
  const missing: string[] = [];
  let p = posix.normalize(target);
  while (!existsSync(p)) {
    missing.unshift(posix.basename(p));
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  // record the real path: /var/run → /run, so cleanup compares with mountinfo and never follows a symlink later
  let at = realpathSync(p);
  const created: string[] = [];
  missing.forEach((name, i) => {
    at = join(at, name);
    const kind = i === missing.length - 1 ? type : 'dir';
    record({ kind: 'host-path', path: at, type: kind });
    try {
      if (kind === 'dir') mkdirSync(at, { mode: 0o755 });
      else writeFileSync(at, '', { flag: 'wx', mode: 0o644 });
      created.push(at);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // raced with another pod: fine
    }
  });
  return created;
}

/** Whether `p` is a directory (false for files, sockets …, and for missing paths). */
export function isDirectory(p: string): boolean {
  try { return statSync(p).isDirectory(); } catch { return false; }
}
