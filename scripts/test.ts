// The test command: type-check, lint, then every *.test.ts with node:test (unit, in-process and
// privileged network-namespace tests). Exits non-zero on any failure.
import { spawnSync } from 'node:child_process';

function run(label: string, cmd: string, args: string[]): void {
  console.log(`\n== ${label}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: process.env });
  if (r.status !== 0) {
    console.error(`== ${label} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
}

const only = process.argv.slice(2);
if (only.length === 0) {
  run('typecheck', 'npx', ['tsc', '--noEmit', '-p', '.']);
  run('lint', 'npx', ['eslint', '.']);
}
run('tests', process.execPath, [
  '--test', '--test-reporter=spec', '--test-timeout=300000',
  ...(only.length ? only : ['**/*.test.ts']),
]);
