import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_COMPILE_CACHE, missingRuntimeOptions, NO_RESTART_ENV, RUNTIME_ENV } from './runtime.ts';

test('missingRuntimeOptions: only what is not given already', () => {
  const set = { NODE_COMPILE_CACHE: '/c', ...RUNTIME_ENV };
  const cases: Array<[string, string[], string[], NodeJS.ProcessEnv, ReturnType<typeof missingRuntimeOptions>]> = [
    ['nothing given', ['--max-semi-space-size=8'], [], {}, { flags: ['--max-semi-space-size=8'], env: { ...RUNTIME_ENV, NODE_COMPILE_CACHE: DEFAULT_COMPILE_CACHE } }],
    ['flag on the command line wins', ['--max-semi-space-size=8'], ['--max-semi-space-size=2'], {}, { flags: [], env: { ...RUNTIME_ENV, NODE_COMPILE_CACHE: DEFAULT_COMPILE_CACHE } }],
    ['flag in NODE_OPTIONS wins', ['--max-semi-space-size=8'], [], { ...set, NODE_OPTIONS: '--max-semi-space-size=2' }, undefined],
    ['a similar longer flag is not the same flag', ['--max-semi-space-size=8'], ['--max-semi-space-size-x=1'], set, { flags: ['--max-semi-space-size=8'], env: {} }],
    ['cache and environment set, no flags wanted', [], [], set, undefined],
    ['a variable set by the user is kept', [], [], { NODE_COMPILE_CACHE: '/c', MALLOC_ARENA_MAX: '8' }, undefined],
    ['only the missing variable', [], [], { NODE_COMPILE_CACHE: '/c' }, { flags: [], env: { MALLOC_ARENA_MAX: '2' } }],
    ['opted out', ['--max-semi-space-size=8'], [], { [NO_RESTART_ENV]: '1' }, undefined],
  ];
  for (const [name, flags, argv, env, want] of cases) assert.deepEqual(missingRuntimeOptions(flags, argv, env), want, name);
});

test('restartWithRuntimeOptions replaces the process (same pid) with the flags, RUNTIME_ENV and a compile cache that the next start reuses', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'runtime-test-'));
  try {
    const entry = join(dir, 'entry.ts');
    const runtime = new URL('./runtime.ts', import.meta.url).href;
    writeFileSync(entry, [
      `import { restartWithRuntimeOptions } from ${JSON.stringify(runtime)};`,
      `restartWithRuntimeOptions(import.meta.url, ['--max-semi-space-size=4']);`,
      `const { getCompileCacheDir } = await import('node:module');`,
      `const n: number = process.pid;`,
      `console.log(JSON.stringify({ pid: n, execArgv: process.execArgv, cache: getCompileCacheDir(), args: process.argv.slice(2), arenas: process.env.MALLOC_ARENA_MAX }));`,
    ].join('\n'));
    const run = (): Promise<{ spawned: number; out: { pid: number; execArgv: string[]; cache: string; args: string[]; arenas?: string } }> => new Promise((resolve, reject) => {
      const env: NodeJS.ProcessEnv = { ...process.env, NODE_COMPILE_CACHE: '' };
      delete env[NO_RESTART_ENV];
      delete env.MALLOC_ARENA_MAX;
      const c = spawn(process.execPath, [entry, 'a', '--b'], { env: { ...env, TMPDIR: dir }, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      c.stdout.on('data', (d: Buffer) => (out += d));
      c.on('exit', (code) => (code === 0 ? resolve({ spawned: c.pid!, out: JSON.parse(out) }) : reject(new Error(`exit ${code}`))));
    });
    const first = await run();
    assert.equal(first.out.pid, first.spawned, 'same pid: execve, not a child');
    assert.ok(first.out.execArgv.includes('--max-semi-space-size=4'), JSON.stringify(first.out.execArgv));
    assert.deepEqual(first.out.args, ['a', '--b'], 'arguments reach the replacement unchanged');
    assert.equal(first.out.arenas, RUNTIME_ENV.MALLOC_ARENA_MAX, 'the replacement runs with RUNTIME_ENV');
    assert.ok(first.out.cache.startsWith(join(dir, 'ambient-mesh-compile-cache')), first.out.cache);
    const entries = readdirSync(first.out.cache, { recursive: true });
    assert.ok(entries.length > 0, 'the cache was written at exit');
    const second = await run();
    assert.equal(second.out.cache, first.out.cache);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
