// Contracts the kubelet depends on, so the daemon can wire the real implementations (pod network
// from localcluster/network, native-socket prober from shared/netsock) and tests can use fakes.
import type { Readable } from 'node:stream';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../shared/log.ts';

/** Creates and removes a pod's network namespace. `netns` undefined = run in the caller's namespace (tests). */
export interface PodNetwork {
  setupPod(pod: { uid: string; namespace: string; name: string; hostNetwork: boolean }): Promise<PodNetworkInfo>;
  teardownPod(uid: string): Promise<void>;
}

/**
 * A network namespace to run in: a name as `ip netns` knows it, or an anonymous pod netns (no name; a holder
 * process keeps it, localcluster/network/holder.ts) entered by `path` (/proc/<pid>/ns/net), with the /etc/netns
 * directory whose files `ip netns exec` would bind-mount over /etc (the pod's resolv.conf and hosts).
 */
export type NetnsRef = string | { path: string; etcDir: string };

export interface PodNetworkInfo {
  /** The pod's netns; undefined runs containers without entering one. */
  netns: NetnsRef | undefined;
  ip: string;
  hostIP: string;
}

export interface ExitResult {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunningProcess {
  /** Process id (also its process-group id); 0 when the process could not be spawned. */
  pid: number;
  exited: Promise<ExitResult>;
  /** Signal the whole process group; a no-op once it has exited. */
  kill(signal: NodeJS.Signals): void;
}

export interface StartProcess {
  netns: NetnsRef | undefined;
  argv: string[];
  env: Record<string, string>;
  logFile: string;
  cwd?: string;
}

export interface ProcessRunner {
  start(spec: StartProcess): RunningProcess;
}

export interface HttpProbeSpec {
  netns: NetnsRef | undefined;
  host: string;
  port: number;
  path: string;
  scheme: 'HTTP' | 'HTTPS';
  headers: Record<string, string>;
  timeoutMs: number;
}

export interface Prober {
  /** Resolves with the HTTP status; rejects on connection failure or timeout. */
  http(spec: HttpProbeSpec): Promise<number>;
  /** Resolves once a TCP connection is established; rejects otherwise. */
  tcp(spec: { netns: NetnsRef | undefined; host: string; port: number; timeoutMs: number }): Promise<void>;
  /** Resolves with the command's exit code; rejects on timeout. */
  exec(spec: { netns: NetnsRef | undefined; argv: string[]; timeoutMs: number }): Promise<number>;
}

/** What the kubelet needs from the image catalogue (localcluster/images `resolveImage`). */
export interface ImageCatalogue {
  resolve(image: string): { argv: string[]; defaultArgs?: string[]; defaultEnv?: Record<string, string> } | undefined;
  known(): string[];
}

export interface KubeletOptions {
  kubeconfig: KubeConfig;
  nodeName: string;
  node: { ip: string; podCidr: string; labels?: Record<string, string> };
  network: PodNetwork;
  runner?: ProcessRunner;
  prober?: Prober;
  logsDir: string;
  imageCatalogue?: ImageCatalogue;
  logger?: Logger;
  /** How often the Node's Ready condition is refreshed (default 10 s). */
  heartbeatMs?: number;
  /**
   * The cluster's state directory (creation record, `pods/<uid>/volumes`). Given: pod volumes, volumeMounts and
   * the service-account token automount are honoured (needs root: bind mounts). Absent: volumes are ignored.
   */
  stateDir?: string;
  /** ConfigMap/Secret volume re-read period (default 5 s). */
  volumePollMs?: number;
}

export interface PodLogOptions {
  container?: string;
  follow?: boolean;
  tailLines?: number;
  /** Accepted for the API server's signature; logs of restarts share one file, so ignored. */
  previous?: boolean;
}

export interface Kubelet {
  /** Stop watching; pods keep running unless `killPods` (then they are stopped and their networks removed). */
  stop(opts?: { killPods?: boolean }): Promise<void>;
  /**
   * A container's log (follow: until the pod leaves this node). Undefined when this node has no
   * logs for the pod, so a provider can ask every kubelet; throws KUBELET_CONTAINER_NOT_FOUND for
   * a container the pod does not have.
   */
  podLogs(namespace: string, pod: string, opts?: PodLogOptions): Readable | undefined;
}
