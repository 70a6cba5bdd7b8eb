// In-process control plane for cross-component tests: a local API server (loopback, TLS) in a temp dir, its
// kubeconfig and CoreV1 client, pod manifests and status patches as the kubelet would write them, and a ztunnel
// identity (istio-system/ztunnel service account + pod, a pod-bound token with the CA audience) that the
// controller's xDS and CA accept. Everything is torn down by the test context.
import type { TestContext } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { startApiServer, type ApiServer } from '../../localcluster/apiserver/index.ts';
import { silent } from '../../shared/log.ts';
import { KubeClient } from '../../shared/kube/client.ts';

export const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export interface TestApi {
  api: ApiServer;
  kc: KubeConfig;
  /** The mesh's own client (what the controller and ztunnel use), on the same kubeconfig. */
  kube: KubeClient;
  core: CoreV1Api;
}

/** A fresh API server on 127.0.0.1:<random>, closed and its state dir removed after the test. */
export async function startTestApi(t: TestContext, o: { historyLimit?: number } = {}): Promise<TestApi> {
  const dir = mkdtempSync(join(tmpdir(), 'ctlplane-'));
  const api = await startApiServer({ stateDir: dir, port: 0, logger: silent, ...o });
  t.after(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const kc = new KubeConfig();
  kc.loadFromFile(api.kubeconfigPath);
  const kube = await KubeClient.load({ kubeconfig: api.kubeconfigPath });
  t.after(() => kube.close());
  return { api, kc, kube, core: kc.makeApiClient(CoreV1Api) };
}

/** A one-container pod (named port `http` = 8080) scheduled on `node`. */
export function testPod(name: string, ns: string, o: { sa?: string; labels?: Record<string, string>; node?: string } = {}): V1Pod {
  return {
    metadata: { name, namespace: ns, labels: o.labels ?? {} },
    spec: { nodeName: o.node ?? 'node-1', serviceAccountName: o.sa ?? 'default', containers: [{ name: 'app', image: 'ambient-mesh/http-echo', ports: [{ name: 'http', containerPort: 8080 }] }] },
  };
}

/** What the kubelet reports once the pod runs: Running, its IP, Ready. */
export async function setPodReady(core: CoreV1Api, ns: string, name: string, ip: string): Promise<void> {
  await core.patchNamespacedPodStatus({ name, namespace: ns, body: { status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: 'True' }] } } }, mergePatch);
}

/**
 * The istio-system namespace, the ztunnel service account and a ztunnel pod on `node`, and a token bound to that pod
 * with the CA audience (what the controller's TokenReview authentication expects of a ztunnel).
 */
export async function createZtunnelIdentity(t: TestApi, node = 'node-1', audience = 'istio-ca'): Promise<{ token: string; podName: string }> {
  await t.core.createNamespace({ body: { metadata: { name: 'istio-system' } } });
  await t.core.createNamespacedServiceAccount({ namespace: 'istio-system', body: { metadata: { name: 'ztunnel' } } });
  const podName = `ztunnel-${node}`;
  const pod = await t.core.createNamespacedPod({ namespace: 'istio-system', body: testPod(podName, 'istio-system', { sa: 'ztunnel', labels: { app: 'ztunnel' }, node }) });
  const token = t.api.mintServiceAccountToken('istio-system', 'ztunnel', { audiences: [audience], pod: { name: podName, uid: pod.metadata!.uid! } });
  return { token, podName };
}
