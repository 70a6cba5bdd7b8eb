// In-process (root): a kubelet with volumes enabled against the real API server, no netns (containers run under
// `unshare --mount`): a configMap volume with subPath and the automounted service-account files; the host
// mountpoints it had to create are recorded and removed by the record's cleanup.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { silent } from '../../shared/log.ts';
import { eventually } from '../../test/support/eventually.ts';
import { privilegeProblem } from '../../test/support/privileged.ts';
import { startApiServer, type ApiServer } from '../apiserver/index.ts';
import { cleanupFromRecordDetailed, readRecord } from '../network/record.ts';
import { startKubelet, type Kubelet } from './index.ts';

const network = {
  async setupPod() { return { netns: undefined, ip: '127.0.0.1', hostIP: '127.0.0.1' }; },
  async teardownPod() {},
};

describe('kubelet with volumes (no netns)', { skip: privilegeProblem() }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zth6-kubelet-vol-'));
  const target = path.join(dir, 'host', 'etc-app'); // a mountPath the host lacks
  let server: ApiServer;
  let kubelet: Kubelet;
  let core: k8s.CoreV1Api;

  before(async () => {
    server = await startApiServer({ stateDir: path.join(dir, 'api'), port: 0, host: '127.0.0.1', logger: silent });
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(server.kubeconfigPath);
    core = kc.makeApiClient(k8s.CoreV1Api);
    kubelet = await startKubelet({ kubeconfig: kc, nodeName: 'node-1', node: { ip: '127.0.0.1', podCidr: '10.244.1.0/24' }, network, logsDir: path.join(dir, 'state', 'logs'), stateDir: path.join(dir, 'state'), volumePollMs: 500, logger: silent });
  });
  after(async () => {
    await kubelet?.stop({ killPods: true });
    await server?.close();
    await cleanupFromRecordDetailed(path.join(dir, 'state'));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('mounts a configMap (subPath, readOnly) and the service-account files; records and cleans host mountpoints', async () => {
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'app' }, data: { 'app.yaml': 'x: 1', other: 'o' } } });
    await core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'vol' },
        spec: {
          nodeName: 'node-1', restartPolicy: 'Never',
          containers: [{
            name: 'c', image: 'busybox',
            command: ['sh', '-c', `cat ${target}/app.yaml; echo; cat ${target}/sub.yaml; echo; cat /var/run/secrets/kubernetes.io/serviceaccount/namespace; echo; touch ${target}/w 2>/dev/null || echo read-only`],
            volumeMounts: [{ name: 'cfg', mountPath: target, readOnly: true }, { name: 'cfg', mountPath: `${target}/sub.yaml`, subPath: 'app.yaml' }],
          }],
          volumes: [{ name: 'cfg', configMap: { name: 'app' } }],
        },
      },
    });
    const pod = await eventually(async () => {
      const p = await core.readNamespacedPod({ name: 'vol', namespace: 'default' });
      return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed' ? p : undefined;
    }, 20_000);
    const logFile = path.join(dir, 'state', 'logs', `default_vol_${pod.metadata?.uid}`, 'c.log');
    assert.equal(pod.status?.phase, 'Succeeded', fs.readFileSync(logFile, 'utf8'));
    assert.equal(fs.readFileSync(logFile, 'utf8'), 'x: 1\nx: 1\ndefault\nread-only\n');
    const recorded = readRecord(path.join(dir, 'state')).map((e) => (e as { path: string }).path);
    assert.ok(recorded.includes(target), recorded.join(' '));
    assert.equal(fs.readdirSync(target).length, 0, 'the host mountpoint stays empty (mounts are private)');
    await core.deleteNamespacedPod({ name: 'vol', namespace: 'default' });
    await eventually(() => !fs.existsSync(path.join(dir, 'state', 'pods', pod.metadata!.uid!)), 15_000);
    const report = await cleanupFromRecordDetailed(path.join(dir, 'state'));
    assert.ok(report.removedHostPaths?.includes(target));
    assert.equal(fs.existsSync(path.join(dir, 'host')), false);
  });
});
