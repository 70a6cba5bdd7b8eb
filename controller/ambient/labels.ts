// Istio's well-known label/annotation keys and the small label-derived facts: selector matching, workload name from
// owner references, canonical service name/revision.
import type { V1Pod } from '@kubernetes/client-node';

export {
  DATAPLANE_MODE, USE_WAYPOINT, USE_WAYPOINT_NAMESPACE, WAYPOINT_FOR, SIDECAR_STATUS, GATEWAY_NAME, TRAFFIC_DISTRIBUTION,
  WAYPOINT_CLASS, HBONE_PORT,
} from '../../shared/ambient/keys.ts';

export type Labels = Record<string, string> | undefined;

/** A non-empty selector matches labels that carry every selector pair; an empty/absent selector matches nothing. */
export function selectsNonEmpty(selector: Labels, labels: Labels): boolean {
  if (!selector) return false;
  const entries = Object.entries(selector);
  if (entries.length === 0) return false;
  return entries.every(([k, v]) => labels?.[k] === v);
}

/**
 * The owning workload's name: a ReplicaSet's Deployment (pod-template-hash suffix stripped), a Job's CronJob (the
 * trailing schedule suffix stripped when the Job name is `<cronjob>-<digits>`), or any other controller's name;
 * a pod without a controller is its own workload.
 */
export function workloadName(pod: V1Pod): string {
  const meta = pod.metadata ?? {};
  const name = meta.name ?? '';
  const owners = meta.ownerReferences ?? [];
  const owner = owners.find((o) => o.controller) ?? owners[0];
  if (!owner) return name;
  if (owner.kind === 'ReplicaSet') {
    const hash = meta.labels?.['pod-template-hash'];
    if (hash && owner.name.endsWith(`-${hash}`)) return owner.name.slice(0, -(hash.length + 1));
    return owner.name;
  }
  if (owner.kind === 'Job') {
    const m = /^(.+)-\d{8,10}$/.exec(owner.name);
    return m?.[1] ?? owner.name;
  }
  return owner.name;
}

/** Canonical service name and revision, Istio's order of precedence; revision defaults to `latest`. */
export function canonicalService(labels: Labels, fallbackName: string): { name: string; revision: string } {
  const l = labels ?? {};
  const name = l['service.istio.io/canonical-name'] || l['app.kubernetes.io/name'] || l.app || fallbackName;
  const revision = l['service.istio.io/canonical-revision'] || l['app.kubernetes.io/version'] || l.version || 'latest';
  return { name, revision };
}
