// The controller binary: `node controller/main.ts [--kubeconfig PATH] [--namespace istio-system]
// [--trust-domain cluster.local] [--cluster-id Kubernetes] [--host 0.0.0.0] [--grpc-port 15012] [--debug-port 15014]`.
// Without --kubeconfig it uses $KUBECONFIG or the in-cluster service account, like any Kubernetes controller.
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { logger } from '../shared/log.ts';
import { errorMessage } from '../shared/errors.ts';
import { startController } from './controller.ts';

const log = logger('controller');
const { values: v } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    namespace: { type: 'string', default: process.env.POD_NAMESPACE ?? 'istio-system' },
    'trust-domain': { type: 'string', default: 'cluster.local' },
    'cluster-id': { type: 'string', default: 'Kubernetes' },
    host: { type: 'string', default: '0.0.0.0' },
    'grpc-port': { type: 'string', default: '15012' },
    'debug-port': { type: 'string', default: '15014' },
  },
});

const kc = new KubeConfig();
if (v.kubeconfig) kc.loadFromFile(v.kubeconfig);
else kc.loadFromDefault();

try {
  const ctl = await startController({
    kubeconfig: kc, namespace: v.namespace, trustDomain: v['trust-domain'], clusterId: v['cluster-id'],
    host: v.host, grpcPort: Number(v['grpc-port']), debugPort: Number(v['debug-port']), log,
  });
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
