// The ztunnel binary, run as a DaemonSet pod in its own network namespace (see ztunnel.ts for what it starts). Configuration
// comes from the environment (config.ts). SIGTERM drains: readiness fails at once, listeners stop accepting, live
// connections get DRAIN_SECONDS to finish; capture rules stay so the next ztunnel re-adopts the pods.
import { restartWithRuntimeOptions, persistCompileCache, exitIfWarmingCompileCache } from '../shared/runtime.ts';

// Compile cache (shared/runtime.ts), and a 1 MB semi-space: ztunnel's short-lived garbage is per-chunk buffers and
// stream objects, and with V8's default young generation (up to 16 MB per semi-space) it peaked at 143–170 MB RSS in
// bench:ztunnel; with 1 MB at 108–121 MB, with latency, bulk throughput and CPU within the run-to-run spread.
restartWithRuntimeOptions(import.meta.url, ['--max-semi-space-size=1']); // the rest loads after
const { logger } = await import('../shared/log.ts');
const { errorMessage } = await import('../shared/errors.ts');
const { loadConfig } = await import('./config.ts');
const { startZtunnel } = await import('./ztunnel.ts');
exitIfWarmingCompileCache();

const log = logger('ztunnel');
const config = loadConfig();
let stopping = false;
const zt = await startZtunnel(config, log).catch((err: unknown) => {
  log.error({ err: errorMessage(err), code: (err as { code?: string }).code }, 'ztunnel failed to start');
  process.exit(1);
});
persistCompileCache();

function stop(signal: string): void {
  if (stopping) return;
  stopping = true;
  log.info({ signal, drainSeconds: config.drainSeconds }, 'draining');
  setTimeout(() => {
    log.error('drain took longer than its deadline + 10 s; exiting anyway');
    process.exit(1);
  }, config.drainSeconds * 1000 + 10_000).unref();
  zt.stop().then(() => process.exit(0), (err: unknown) => {
    log.error({ err: errorMessage(err) }, 'stopping failed');
    process.exit(1);
  });
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
