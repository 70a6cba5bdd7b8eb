// Pure scheduling decision: each pending pod (no spec.nodeName) goes to a Ready, schedulable node
// whose labels satisfy the pod's nodeSelector and required node affinity, fewest pods first
// (ties by name). Pods that fit nowhere get PodScheduled=False/Unschedulable, once.
import type { V1Node, V1NodeSelectorTerm, V1Pod } from '@kubernetes/client-node';
import { isTerminal, isTerminating } from './util.ts';
import { expressionMatches, labelsMatch } from '../../shared/labels.ts';

export type SchedulingAction =
  | { kind: 'bind'; namespace: string; pod: string; node: string }
  | { kind: 'unschedulable'; namespace: string; pod: string; message: string };

export function isNodeReady(n: V1Node): boolean {
  return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true && n.spec?.unschedulable !== true;
}

function termMatches(term: V1NodeSelectorTerm, n: V1Node): boolean {
  const labels = n.metadata?.labels ?? {};
  return (term.matchExpressions ?? []).every((e) => expressionMatches(e, labels)) && (term.matchFields ?? []).every((f) => f.key !== 'metadata.name' || (f.operator === 'In') === (f.values ?? []).includes(n.metadata?.name ?? ''));
}

export function podFitsNode(pod: V1Pod, n: V1Node): boolean {
  if (!labelsMatch(pod.spec?.nodeSelector, n.metadata?.labels)) return false;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  return !terms || terms.length === 0 || terms.some((t) => termMatches(t, n));
}

export function isPendingUnscheduled(p: V1Pod): boolean {
  return !p.spec?.nodeName && !isTerminating(p) && !isTerminal(p) && (p.spec?.schedulerName ?? 'default-scheduler') === 'default-scheduler';
}

export function planScheduling(pods: V1Pod[], nodes: V1Node[]): SchedulingAction[] {
  const ready = nodes.filter(isNodeReady).sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  const load = new Map<string, number>(ready.map((n) => [n.metadata?.name ?? '', 0]));
  for (const p of pods) {
    const node = p.spec?.nodeName;
    if (node && load.has(node) && !isTerminal(p)) load.set(node, (load.get(node) ?? 0) + 1);
  }
  const actions: SchedulingAction[] = [];
  const pending = pods.filter(isPendingUnscheduled).sort((a, b) =>
    String(a.metadata?.creationTimestamp ?? '').localeCompare(String(b.metadata?.creationTimestamp ?? '')) || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  for (const p of pending) {
    const namespace = p.metadata?.namespace ?? 'default';
    const pod = p.metadata?.name ?? '';
    const fits = ready.filter((n) => podFitsNode(p, n));
    if (fits.length === 0) {
      const message = `0/${nodes.length} nodes are available: ${nodes.length - ready.length} node(s) not ready, ${ready.length} node(s) didn't match Pod's node affinity/selector.`;
      const cur = p.status?.conditions?.find((c) => c.type === 'PodScheduled');
      if (!(cur?.status === 'False' && cur.reason === 'Unschedulable' && cur.message === message)) actions.push({ kind: 'unschedulable', namespace, pod, message });
      continue;
    }
    let best = fits[0] as V1Node;
    for (const n of fits) if ((load.get(n.metadata?.name ?? '') ?? 0) < (load.get(best.metadata?.name ?? '') ?? 0)) best = n;
    const node = best.metadata?.name ?? '';
    load.set(node, (load.get(node) ?? 0) + 1);
    actions.push({ kind: 'bind', namespace, pod, node });
  }
  return actions;
}
