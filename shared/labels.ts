// Kubernetes label-selector semantics, in one place: matchLabels (every pair present) and set-based
// requirements (In, NotIn, Exists, DoesNotExist). Pure; used by the local API server's admission and the
// local controllers (node selector terms share the requirement form).
export type Labels = Readonly<Record<string, string>> | undefined;

export interface SelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: SelectorRequirement[];
}

/** Every selector pair is on `labels` (an empty or absent selector matches). */
export function labelsMatch(selector: Labels, labels: Labels): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
}

/** One set-based requirement; an unknown operator matches nothing. */
export function expressionMatches(e: SelectorRequirement, labels: Labels): boolean {
  const has = labels !== undefined && Object.hasOwn(labels, e.key);
  const v = labels?.[e.key];
  switch (e.operator) {
    case 'In': return has && (e.values ?? []).includes(v as string);
    case 'NotIn': return !has || !(e.values ?? []).includes(v as string);
    case 'Exists': return has;
    case 'DoesNotExist': return !has;
    default: return false;
  }
}

/** A full LabelSelector; an absent selector matches nothing (as for workload selectors). */
export function labelSelectorMatches(sel: LabelSelector | undefined, labels: Labels): boolean {
  if (!sel) return false;
  return labelsMatch(sel.matchLabels, labels) && (sel.matchExpressions ?? []).every((e) => expressionMatches(e, labels));
}
