// Pure DaemonSet decision: one pod per Ready node matching the template's nodeSelector/affinity,
// placed directly (spec.nodeName set, no scheduler). Template changes replace pods node by node,
// at most maxUnavailable (default 1) nodes without a ready pod at a time. Pods on nodes that no
// longer qualify, and duplicates, are deleted.
import type { V1DaemonSet, V1Node, V1Pod } from '@kubernetes/client-node';
import { intOrPercent, isPodReady, isTerminal, stableHash } from './util.ts';
import { isNodeReady, podFitsNode } from './scheduler.ts';
import { ownedPods, podFromTemplate, type WorkloadPlan } from './deployment.ts';

export const revisionHashLabel = 'controller-revision-hash';

export function planDaemonSet(ds: V1DaemonSet, nodes: V1Node[], pods: V1Pod[], suffix: () => string): WorkloadPlan {
  const name = ds.metadata?.name ?? '';
  const namespace = ds.metadata?.namespace ?? 'default';
  const hash = stableHash(ds.spec?.template ?? {});
  const probe: V1Pod = { spec: ds.spec?.template?.spec ?? { containers: [] } };
  const eligible = nodes.filter((n) => isNodeReady(n) && podFitsNode(probe, n)).map((n) => n.metadata?.name ?? '').sort();
  const eligibleSet = new Set(eligible);
  const owned = ownedPods(ds, pods);
  const byNode = new Map<string, V1Pod[]>();
  const toDelete: V1Pod[] = [];
  for (const p of owned) {
    const node = p.spec?.nodeName ?? '';
    if (!eligibleSet.has(node) || isTerminal(p)) { toDelete.push(p); continue; }
    byNode.set(node, [...(byNode.get(node) ?? []), p]);
  }
  const maxUnavailable = Math.max(1, intOrPercent(ds.spec?.updateStrategy?.rollingUpdate?.maxUnavailable as number | string | undefined, eligible.length, '1', false));
  const onDelete = ds.spec?.updateStrategy?.type === 'OnDelete';
  let unavailable = eligible.filter((n) => !(byNode.get(n) ?? []).some(isPodReady)).length;
  const create: V1Pod[] = [];
  const owner = { apiVersion: 'apps/v1', kind: 'DaemonSet', name, namespace, uid: ds.metadata?.uid ?? '' };
  let current = 0, ready = 0, updated = 0;
  for (const node of eligible) {
    const here = byNode.get(node) ?? [];
    if (here.length === 0) {
      create.push(podFromTemplate(owner, ds.spec!.template, `${name}-${suffix()}`, { [revisionHashLabel]: hash }, node));
      continue;
    }
    current++;
    if (here.some(isPodReady)) ready++;
    const fresh = here.filter((p) => p.metadata?.labels?.[revisionHashLabel] === hash);
    if (fresh.length > 0) updated++;
    // Keep one pod per node: prefer a current-template one, then a ready one.
    const keep = [...here].sort((a, b) => score(b, hash) - score(a, hash))[0] as V1Pod;
    for (const p of here) if (p !== keep) toDelete.push(p);
    if (keep.metadata?.labels?.[revisionHashLabel] !== hash && !onDelete) {
      const costsAvailability = isPodReady(keep);
      if (!costsAvailability || unavailable < maxUnavailable) {
        toDelete.push(keep);
        if (costsAvailability) unavailable++;
      }
    }
  }
  const next: Record<string, number> = {
    desiredNumberScheduled: eligible.length,
    currentNumberScheduled: current,
    numberReady: ready,
    updatedNumberScheduled: updated,
    numberAvailable: ready,
    numberUnavailable: eligible.length - ready,
    numberMisscheduled: owned.filter((p) => !eligibleSet.has(p.spec?.nodeName ?? '')).length,
    observedGeneration: ds.metadata?.generation ?? 0,
  };
  const cur = (ds.status ?? {}) as Record<string, unknown>;
  const same = Object.entries(next).every(([k, v]) => (cur[k] ?? 0) === v);
  return { create, delete: toDelete.map((p) => p.metadata?.name ?? ''), status: same ? undefined : next };
}

function score(p: V1Pod, hash: string): number {
  return (p.metadata?.labels?.[revisionHashLabel] === hash ? 2 : 0) + (isPodReady(p) ? 1 : 0);
}
