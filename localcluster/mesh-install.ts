// Installs the mesh into the local cluster the way a user installs it into a real one: deploy/overlays/local (the
// install of deploy/ with one controller replica) rendered by the built-in kustomize and applied through the API.
// The local kubelet runs the controller Deployment and the ztunnel DaemonSet from the one image (the catalogue maps
// it to this checkout); ztunnel reaches the controller at istiod.istio-system.svc:15012 through cluster DNS and
// kube-proxy, exactly as in a real cluster.
import { CoreV1Api, AppsV1Api, KubernetesObjectApi, loadYaml, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { kustomize, LOCAL_OVERLAY, type KObject } from './kustomize.ts';

export const MESH_NAMESPACE = 'istio-system';

/** The objects `meshctl up` applies, in apply order (kustomize's: namespaces and CRDs first). */
export function localMeshObjects(dir = LOCAL_OVERLAY): KObject[] {
  return kustomize(dir);
}

/**
 * Create each object, or replace it when it exists (the installer's apply; re-running `up` converges). The objects
 * are manifests (wire field names); client-node serializes built-in kinds from its model classes, whose names differ
 * for some fields (`x-kubernetes-preserve-unknown-fields` is `xKubernetesPreserveUnknownFields`) and drops what it
 * does not know, so each object is first read into the model the way client-node's own YAML loader does.
 */
export async function applyObjects(kc: KubeConfig, manifests: readonly KubernetesObject[]): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  for (const o of manifests.map((m) => loadYaml<KubernetesObject>(JSON.stringify(m)))) {
    try {
      await api.create(o);
    } catch (err) {
      if ((err as { code?: number }).code !== 409) throw err;
      const current = await api.read(o as KubernetesObject & { metadata: { name: string; namespace: string } });
      await api.replace({ ...o, metadata: { ...o.metadata, resourceVersion: current.metadata?.resourceVersion } });
    }
  }
}

/** Apply deploy/overlays/local. */
export async function installMesh(kc: KubeConfig): Promise<void> {
  await applyObjects(kc, localMeshObjects() as KubernetesObject[]);
}

/** Resolves once `want` replicas of the Deployment are Ready; throws with what is missing after `timeoutMs`. */
export async function waitDeploymentReady(kc: KubeConfig, namespace: string, name: string, timeoutMs: number): Promise<void> {
  const apps = kc.makeApiClient(AppsV1Api);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await apps.readNamespacedDeployment({ name, namespace });
    const want = d.spec?.replicas ?? 1;
    if ((d.status?.readyReplicas ?? 0) >= want) return;
    if (Date.now() > deadline) {
      throw new Error(`${namespace}/${name}: ${d.status?.readyReplicas ?? 0}/${want} replicas Ready after ${timeoutMs / 1000} s; see \`meshctl logs -n ${namespace} <pod>\``);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
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
