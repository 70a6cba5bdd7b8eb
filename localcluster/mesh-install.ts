// Installs the mesh's node proxy into the local cluster the way a user installs it into a real one: the manifests
// in deploy/ applied through the API (the ztunnel DaemonSet, its ServiceAccount and RBAC), with the local
// differences patched in. Interim, until deploy/ carries the controller too (issue 6): the controller runs inside the
// daemon on loopback, so the cluster reaches it through a forwarder at the fabric's control-plane address
// (10.100.0.1:15012), and ztunnel is told that address instead of the istiod Service name.
import { readFileSync } from 'node:fs';
import type net from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { CoreV1Api, KubernetesObjectApi, type KubeConfig, type KubernetesObject, type V1Container, type V1DaemonSet } from '@kubernetes/client-node';
import { listenTcp } from '../shared/netsock/index.ts';
import type { Logger } from '../shared/log.ts';
import { errorMessage } from '../shared/errors.ts';
import { connectTcpLoopback, pipeBoth } from './forward.ts';

export const ZTUNNEL_MANIFEST = fileURLToPath(new URL('../deploy/base/ztunnel.yaml', import.meta.url));
export const MESH_NAMESPACE = 'istio-system';

/** The ztunnel manifests with the local cluster's settings: the controller's address. Pure. */
export function localZtunnelObjects(yamlText: string, xdsAddress: string): KubernetesObject[] {
  const objs = parseAllDocuments(yamlText).map((d) => d.toJS() as KubernetesObject).filter((o) => o && o.kind);
  for (const o of objs) {
    if (o.kind !== 'DaemonSet') continue;
    const c = (o as V1DaemonSet).spec!.template.spec!.containers[0] as V1Container;
    c.env = (c.env ?? []).map((e) => (e.name === 'XDS_ADDRESS' ? { name: e.name, value: xdsAddress } : e));
  }
  return objs;
}

/** Create or replace each object (the installer's apply). */
async function applyObjects(kc: KubeConfig, objs: KubernetesObject[]): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  for (const o of objs) {
    try {
      await api.create(o);
    } catch (err) {
      if ((err as { code?: number }).code !== 409) throw err;
      const current = await api.read(o as KubernetesObject & { metadata: { name: string; namespace: string } });
      await api.replace({ ...o, metadata: { ...o.metadata, resourceVersion: current.metadata?.resourceVersion } });
    }
  }
}

export interface MeshInstall {
  /** Fault injection for tests: the controller becomes unreachable from the cluster (live connections cut) or reachable again. */
  setControllerReachable(reachable: boolean): void;
  close(): Promise<void>;
}

export async function installMesh(o: {
  kubeconfig: KubeConfig;
  fabricNetns: string;
  fabricAddress: string;
  controllerGrpcPort: number;
  log: Logger;
}): Promise<MeshInstall> {
  // Forwarder: cluster → controller on the daemon's loopback.
  const forwarder: net.Server = await listenTcp({ netns: o.fabricNetns, host: o.fabricAddress, port: 15012 });
  const live = new Set<net.Socket>();
  let reachable = true;
  forwarder.on('connection', (inbound: net.Socket) => {
    if (!reachable) return void inbound.destroy();
    live.add(inbound);
    inbound.once('close', () => live.delete(inbound));
    connectTcpLoopback(o.controllerGrpcPort).then((out) => pipeBoth(inbound, out), (err: unknown) => {
      o.log.warn({ err: errorMessage(err) }, 'controller forward failed');
      inbound.destroy();
    });
  });
  const core = o.kubeconfig.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: MESH_NAMESPACE } } }).catch((err: unknown) => {
    if ((err as { code?: number }).code !== 409) throw err;
  });
  await applyObjects(o.kubeconfig, localZtunnelObjects(readFileSync(ZTUNNEL_MANIFEST, 'utf8'), `${o.fabricAddress}:15012`));
  return {
    setControllerReachable(r) {
      reachable = r;
      if (!r) for (const s of live) s.destroy();
      o.log.info({ reachable: r }, 'controller reachability changed (fault injection)');
    },
    async close() {
      for (const s of live) s.destroy();
      forwarder.close();
    },
  };
}

/** Resolves once `want` pods of the DaemonSet are Ready; throws with what is missing after `timeoutMs`. */
export async function waitDaemonSetReady(kc: KubeConfig, namespace: string, name: string, want: number, timeoutMs: number): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pods = (await core.listNamespacedPod({ namespace, labelSelector: `app=${name}` })).items;
    const ready = pods.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    if (ready.length >= want) return;
    const seen = pods.map((p) => `${p.metadata?.name} on ${p.spec?.nodeName}: ${p.status?.phase}${p.status?.containerStatuses?.[0]?.restartCount ? ` (restarts ${p.status.containerStatuses[0].restartCount})` : ''}`).join(', ');
    if (Date.now() > deadline) {
      throw new Error(`${namespace}/${name}: ${ready.length}/${want} pods Ready after ${timeoutMs / 1000} s (${seen || 'no pods'}); see \`meshctl logs -n ${namespace} <pod>\``);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
