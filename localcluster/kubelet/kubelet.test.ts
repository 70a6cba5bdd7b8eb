// In-process: a kubelet against the real API server, with a fake PodNetwork (no netns: containers
// are real processes from the image catalogue listening on loopback).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import * as k8s from '@kubernetes/client-node';
import { silent } from '../../shared/log.ts';
import { eventually } from '../../test/support/eventually.ts';
import { startApiServer, type ApiServer } from '../apiserver/index.ts';
import { startKubelet, type Kubelet, type PodNetwork } from './index.ts';
import { freePort } from '../../test/support/ports.ts';

class FakeNetwork implements PodNetwork {
  readonly setups: string[] = [];
  readonly teardowns: string[] = [];
  /** Pod names whose first setup fails. */
  readonly failOnce = new Set<string>();
  async setupPod(p: { uid: string; name: string }) {
    this.setups.push(p.uid);
    if (this.failOnce.delete(p.name)) throw new Error('no addresses left');
    return { netns: undefined, ip: '127.0.0.1', hostIP: '127.0.0.1' };
  }
  async teardownPod(uid: string) { this.teardowns.push(uid); }
}


const alive = (pid: number): boolean => { try { process.kill(pid, 0); return true; } catch { return false; } };
const cond = (p: k8s.V1Pod, type: string): string | undefined => p.status?.conditions?.find((c) => c.type === type)?.status;

