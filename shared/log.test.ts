// A process that logs must still exit when whoever read its stdout has gone away (e.g. the parent that
// spawned it exited). pino's default synchronous writer retried EPIPE forever at exit, leaving orphans.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const logModule = fileURLToPath(new URL('./log.ts', import.meta.url));
const child = `
import { logger } from ${JSON.stringify(logModule)};
const log = logger('t');
log.info('ready');
process.on('SIGTERM', () => { for (let i = 0; i < 100; i++) log.info({ i }, 'stopping'); process.exit(0); });
setInterval(() => {}, 1000);
`;

test('a logging process exits on SIGTERM after its stdout reader is gone', async (t) => {
  const p = spawn(process.execPath, ['--input-type=module', '-e', child], { stdio: ['ignore', 'pipe', 'ignore'] });
  t.after(() => {
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  });
  const [first] = await once(p.stdout, 'data');
  assert.match(String(first), /"msg":"ready"/);
  p.stdout.destroy(); // the reader goes away: further writes fail with EPIPE
  p.kill('SIGTERM');
  const exited = await Promise.race([
    once(p, 'exit').then(([code]) => ({ code })),
    new Promise<undefined>((r) => setTimeout(() => r(undefined), 10_000).unref()),
  ]);
  assert.ok(exited, 'the process did not exit within 10 s of SIGTERM');
  assert.equal(exited.code, 0);
});
