// Whether a stopping ztunnel is being uninstalled (remove the capture rules from every pod) or replaced (keep them,
// so the next ztunnel finds the pods captured: upgrades and restarts must never leave a pod uncaptured). Only
// positive evidence means uninstall: its namespace is terminating, or its DaemonSet is gone or being deleted.
// Anything unknown (API unreachable, forbidden because the RBAC objects went first) keeps the rules. Pure.

export type DaemonSetState = 'present' | 'deleting' | 'gone' | 'unknown';

export interface UninstallEvidence {
  /** ztunnel's own namespace as the agent's Namespace informer last saw it; undefined when it has not. */
  namespaceTerminating: boolean | undefined;
  /** The DaemonSet that owns ztunnel's pod, read when ztunnel stops. */
  daemonSet: DaemonSetState;
}

/** The reason to remove the rules, or undefined to keep them. */
export function uninstallReason(e: UninstallEvidence, names: { namespace: string; daemonSet: string | undefined }): string | undefined {
  if (e.namespaceTerminating) return `namespace ${names.namespace} is being deleted`;
  if (e.daemonSet === 'gone') return `daemonset ${names.namespace}/${names.daemonSet ?? '?'} no longer exists`;
  if (e.daemonSet === 'deleting') return `daemonset ${names.namespace}/${names.daemonSet ?? '?'} is being deleted`;
  return undefined;
}
