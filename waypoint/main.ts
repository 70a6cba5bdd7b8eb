// The waypoint binary, run as the pod of a waypoint Deployment the controller renders for a Gateway of class
// istio-waypoint (see waypoint.ts for what it starts). SIGTERM drains over DRAIN_SECONDS: readiness fails at once and
// the HBONE sessions get GOAWAY; the listener keeps accepting for the first half (ztunnels that have not yet seen the
// endpoint go may still dial it), then closes; open tunnels have the rest to finish.
import { restartWithRuntimeOptions, persistCompileCache, exitIfWarmingCompileCache } from '../shared/runtime.ts';

restartWithRuntimeOptions(import.meta.url); // compile cache (shared/runtime.ts); the rest loads after
const { logger } = await import('../shared/log.ts');
const { errorMessage } = await import('../shared/errors.ts');
const { loadWaypointEnv } = await import('./config.ts');
const { startWaypoint } = await import('./waypoint.ts');
exitIfWarmingCompileCache();

const log = logger('waypoint');
let env;
try {
  env = loadWaypointEnv();
} catch (err) {
  log.error({ err: errorMessage(err), code: (err as { code?: string }).code }, 'bad configuration');
  process.exit(1);
}
const config = env;
const wp = await startWaypoint(config, log).catch((err: unknown) => {
  log.error({ err: errorMessage(err), code: (err as { code?: string }).code }, 'waypoint failed to start');
  process.exit(1);
});
persistCompileCache();

let stopping = false;
function stop(signal: string): void {
  if (stopping) return;
  stopping = true;
  log.info({ signal, drainSeconds: config.drainSeconds }, 'draining');
  setTimeout(() => process.exit(1), config.drainSeconds * 1000 + 10_000).unref();
  wp.stop().then(() => process.exit(0), (err: unknown) => {
    log.error({ err: errorMessage(err) }, 'stopping failed');
    process.exit(1);
  });
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
