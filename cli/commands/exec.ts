// `meshctl exec [-n NS] POD -- CMD…`: run CMD inside the pod's network namespace of the local
// cluster, with the pod's DNS (its resolv.conf bind-mounted as `ip netns exec` does); the exit code passes through.
// Pods of a cluster started with --pod-netns anonymous are entered through their namespace holder (pod-netns.ts).
import { spawn } from 'node:child_process';
import type { KubeConfig } from '@kubernetes/client-node';
import { call } from '../kube/client.ts';
import { clusterPaths } from '../../localcluster/paths.ts';
import { readConfig } from '../../localcluster/control.ts';
import { nodeNet, podNetnsRef } from '../../localcluster/network/index.ts';
import { runnerArgv } from '../../localcluster/kubelet/index.ts';
import { MeshError } from '../../shared/errors.ts';

export async function execInPod(kc: KubeConfig, ns: string, podName: string, argv: string[]): Promise<number> {
  const cfg = readConfig(clusterPaths());
  if (!cfg) throw new MeshError('MESHCTL_NOT_LOCAL', 'exec works on the local cluster (meshctl up); on a real cluster use kubectl exec');
  const pod = await call(kc, 'GET', `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(podName)}`);
  if (!pod.spec?.nodeName || pod.status?.phase !== 'Running') {
    throw new MeshError('MESHCTL_POD_NOT_RUNNING', `pod ${ns}/${podName} is ${pod.status?.phase ?? 'unknown'}; wait until it is Running (meshctl get pods -n ${ns})`);
  }
  // Node names are node-<i> (localcluster/network/plan.ts); host-network pods live in the node's netns.
  const netns = pod.spec.hostNetwork
    ? nodeNet(cfg.clusterId, Number(String(pod.spec.nodeName).replace(/^node-/, ''))).netns
    : podNetnsRef(clusterPaths().dir, cfg.clusterId, pod.metadata.uid);
  if (netns === undefined) throw new MeshError('MESHCTL_POD_NOT_RUNNING', `pod ${ns}/${podName} has no network namespace on this machine; is it still running?`);
  const [cmd, ...args] = runnerArgv(netns, argv);
  const child = spawn(cmd!, args, { stdio: 'inherit' });
  return await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 + 9 : 1)));
  });
}
