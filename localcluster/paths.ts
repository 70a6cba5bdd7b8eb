// Where one local cluster keeps its state: $MESHCTL_HOME (default <repo>/.state) / cluster.
// Shared by the CLI (which starts and stops the daemon) and the daemon itself.
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface ClusterPaths {
  dir: string;
  config: string; // ClusterConfig (json)
  apiserverDir: string; // the API server's objects, CA, keys
  kubeconfig: string;
  pidFile: string; // the daemon's pid
  statusFile: string; // the daemon's progress and readiness (json)
  daemonLog: string;
  logsDir: string; // container logs
}

export interface ClusterConfig {
  /** Short id prefixed to every netns the cluster creates, so several clusters never collide. */
  clusterId: string;
  nodes: number;
  /** How pod network namespaces are kept: 'named' (`ip netns`, the default; absent means named) or 'anonymous'
   *  (held by a process only, as a container runtime's pause container does; `meshctl up --pod-netns anonymous`). */
  podNetns?: 'named' | 'anonymous';
}

export interface DaemonStatus {
  pid: number;
  phase: string;
  ready: boolean;
  error?: string;
  apiUrl?: string;
}

export function clusterPaths(home = process.env.MESHCTL_HOME ?? join(repoRoot, '.state')): ClusterPaths {
  const dir = join(home, 'cluster');
  const apiserverDir = join(dir, 'apiserver');
  return {
    dir,
    config: join(dir, 'config.json'),
    apiserverDir,
    kubeconfig: join(apiserverDir, 'kubeconfig'),
    pidFile: join(dir, 'daemon.pid'),
    statusFile: join(dir, 'status.json'),
    daemonLog: join(dir, 'daemon.log'),
    logsDir: join(dir, 'logs'),
  };
}