describe('kubelet against the api server', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-test-'));
  const network = new FakeNetwork();
  let server: ApiServer;
  let kubelet: Kubelet;
  let core: k8s.CoreV1Api;
  const read = (name: string): Promise<k8s.V1Pod> => core.readNamespacedPod({ name, namespace: 'default' });
  const create = (name: string, spec: Omit<k8s.V1PodSpec, 'nodeName'>, labels?: Record<string, string>): Promise<k8s.V1Pod> =>
    core.createNamespacedPod({ namespace: 'default', body: { metadata: { name, labels }, spec: { ...spec, nodeName: 'node-1' } } });

  before(async () => {
    server = await startApiServer({ stateDir: path.join(dir, 'state'), port: 0, host: '127.0.0.1', logger: silent });
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(server.kubeconfigPath);
    core = kc.makeApiClient(k8s.CoreV1Api);
    kubelet = await startKubelet({ kubeconfig: kc, nodeName: 'node-1', node: { ip: '127.0.0.1', podCidr: '10.244.1.0/24', labels: { zone: 'a' } }, network, logsDir: path.join(dir, 'logs'), logger: silent });
  });
  after(async () => {
    await kubelet?.stop({ killPods: true });
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('registers its Node with labels, pod CIDR, addresses and a Ready condition', async () => {
    const node = await core.readNode({ name: 'node-1' });
    assert.equal(node.metadata?.labels?.['kubernetes.io/hostname'], 'node-1');
    assert.equal(node.metadata?.labels?.['kubernetes.io/os'], 'linux');
    assert.equal(node.metadata?.labels?.zone, 'a');
    assert.equal(node.spec?.podCIDR, '10.244.1.0/24');
    assert.deepEqual(node.status?.addresses?.map((a) => ({ type: a.type, address: a.address })), [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: 'node-1' }]);
    assert.equal(node.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    assert.equal(node.status?.capacity?.pods, '250');
  });

  it('runs a catalogue image: Running, Ready, container status, logs; deleting the pod stops it', async () => {
    const port = await freePort();
    await create('echo', {
      containers: [{
        name: 'echo', image: 'ambient-mesh/http-echo:latest',
        env: [{ name: 'HOST', value: '127.0.0.1' }, { name: 'PORT', value: String(port) }],
        ports: [{ name: 'http', containerPort: port }],
        readinessProbe: { httpGet: { path: '/headers', port: 'http' as any }, periodSeconds: 1 },
      }],
    });
    const pod = await eventually(async () => {
      const p = await read('echo');
      return p.status?.phase === 'Running' && cond(p, 'Ready') === 'True' ? p : undefined;
    }, 15_000);
    assert.equal(pod.status?.podIP, '127.0.0.1');
    assert.equal(pod.status?.hostIP, '127.0.0.1');
    assert.ok(pod.status?.startTime);
    for (const t of ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready']) assert.equal(cond(pod, t), 'True', t);
    const cs = pod.status?.containerStatuses?.[0];
    assert.equal(cs?.name, 'echo');
    assert.equal(cs?.image, 'ambient-mesh/http-echo:latest');
    assert.equal(cs?.ready, true);
    assert.equal(cs?.started, true);
    assert.equal(cs?.restartCount, 0);
    assert.ok(cs?.state?.running?.startedAt);
    const pid = Number(/^local:\/\/(\d+)$/.exec(cs?.containerID ?? '')?.[1]);
    assert.ok(pid > 0 && alive(pid), `containerID ${cs?.containerID}`);
    const echoed = await (await fetch(`http://127.0.0.1:${port}/x`)).json() as { hostname: string };
    assert.equal(echoed.hostname, 'echo', 'HOSTNAME is the pod name');
    const logs = await text(kubelet.podLogs('default', 'echo', {})!);
    assert.match(logs, /http-echo listening on 127\.0\.0\.1:\d+/);

    await core.deleteNamespacedPod({ name: 'echo', namespace: 'default' });
    await eventually(() => !alive(pid), 15_000);
    await eventually(() => network.teardowns.includes(pod.metadata?.uid ?? ''));
  });

  it('restarts a crashing container with a growing restartCount', async () => {
    await create('crash', { containers: [{ name: 'c', image: 'busybox', command: [process.execPath, '-e', 'console.log("dying"); process.exit(3)'] }] });
    const pod = await eventually(async () => {
      const p = await read('crash');
      return (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 ? p : undefined;
    }, 15_000);
    const cs = pod.status?.containerStatuses?.[0];
    assert.equal(cs?.lastState?.terminated?.exitCode, 3);
    assert.equal(cs?.lastState?.terminated?.reason, 'Error');
    assert.equal(pod.status?.phase, 'Running');
    await eventually(async () => /dying\n.*dying/s.test(await text(kubelet.podLogs('default', 'crash', { container: 'c' })!)));
    await core.deleteNamespacedPod({ name: 'crash', namespace: 'default' });
  });

  it('a failing readiness probe makes the pod not Ready while the container keeps running', async () => {
    const flag = path.join(dir, 'ready-flag');
    fs.writeFileSync(flag, '');
    await create('probe', { containers: [{ name: 's', image: 'curlimages/curl', readinessProbe: { exec: { command: ['test', '-f', flag] }, periodSeconds: 1, failureThreshold: 1 } }] });
    await eventually(async () => cond(await read('probe'), 'Ready') === 'True', 15_000);
    fs.rmSync(flag);
    const p = await eventually(async () => { const x = await read('probe'); return cond(x, 'Ready') === 'False' ? x : undefined; }, 15_000);
    assert.equal(p.status?.containerStatuses?.[0]?.ready, false);
    assert.ok(p.status?.containerStatuses?.[0]?.state?.running, 'still running');
    assert.equal(p.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'ContainersNotReady');
    await core.deleteNamespacedPod({ name: 'probe', namespace: 'default' });
  });

  it('resolves env from the downward API and ConfigMaps; restartPolicy Never ends in Succeeded', async () => {
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'cfg' }, data: { greeting: 'hi' } } });
    await create('job', {
      restartPolicy: 'Never',
      containers: [{
        name: 'j', image: 'busybox',
        command: [process.execPath, '-e', 'console.log([process.env.MY_NAME, process.env.MY_APP, process.env.GREETING, process.env.KUBERNETES_SERVICE_HOST, process.env.MSG].join(" "))'],
        env: [
          { name: 'MY_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'MY_APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
          { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'greeting' } } },
          { name: 'MSG', value: '$(GREETING)-$(MY_NAME)' },
        ],
      }],
    }, { app: 'batch' });
    const p = await eventually(async () => { const x = await read('job'); return x.status?.phase === 'Succeeded' ? x : undefined; }, 15_000);
    assert.equal(p.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 0);
    assert.equal(p.status?.containerStatuses?.[0]?.state?.terminated?.reason, 'Completed');
    assert.equal(await text(kubelet.podLogs('default', 'job', { tailLines: 1 })!), 'job batch hi 10.96.0.1 hi-job\n');
  });

  it('an unknown image without a command waits with ImageNotInCatalogue', async () => {
    await create('unknown', { containers: [{ name: 'u', image: 'nginx:1.27' }] });
    const p = await eventually(async () => { const x = await read('unknown'); return x.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImageNotInCatalogue' ? x : undefined; }, 15_000);
    assert.equal(p.status?.phase, 'Pending');
    assert.match(p.status?.containerStatuses?.[0]?.state?.waiting?.message ?? '', /known images: .*ambient-mesh\/http-echo/);
  });

  it('runs init containers to completion before the containers', async () => {
    await create('init', {
      initContainers: [
        { name: 'first', image: 'busybox', command: [process.execPath, '-e', 'console.log("first done")'] },
        { name: 'second', image: 'busybox', command: [process.execPath, '-e', 'console.log("second done")'] },
      ],
      containers: [{ name: 'main', image: 'ambient-mesh/curl' }],
    });
    const p = await eventually(async () => { const x = await read('init'); return x.status?.phase === 'Running' && cond(x, 'Ready') === 'True' ? x : undefined; }, 15_000);
    assert.deepEqual(p.status?.initContainerStatuses?.map((c) => [c.name, c.state?.terminated?.reason, c.state?.terminated?.exitCode]), [['first', 'Completed', 0], ['second', 'Completed', 0]]);
    assert.equal(cond(p, 'Initialized'), 'True');
    assert.equal(await text(kubelet.podLogs('default', 'init', { container: 'second' })!), 'second done\n');
    const firstEnd = Date.parse(String(p.status?.initContainerStatuses?.[0]?.state?.terminated?.finishedAt));
    const mainStart = Date.parse(String(p.status?.containerStatuses?.[0]?.state?.running?.startedAt));
    assert.ok(mainStart >= firstEnd, 'main starts after the init containers');
    await core.deleteNamespacedPod({ name: 'init', namespace: 'default' });
  });

  it('retries a failed pod network setup, showing why the pod waits', async () => {
    network.failOnce.add('netfail');
    await create('netfail', { containers: [{ name: 's', image: 'busybox' }] });
    const waiting = await eventually(async () => {
      const x = await read('netfail');
      return /pod network setup failed: no addresses left/.test(x.status?.containerStatuses?.[0]?.state?.waiting?.message ?? '') ? x : undefined;
    }, 15_000);
    assert.equal(waiting.status?.phase, 'Pending');
    await eventually(async () => (await read('netfail')).status?.phase === 'Running', 15_000);
    await core.deleteNamespacedPod({ name: 'netfail', namespace: 'default' });
  });

  it('a failing liveness probe restarts the container', async () => {
    await create('live', { containers: [{ name: 'l', image: 'busybox', command: [process.execPath, '-e', 'setInterval(() => {}, 1e6)'], livenessProbe: { exec: { command: ['false'] }, periodSeconds: 1, failureThreshold: 1 } }], terminationGracePeriodSeconds: 1 });
    const p = await eventually(async () => { const x = await read('live'); return (x.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 ? x : undefined; }, 20_000);
    assert.ok(p.status?.containerStatuses?.[0]?.lastState?.terminated, 'previous run recorded');
    await core.deleteNamespacedPod({ name: 'live', namespace: 'default' });
  });
});

describe('kubelet stop', () => {
  it('stop() leaves pods running; stop({ killPods: true }) is for shutdown', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-stop-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const server = await startApiServer({ stateDir: path.join(dir, 'state'), port: 0, host: '127.0.0.1', logger: silent });
    t.after(() => server.close());
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(server.kubeconfigPath);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const kubelet = await startKubelet({ kubeconfig: kc, nodeName: 'n', node: { ip: '127.0.0.1', podCidr: '10.244.9.0/24' }, network: new FakeNetwork(), logsDir: path.join(dir, 'logs'), logger: silent });
    await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 's' }, spec: { nodeName: 'n', containers: [{ name: 's', image: 'busybox' }] } } });
    const pid = await eventually(async () => {
      const p = await core.readNamespacedPod({ name: 's', namespace: 'default' });
      return Number(/^local:\/\/(\d+)$/.exec(p.status?.containerStatuses?.[0]?.containerID ?? '')?.[1]) || undefined;
    }, 15_000);
    t.after(() => { try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ } });
    await kubelet.stop();
    assert.ok(alive(pid), 'the container outlives the kubelet');
    process.kill(-pid, 'SIGTERM');
    await eventually(() => !alive(pid));
  });
});
