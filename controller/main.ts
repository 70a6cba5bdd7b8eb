// The controller binary: `node controller/main.ts [--kubeconfig PATH] [--namespace istio-system]
// [--trust-domain cluster.local] [--cluster-id Kubernetes] [--host 0.0.0.0] [--grpc-port 15012] [--debug-port 15014]
// [--waypoint-xds-address HOST:PORT] [--waypoint-image IMAGE]`; each flag's default comes from the environment where
// deploy/ sets one (POD_NAMESPACE, TRUST_DOMAIN, CLUSTER_ID, WAYPOINT_XDS_ADDRESS, WAYPOINT_IMAGE).
// Without --kubeconfig it uses $KUBECONFIG or the in-cluster service account, like any Kubernetes controller.
// V8 flags and the compile cache: the process first replaces itself (same pid) to apply them (shared/runtime.ts).
import { parseArgs } from 'node:util';
import { restartWithRuntimeOptions, persistCompileCache, exitIfWarmingCompileCache } from '../shared/runtime.ts';

/**
 * V8 flags, measured with `npm run bench:controller` (2000 pods, 1000 Services, 50 proxies; issue 3's ≤ 200 MB):
 * - `--max-semi-space-size=8`: on a large machine V8 grows the young generation to 128 MB committed, mostly empty.
 * - `--optimize-for-size`: V8 otherwise lets the old generation and dead Buffers (each proxy's full-state response
 *   is ~1 MB, encoded then framed) pile up to well past the live set before collecting: RSS 222 → 180 MB with a
 *   live heap of ~45 MB. It costs start-up speed (50 proxies fully served in 4.3 s instead of 2.7 s), not push
 *   latency (p90 150 ms either way).
 * A flag already given (command line or NODE_OPTIONS) wins; MESH_NO_RESTART=1 skips the restart (shared/runtime.ts).
 */
restartWithRuntimeOptions(import.meta.url, ['--max-semi-space-size=8', '--optimize-for-size']);
const { KubeClient } = await import('../shared/kube/client.ts');
const { logger } = await import('../shared/log.ts');
const { errorMessage } = await import('../shared/errors.ts');
const { startController } = await import('./controller.ts');
exitIfWarmingCompileCache();

const log = logger('controller');
const { values: v } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    namespace: { type: 'string', default: process.env.POD_NAMESPACE ?? 'istio-system' },
    'trust-domain': { type: 'string', default: process.env.TRUST_DOMAIN || 'cluster.local' },
    'cluster-id': { type: 'string', default: process.env.CLUSTER_ID || 'Kubernetes' },
    host: { type: 'string', default: '0.0.0.0' },
    'grpc-port': { type: 'string', default: '15012' },
    'debug-port': { type: 'string', default: '15014' },
    'waypoint-xds-address': { type: 'string', default: process.env.WAYPOINT_XDS_ADDRESS },
    'waypoint-image': { type: 'string', default: process.env.WAYPOINT_IMAGE },
  },
});

try {
  const kube = await KubeClient.load({ kubeconfig: v.kubeconfig });
  const ctl = await startController({
    kube, namespace: v.namespace, trustDomain: v['trust-domain'], clusterId: v['cluster-id'],
    host: v.host, grpcPort: Number(v['grpc-port']), debugPort: Number(v['debug-port']), log,
    ...(v['waypoint-xds-address'] ? { waypointXdsAddress: v['waypoint-xds-address'] } : {}),
    ...(v['waypoint-image'] ? { waypointImage: v['waypoint-image'] } : {}),
  });
  persistCompileCache();
  const stop = (signal: string): void => {
    log.info({ signal }, 'stopping');
    // A shutdown step that hangs (e.g. the API server already gone) must not keep the process alive.
    setTimeout(() => {
      log.error('shutdown took longer than 10 s; exiting anyway');
      process.exit(1);
    }, 10_000).unref();
    ctl.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
} catch (err) {
  log.fatal({ err: errorMessage(err) }, 'controller failed to start');
  process.exit(1);
}
