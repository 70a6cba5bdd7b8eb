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
export { startKubelet, defaultCatalogue } from './kubelet.ts';
export { defaultRunner } from './runner.ts';
export { defaultProber } from './prober.ts';
export { nodeProber } from './prober-node.ts';
export { maxGraceMs } from './worker.ts';
export { KubeletError } from './errors.ts';
export type {
  Kubelet, KubeletOptions, PodNetwork, PodNetworkInfo, ProcessRunner, RunningProcess, StartProcess,
  ExitResult, Prober, HttpProbeSpec, ImageCatalogue, PodLogOptions,
} from './types.ts';
