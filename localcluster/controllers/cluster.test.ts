// In-process end to end: API server + controllers + one kubelet (fake pod network, real
// processes on loopback). A Deployment of the http-echo image becomes a Ready endpoint.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { silent } from '../../shared/log.ts';
import { eventually } from '../../test/support/eventually.ts';
import { startApiServer, type ApiServer } from '../apiserver/index.ts';
import { startKubelet, type Kubelet } from '../kubelet/index.ts';
import { startControllers, type Controllers } from './index.ts';
import { freePort } from '../../test/support/ports.ts';


describe('api server + controllers + kubelet', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cluster-test-'));
  let server: ApiServer;
  let controllers: Controllers;
  let kubelet: Kubelet;
  let kc: k8s.KubeConfig;

  before(async () => {
    server = await startApiServer({ stateDir: path.join(dir, 'state'), port: 0, host: '127.0.0.1', logger: silent });
    kc = new k8s.KubeConfig();
    kc.loadFromFile(server.kubeconfigPath);
    const network = { setupPod: async () => ({ netns: undefined, ip: '127.0.0.1', hostIP: '127.0.0.1' }), teardownPod: async () => {} };
    kubelet = await startKubelet({ kubeconfig: kc, nodeName: 'node-1', node: { ip: '127.0.0.1', podCidr: '10.244.1.0/24' }, network, logsDir: path.join(dir, 'logs'), logger: silent });
    server.setPodLogProvider((ns, pod, o) => kubelet.podLogs(ns, pod, o));
    controllers = await startControllers({ kubeconfig: kc, logger: silent, resyncMs: 500 });
  });
  after(async () => {
    await controllers?.stop();
    await kubelet?.stop({ killPods: true });
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a Deployment of http-echo runs, answers, and shows up as a ready endpoint', async () => {
    const port = await freePort();
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
    await apps.createNamespacedDeployment({ namespace: 'default', body: { metadata: { name: 'echo' }, spec: {
      replicas: 1, selector: { matchLabels: { app: 'echo' } },
      template: { metadata: { labels: { app: 'echo' } }, spec: { containers: [{
        name: 'echo', image: 'ambient-mesh/http-echo', env: [{ name: 'HOST', value: '127.0.0.1' }, { name: 'PORT', value: String(port) }],
        ports: [{ name: 'http', containerPort: port }], readinessProbe: { tcpSocket: { port: 'http' as any }, periodSeconds: 1 },
      }] } },
    } } });
    await core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'echo' }, spec: { selector: { app: 'echo' }, ports: [{ name: 'http', port: 80, targetPort: 'http' as any }] } } });
    const slice = await eventually(async () => {
      const s = (await discovery.listNamespacedEndpointSlice({ namespace: 'default', labelSelector: 'kubernetes.io/service-name=echo' })).items[0];
      return s?.endpoints?.[0]?.conditions?.ready ? s : undefined;
    }, 20_000);
    assert.deepEqual(slice.endpoints?.[0]?.addresses, ['127.0.0.1']);
    assert.equal(slice.endpoints?.[0]?.nodeName, 'node-1');
    assert.deepEqual(slice.ports?.map((p) => p.port), [port]);
    const podName = slice.endpoints?.[0]?.targetRef?.name ?? '';
    const body = await (await fetch(`http://127.0.0.1:${port}/`)).json() as { hostname: string };
    assert.equal(body.hostname, podName);
    const logs = await core.readNamespacedPodLog({ name: podName, namespace: 'default' });
    assert.match(logs, /http-echo listening on 127\.0\.0\.1:\d+/, 'pods/log served from the kubelet');
    const d = await eventually(async () => { const x = await apps.readNamespacedDeployment({ name: 'echo', namespace: 'default' }); return x.status?.availableReplicas === 1 ? x : undefined; });
    assert.equal(d.status?.conditions?.find((c) => c.type === 'Available')?.status, 'True');
  });
});
