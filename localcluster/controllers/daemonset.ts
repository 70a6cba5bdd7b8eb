// Pure DaemonSet decision: one pod per Ready node matching the template's nodeSelector/affinity,
// placed directly (spec.nodeName set, no scheduler). Template changes replace pods node by node:
// with rollingUpdate.maxSurge > 0 (as Kubernetes does) the new pod starts next to the old one on at most
// maxSurge nodes at a time and the old one is deleted once the new one is Ready; otherwise at most
// maxUnavailable (default 1) nodes are without a ready pod at a time. Pods on nodes that no longer
// qualify, and duplicates, are deleted.
import type { V1DaemonSet, V1Node, V1Pod } from '@kubernetes/client-node';
import { intOrPercent, isTerminal, stableHash } from './util.ts';
import { podReady } from '../../shared/ambient/enrolment.ts';
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
  const rolling = ds.spec?.updateStrategy?.rollingUpdate;
  const onDelete = ds.spec?.updateStrategy?.type === 'OnDelete';
  const maxSurge = onDelete ? 0 : intOrPercent(rolling?.maxSurge as number | string | undefined, eligible.length, '0', true);
  const maxUnavailable = intOrPercent(rolling?.maxUnavailable as number | string | undefined, eligible.length, '1', false) || (maxSurge > 0 ? 0 : 1);
  const isFresh = (p: V1Pod): boolean => p.metadata?.labels?.[revisionHashLabel] === hash;
  // Nodes already running an old and a new pod side by side count against maxSurge.
  let surging = eligible.filter((n) => { const h = byNode.get(n) ?? []; return h.some(isFresh) && h.some((p) => !isFresh(p)); }).length;
  let unavailable = eligible.filter((n) => !(byNode.get(n) ?? []).some(podReady)).length;
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
    if (here.some(podReady)) ready++;
    const fresh = here.filter(isFresh);
    if (fresh.length > 0) updated++;
    if (maxSurge > 0) {
      const keepFresh = best(fresh, hash);
      const keepOld = best(here.filter((p) => !isFresh(p)), hash);
      for (const p of here) if (p !== keepFresh && p !== keepOld) toDelete.push(p);
      if (keepOld && keepFresh) {
        // The successor is up: the old pod goes (it drains on SIGTERM). Until then both run.
        if (podReady(keepFresh) || !podReady(keepOld)) toDelete.push(keepOld);
      } else if (keepOld) {
        if (!podReady(keepOld)) toDelete.push(keepOld); // not serving anyway: replace it (recreated next pass)
        else if (surging < maxSurge) {
          create.push(podFromTemplate(owner, ds.spec!.template, `${name}-${suffix()}`, { [revisionHashLabel]: hash }, node));
          surging++;
        }
      }
      continue;
    }
    // Keep one pod per node: prefer a current-template one, then a ready one.
    const keep = [...here].sort((a, b) => score(b, hash) - score(a, hash))[0] as V1Pod;
    for (const p of here) if (p !== keep) toDelete.push(p);
    if (keep.metadata?.labels?.[revisionHashLabel] !== hash && !onDelete) {
      const costsAvailability = podReady(keep);
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

/** The pod to keep among several of one template: ready first. */
function best(pods: V1Pod[], hash: string): V1Pod | undefined {
  return [...pods].sort((a, b) => score(b, hash) - score(a, hash))[0];
}

function score(p: V1Pod, hash: string): number {
  return (p.metadata?.labels?.[revisionHashLabel] === hash ? 2 : 0) + (podReady(p) ? 1 : 0);
}
