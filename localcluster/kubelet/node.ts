// The Node object this kubelet registers: pure builders plus the create-or-update glue and the
// heartbeat that keeps the Ready condition fresh.
import { CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Node } from '@kubernetes/client-node';

export interface NodeSpecInput {
  nodeName: string;
  ip: string;
  podCidr: string;
  labels?: Record<string, string>;
}

export const podCapacity = '250';

export function nodeObject(n: NodeSpecInput): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: n.nodeName,
      labels: { 'kubernetes.io/hostname': n.nodeName, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': process.arch === 'x64' ? 'amd64' : process.arch, ...n.labels },
    },
    spec: { podCIDR: n.podCidr, podCIDRs: [n.podCidr] },
  };
}

export function nodeStatus(n: NodeSpecInput, now: string, readySince: string): Record<string, unknown> {
  const resources = { pods: podCapacity, cpu: '8', memory: '16Gi' };
  return {
    addresses: [{ type: 'InternalIP', address: n.ip }, { type: 'Hostname', address: n.nodeName }],
    capacity: resources,
    allocatable: resources,
    conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: readySince }],
    nodeInfo: { kubeletVersion: 'v1.34.0-local', operatingSystem: 'linux', architecture: process.arch, containerRuntimeVersion: 'local://1', osImage: 'ambient-mesh local cluster', kernelVersion: '', machineID: '', systemUUID: '', bootID: '', kubeProxyVersion: '' },
  };
}

export const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export async function registerNode(kc: KubeConfig, n: NodeSpecInput): Promise<() => Promise<void>> {
  const core = kc.makeApiClient(CoreV1Api);
  const body = nodeObject(n);
  try {
    await core.createNode({ body });
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
    await core.patchNode({ name: n.nodeName, body: { metadata: { labels: body.metadata?.labels }, spec: body.spec } }, mergePatch);
  }
  const readySince = new Date().toISOString();
  const heartbeat = async (): Promise<void> => {
    await core.patchNodeStatus({ name: n.nodeName, body: { status: nodeStatus(n, new Date().toISOString(), readySince) } }, mergePatch);
  };
  await heartbeat();
  return heartbeat;
}
