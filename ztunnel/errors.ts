// ztunnel's error catalogue for the parts outside its subfolders (config, node agent, proxy glue).
import { MeshError } from '../shared/errors.ts';

export class ZtunnelError extends MeshError {}

export class ZtunnelConfigError extends ZtunnelError {
  constructor(message: string) {
    super('ZT_BAD_CONFIG', message);
  }
}

/** A captured pod's network namespace could not be found (the pod may have just been deleted). */
export class PodNetnsNotFoundError extends ZtunnelError {
  constructor(pod: string, ip: string) {
    super('ZT_POD_NETNS_NOT_FOUND', `no network namespace holds ${ip} (pod ${pod}); is the pod still running, and does ztunnel see the host's /proc?`);
  }
}

/** Inbound traffic for a workload the proxy has no xDS state for: refused (fail closed). */
export class UnknownWorkloadError extends ZtunnelError {
  constructor(ip: string) {
    super('ZT_UNKNOWN_WORKLOAD', `no workload with address ${ip} in the control plane's state yet; connection refused until it arrives`);
  }
}
