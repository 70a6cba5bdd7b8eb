// Face of the kubelet: one per node, running the pods bound to it as local processes (one process
// group per container, inside the pod's netns), publishing their status and serving their logs.
//
// Deliberate differences from Kubernetes, for a fast local loop:
// - crash-loop backoff 1 s doubling to 30 s, reset after 60 s of running (Kubernetes: 10 s → 5 min, 10 min);
// - terminationGracePeriodSeconds capped at 10 s (maxGraceMs);
// - probes run from inside the pod's netns against the pod IP (Kubernetes probes from the node);
//   exec probes run the command in the pod's netns on the host filesystem (there are no images);
//   gRPC and startup probes are not implemented (a gRPC probe counts as passing);
// - all restarts append to one log file per container, so `previous` logs are the same file;
// - a pod already Succeeded/Failed is not rerun after a kubelet restart; a running one is started again.
// Volumes (when `stateDir` is given): projected (serviceAccountToken, configMap, secret, downwardAPI), configMap,
// secret, downwardAPI, emptyDir and hostPath, materialised under <stateDir>/pods/<uid>/volumes and bind-mounted by a
// shim inside each container's private mount namespace (volumes.ts, mount-plan.ts); the service-account token is
// automounted as Kubernetes' admission would; mountpoints missing on the host are created and recorded
// (host-paths.ts). Differences: ConfigMaps/Secrets are polled (5 s) rather than watched; kube-root-ca.crt falls
// back to the API server's CA when no such ConfigMap exists; mountPropagation, medium: Memory, sizeLimit and
// container securityContext are ignored.
export { startKubelet, defaultCatalogue } from './kubelet.ts';
export { defaultRunner, runnerArgv, ENTER_SHIM } from './runner.ts';
export { defaultProber } from './prober.ts';
export { nodeProber } from './prober-node.ts';
export { maxGraceMs } from './worker.ts';
export { KubeletError } from './errors.ts';
export { SA_MOUNT_PATH } from './volume-plan.ts';
export type { VolumeApi } from './volumes.ts';
export type {
  Kubelet, KubeletOptions, NetnsRef, PodNetwork, PodNetworkInfo, ProcessRunner, RunningProcess, StartProcess,
  ExitResult, Prober, HttpProbeSpec, ImageCatalogue, PodLogOptions,
} from './types.ts';
