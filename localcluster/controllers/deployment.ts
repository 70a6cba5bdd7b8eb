// Pure Deployment decision (the ReplicaSet layer is folded in: pods are owned by the Deployment
// directly, labelled pod-template-hash). Scales to spec.replicas; on a template change rolls out,
// creating new-template pods within maxSurge and deleting old ones while at least
// replicas − maxUnavailable pods stay ready (defaults 25 % / 25 %); Recreate deletes first.
import type { V1Deployment, V1Pod, V1PodTemplateSpec } from '@kubernetes/client-node';
import { controllerRef, intOrPercent, isTerminal, isTerminating, stableHash } from './util.ts';
import { podReady } from '../../shared/ambient/enrolment.ts';

export interface WorkloadPlan {
  create: V1Pod[];
  /** Names of pods to delete (same namespace as the owner). */
  delete: string[];
  /** Status to write, or undefined when the current status already says this. */
  status: Record<string, unknown> | undefined;
}

export const templateHashLabel = 'pod-template-hash';

export function deploymentTemplateHash(d: V1Deployment): string {
  return stableHash(d.spec?.template ?? {});
}

export function ownedPods(owner: { metadata?: { uid?: string } }, pods: V1Pod[]): V1Pod[] {
  return pods.filter((p) => controllerRef(p)?.uid === owner.metadata?.uid && !isTerminating(p));
}

export function podFromTemplate(owner: { apiVersion: string; kind: string; name: string; namespace: string; uid: string }, template: V1PodTemplateSpec, name: string, extraLabels: Record<string, string>, nodeName?: string): V1Pod {
  const spec = structuredClone(template.spec ?? { containers: [] });
  if (nodeName) spec.nodeName = nodeName;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: owner.namespace,
      labels: { ...template.metadata?.labels, ...extraLabels },
      annotations: template.metadata?.annotations ? { ...template.metadata.annotations } : undefined,
      ownerReferences: [{ apiVersion: owner.apiVersion, kind: owner.kind, name: owner.name, uid: owner.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec,
  };
}

/** Prefer deleting pods that are not ready, then the newest. */
function deletionOrder(a: V1Pod, b: V1Pod): number {
  const ra = podReady(a) ? 1 : 0;
  const rb = podReady(b) ? 1 : 0;
  if (ra !== rb) return ra - rb;
  return String(b.metadata?.creationTimestamp ?? '').localeCompare(String(a.metadata?.creationTimestamp ?? '')) || (b.metadata?.name ?? '').localeCompare(a.metadata?.name ?? '');
}

function sameStatus(current: unknown, next: Record<string, unknown>): boolean {
  const cur = (current ?? {}) as Record<string, any>;
  for (const k of Object.keys(next)) {
    if (k === 'conditions') continue;
    if ((cur[k] ?? 0) !== next[k]) return false;
  }
  const want = (next.conditions as Array<{ type: string; status: string; reason: string }>);
  return want.every((w) => (cur.conditions ?? []).some((c: any) => c.type === w.type && c.status === w.status && c.reason === w.reason));
}

export function planDeployment(d: V1Deployment, pods: V1Pod[], suffix: () => string, now: string): WorkloadPlan {
  const name = d.metadata?.name ?? '';
  const namespace = d.metadata?.namespace ?? 'default';
  const replicas = d.spec?.replicas ?? 1;
  const hash = deploymentTemplateHash(d);
  const owned = ownedPods(d, pods);
  const finished = owned.filter(isTerminal);
  const live = owned.filter((p) => !isTerminal(p));
  const fresh = live.filter((p) => p.metadata?.labels?.[templateHashLabel] === hash);
  const old = live.filter((p) => p.metadata?.labels?.[templateHashLabel] !== hash);
  const recreate = d.spec?.strategy?.type === 'Recreate';
  let maxSurge = intOrPercent(d.spec?.strategy?.rollingUpdate?.maxSurge as number | string | undefined, replicas, '25%', true);
  let maxUnavailable = intOrPercent(d.spec?.strategy?.rollingUpdate?.maxUnavailable as number | string | undefined, replicas, '25%', false);
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  if (recreate) { maxSurge = 0; maxUnavailable = replicas; }

  const toDelete: V1Pod[] = [...finished];
  let creates = 0;
  if (old.length === 0) {
    if (fresh.length < replicas) creates = replicas - fresh.length;
    else toDelete.push(...[...fresh].sort(deletionOrder).slice(0, fresh.length - replicas));
  } else if (recreate) {
    toDelete.push(...old);
  } else {
    const total = fresh.length + old.length;
    creates = Math.max(0, Math.min(replicas - fresh.length, replicas + maxSurge - total));
    if (fresh.length > replicas) toDelete.push(...[...fresh].sort(deletionOrder).slice(0, fresh.length - replicas));
    const ready = live.filter(podReady).length;
    let canRemoveReady = ready - (replicas - maxUnavailable);
    // Old pods beyond what is needed once new ones exist can go if they are not ready (costs no availability).
    for (const p of [...old].sort(deletionOrder)) {
      if (!podReady(p)) { toDelete.push(p); continue; }
      if (canRemoveReady > 0) { toDelete.push(p); canRemoveReady--; }
    }
  }
  const create: V1Pod[] = [];
  const owner = { apiVersion: 'apps/v1', kind: 'Deployment', name, namespace, uid: d.metadata?.uid ?? '' };
  for (let i = 0; i < creates; i++) {
    create.push(podFromTemplate(owner, d.spec!.template, `${name}-${hash}-${suffix()}`, { [templateHashLabel]: hash }));
  }

  const readyCount = live.filter(podReady).length;
  const updated = fresh.length;
  const available = readyCount >= replicas - maxUnavailable;
  const complete = updated === replicas && old.length === 0 && fresh.filter(podReady).length === replicas;
  const next: Record<string, unknown> = {
    observedGeneration: d.metadata?.generation ?? 0,
    replicas: live.length,
    updatedReplicas: updated,
    readyReplicas: readyCount,
    availableReplicas: readyCount,
    unavailableReplicas: Math.max(0, replicas - readyCount),
    conditions: [
      { type: 'Available', status: available ? 'True' : 'False', reason: available ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable', message: available ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.', lastUpdateTime: now, lastTransitionTime: now },
      { type: 'Progressing', status: 'True', reason: complete ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated', message: complete ? `Deployment "${name}" has successfully progressed.` : `Deployment "${name}" is progressing.`, lastUpdateTime: now, lastTransitionTime: now },
    ],
  };
  return { create, delete: toDelete.map((p) => p.metadata?.name ?? ''), status: sameStatus(d.status, next) ? undefined : next };
}
