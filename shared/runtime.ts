// Process set-up every binary does before loading anything heavy: V8 flags that only take effect in a fresh
// process, and Node's compile cache. `restartWithRuntimeOptions` replaces the process with itself (execve: same
// pid, same stdio) when something is missing, so the three mains call it first and import the rest dynamically.
//
// The compile cache matters for memory, not only start time: Node 24 strips TypeScript with a WebAssembly build of
// swc, and the first .ts file a process loads instantiates it for good, about 17 MB of RSS in every controller,
// ztunnel and waypoint process. With the cache warm, no file is stripped and that module is never loaded. The
// cache lives in NODE_COMPILE_CACHE when set (the image points it at a cache warmed at build time), else in
// <tmpdir>/ambient-mesh-compile-cache; Node validates entries against the file's content.
//
// `MALLOC_ARENA_MAX=2` (glibc reads it only at start): by default glibc gives each thread that allocates its own
// malloc arena, up to 8 per core, and V8's background compiler and GC threads each keep one with freed memory in it.
// With two arenas a waypoint at 1000 rps has ~10 MB less anonymous RSS (87.6 → 77.6 MB in bench/waypoint.ts) at the
// same latency and CPU. A value in the environment wins.
import { flushCompileCache } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Set in the replacement process; also lets a caller opt out of the restart altogether. */
export const NO_RESTART_ENV = 'MESH_NO_RESTART';
export const DEFAULT_COMPILE_CACHE = join(tmpdir(), 'ambient-mesh-compile-cache');
/** Environment every binary runs with unless the variable is set already (see the top of this file). */
export const RUNTIME_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

/**
 * What the replacement process needs: the flags not yet given (command line or NODE_OPTIONS), the RUNTIME_ENV
 * variables not set, and the compile cache directory if none is set.
 */
export function missingRuntimeOptions(
  v8Flags: readonly string[], execArgv: readonly string[], env: NodeJS.ProcessEnv,
): { flags: string[]; env: Record<string, string> } | undefined {
  if (env[NO_RESTART_ENV]) return undefined;
  const given = [...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)];
  const flags = v8Flags.filter((f) => !given.some((g) => g.split('=')[0] === f.split('=')[0]));
  const wanted: Record<string, string> = { ...RUNTIME_ENV, NODE_COMPILE_CACHE: DEFAULT_COMPILE_CACHE };
  const missingEnv = Object.fromEntries(Object.entries(wanted).filter(([k]) => !env[k]));
  return flags.length === 0 && Object.keys(missingEnv).length === 0 ? undefined : { flags, env: missingEnv };
}

/** Replace this process with one that has `v8Flags`, RUNTIME_ENV and a compile cache; returns only when nothing is missing. */
export function restartWithRuntimeOptions(entryUrl: string, v8Flags: readonly string[] = []): void {
  const missing = missingRuntimeOptions(v8Flags, process.execArgv, process.env);
  if (!missing) return;
  process.execve!(
    process.execPath,
    [process.execPath, ...missing.flags, ...process.execArgv, fileURLToPath(entryUrl), ...process.argv.slice(2)],
    { ...process.env, [NO_RESTART_ENV]: '1', ...missing.env },
  );
}

/** Write what this process compiled to the cache now: Node writes it only at exit, which a proxy rarely reaches. */
export function persistCompileCache(): void {
  flushCompileCache();
}

/**
 * `MESH_WARM_COMPILE_CACHE=1 node bin/ambient-mesh.ts <component>` loads the component's modules, writes them to the
 * compile cache and exits without starting anything: the image build runs it so pods start with a warm cache.
 */
export function exitIfWarmingCompileCache(): void {
  if (!process.env.MESH_WARM_COMPILE_CACHE) return;
  flushCompileCache();
  process.exit(0);
}
