// The capture error catalogue: stable codes for everything capturePod / releasePod / isCaptured /
// findPodNetns and the pure renderers can fail with. Messages are lower-case and say what to do.
import { MeshError } from '../../shared/errors.ts';

/** A system tool the capture needs (nsenter, nft, ip) is not on PATH. */
export class CaptureToolMissingError extends MeshError {
  constructor(tool: string, pkg: string) {
    super('ZT_CAPTURE_TOOL_MISSING', `${tool} not found on PATH; install ${pkg} on the node (apt-get install ${pkg})`);
  }
}

/** The network namespace file is gone (pod deleted, process exited) or was never a namespace. */
export class CaptureNetnsMissingError extends MeshError {
  constructor(netnsPath: string, options?: { cause?: unknown }) {
    super(
      'ZT_CAPTURE_NETNS_MISSING',
      `network namespace ${netnsPath} does not exist; was the pod deleted? find it again with findPodNetns`,
      options,
    );
  }
}

/** Options handed to renderPodRules are impossible (a bug or bad startup config, not bad traffic). */
export class CaptureBadConfigError extends MeshError {
  constructor(detail: string) {
    super('ZT_CAPTURE_BAD_CONFIG', `bad capture config: ${detail}`);
  }
}

/** Installing the rules or the policy routing failed; the pod's traffic is not (fully) captured. */
export class CaptureFailedError extends MeshError {
  constructor(netnsPath: string, detail: string, options?: { cause?: unknown }) {
    super(
      'ZT_CAPTURE_FAILED',
      `capturing traffic in ${netnsPath} failed: ${detail}; check that ztunnel runs with CAP_NET_ADMIN and CAP_SYS_ADMIN ` +
        `and that the kernel has nf_tables nat support (modprobe nft_redirect)`,
      options,
    );
  }
}

/** Removing the rules or the policy routing failed; the pod may still be (partly) captured. */
export class CaptureReleaseFailedError extends MeshError {
  constructor(netnsPath: string, detail: string, options?: { cause?: unknown }) {
    super(
      'ZT_CAPTURE_RELEASE_FAILED',
      `releasing ${netnsPath} failed: ${detail}; retry, or delete the table by hand: ` +
        `nsenter --net=${netnsPath} nft delete table inet ztunnel`,
      options,
    );
  }
}

/** Reading the state of a namespace (is it captured?) failed for a reason other than "not captured". */
export class CaptureInspectFailedError extends MeshError {
  constructor(netnsPath: string, detail: string, options?: { cause?: unknown }) {
    super('ZT_CAPTURE_INSPECT_FAILED', `inspecting ${netnsPath} failed: ${detail}`, options);
  }
}
