// Pure: a container's bind mounts (volumeMounts resolved to host sources, subPath and readOnly honoured) and
// the argv that performs them. Containers share the host filesystem; `ip netns exec` gives each a private
// (slave) mount namespace, so a small sh shim bind-mounts the volumes there and then execs the command: the
// mounts never appear on the host. Targets not below another mount need a host mountpoint (see host-paths.ts).
import { posix } from 'node:path';
import type { V1Container } from '@kubernetes/client-node';
import { expandVars } from './command.ts';
import type { VolumePlan } from './volume-plan.ts';

export interface Bind {
  /** Host path bind-mounted (a volume directory, a file or directory inside it, or a hostPath). */
  source: string;
  /** Absolute, normalised path the container sees. */
  target: string;
  readOnly: boolean;
}

export type MountPlanResult = { ok: true; binds: Bind[] } | { ok: false; message: string };

const isSafeRel = (p: string): boolean => !p.startsWith('/') && !p.split('/').includes('..');

/**
 * Resolve `container.volumeMounts` against the pod's volumes. `volumeDir` maps a volume to its host directory.
 * Parents are ordered before children so a nested mountPath lands inside the volume mounted above it.
 */
export function planMounts(container: Pick<V1Container, 'name' | 'volumeMounts'>, volumes: VolumePlan[], volumeDir: (v: VolumePlan) => string, env: Record<string, string> = {}): MountPlanResult {
  const byName = new Map(volumes.map((v) => [v.name, v]));
  const binds: Bind[] = [];
  const seen = new Set<string>();
  for (const m of container.volumeMounts ?? []) {
    const v = byName.get(m.name);
    const where = `volumeMount ${m.name} of container ${container.name}`;
    if (!v) return { ok: false, message: `${where}: the pod has no volume ${m.name}` };
    if (!m.mountPath?.startsWith('/') || m.mountPath.split('/').includes('..')) return { ok: false, message: `${where}: mountPath ${JSON.stringify(m.mountPath)} must be absolute without ..` };
    const target = posix.normalize(m.mountPath).replace(/(.)\/+$/, '$1');
    if (target === '/') return { ok: false, message: `${where}: cannot mount over /` };
    if (seen.has(target)) return { ok: false, message: `${where}: mountPath ${target} is used twice` };
    seen.add(target);
    const sub = m.subPathExpr !== undefined ? expandVars(m.subPathExpr, env) : (m.subPath ?? '');
    if (!isSafeRel(sub)) return { ok: false, message: `${where}: subPath ${JSON.stringify(sub)} must be relative without ..` };
    const base = volumeDir(v);
    binds.push({ source: sub ? posix.join(base, sub) : base, target, readOnly: m.readOnly === true });
  }
  const depth = (p: string): number => p.split('/').length;
  binds.sort((a, b) => depth(a.target) - depth(b.target)); // stable: same depth keeps the spec's order
  return { ok: true, binds };
}

const under = (p: string, parent: string): boolean => p.startsWith(parent + '/');

/** Binds whose target lies below no other bind's target: their mountpoints must exist on the host. */
export function hostMountpoints(binds: Bind[]): Bind[] {
  return binds.filter((b) => !binds.some((o) => o !== b && under(b.target, o.target)));
}

/**
 * The shim: `$1` is mount(8)'s path, `$2` the number of binds, then `src dst ro|rw` triples, then the command.
 * Nested mountpoints are created inside the volume already mounted above them (never on the host: the kubelet
 * creates top-level ones, recorded, before the container starts). Read-only remounts come after every bind, so a
 * mountpoint can still be made inside a volume that is itself mounted read-only.
 */
export const MOUNT_SHIM = [
  'set -e',
  'mnt=$1; n=$2; shift 2; ros=',
  'while [ "$n" -gt 0 ]; do',
  '  src=$1; dst=$2; ro=$3; shift 3; n=$((n - 1))',
  '  if [ ! -e "$dst" ]; then',
  '    if [ -d "$src" ]; then mkdir -p "$dst"; else mkdir -p "$(dirname "$dst")"; : > "$dst"; fi',
  '  fi',
  '  "$mnt" --bind "$src" "$dst"',
  '  if [ "$ro" = ro ]; then ros="$ros$dst',
  '"; fi',
  'done',
  'printf %s "$ros" | while IFS= read -r d; do "$mnt" -o remount,bind,ro "$d"; done',
  'exec "$@"',
].join('\n');

/**
 * argv that performs `binds` and then runs `argv`. `ownMountNs`: the caller already runs it in a private mount
 * namespace (`ip netns exec`); otherwise `unshare --mount` provides one. No binds: argv unchanged.
 */
export function withMounts(binds: Bind[], argv: string[], opts: { ownMountNs: boolean; mountBin: string; shell?: string }): string[] {
  if (binds.length === 0) return [...argv];
  const triples = binds.flatMap((b) => [b.source, b.target, b.readOnly ? 'ro' : 'rw']);
  const shim = [opts.shell ?? '/bin/sh', '-c', MOUNT_SHIM, 'kubelet-mounts', opts.mountBin, String(binds.length), ...triples, ...argv];
  return opts.ownMountNs ? shim : ['unshare', '--mount', '--propagation', 'slave', ...shim];
}
