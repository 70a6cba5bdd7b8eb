// Kubernetes' AtomicWriter layout for file-backed volumes, so a reader never sees half an update:
// files live in a timestamped `..<ts>` directory, `..data` is a symlink to it (swapped with one rename), and each
// top-level entry is a symlink `name → ..data/name`. A container bind-mounts the volume directory and follows
// the symlinks inside it, so updates show through the mount (subPath mounts pin one version, as in Kubernetes).
import { chmodSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { RenderedFile } from './volume-plan.ts';

const DATA = '..data';

/** The files currently published in `dir` (relative path → content and mode); empty when none. */
export function readPublished(dir: string): Map<string, RenderedFile> {
  const out = new Map<string, RenderedFile>();
  let root: string;
  try { root = join(dir, readlinkSync(join(dir, DATA))); } catch { return out; }
  const walk = (rel: string): void => {
    for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else out.set(r, { content: readFileSync(join(root, r)), mode: statSync(join(root, r)).mode & 0o777 });
    }
  };
  walk('');
  return out;
}

export function sameFiles(a: Map<string, RenderedFile>, b: Map<string, RenderedFile>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const o = b.get(k);
    if (!o || o.mode !== v.mode || !o.content.equals(v.content)) return false;
  }
  return true;
}

/** Publish `files` in `dir` atomically; returns false (and writes nothing) when they are already published. */
export function writeAtomic(dir: string, files: Map<string, RenderedFile>): boolean {
  mkdirSync(dir, { recursive: true });
  if (sameFiles(readPublished(dir), files) && existsLink(join(dir, DATA))) return false;
  const ts = `..${new Date().toISOString().replace(/[:.]/g, '_')}.${randomBytes(4).toString('hex')}`;
  const tsDir = join(dir, ts);
  mkdirSync(tsDir, { mode: 0o755 });
  for (const [rel, f] of files) {
    const p = join(tsDir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, f.content, { mode: f.mode });
    chmodSync(p, f.mode); // the umask may have narrowed it
  }
  let old: string | undefined;
  try { old = readlinkSync(join(dir, DATA)); } catch {}
  const tmp = join(dir, '..data_tmp');
  rmSync(tmp, { force: true });
  symlinkSync(ts, tmp);
  renameSync(tmp, join(dir, DATA));
  const top = new Set([...files.keys()].map((k) => k.split('/')[0]!));
  for (const name of top) {
    const link = join(dir, name);
    if (!existsLink(link)) symlinkSync(`${DATA}/${name}`, link);
  }
  for (const name of readdirSync(dir)) {
    if (name.startsWith('..') || top.has(name)) continue;
    // only our own links: anything else is a mountpoint a container made for a nested mount (unlinking it
    // would detach that mount in the container's namespace)
    if (lstatSync(join(dir, name)).isSymbolicLink()) rmSync(join(dir, name), { force: true }); // entries the new version no longer has
  }
  if (old && old !== ts) rmSync(join(dir, old), { recursive: true, force: true });
  return true;
}

function existsLink(p: string): boolean {
  try { lstatSync(p); return true; } catch { return false; }
}
