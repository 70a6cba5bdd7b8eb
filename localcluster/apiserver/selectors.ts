// Label and field selectors: parse the query-string syntax into predicates (pure; errors are 400 BadRequest).
import { badRequest } from './status.ts';

type Obj = Record<string, any>;
export type Predicate = (obj: Obj) => boolean;

interface Requirement { key: string; op: '=' | '!=' | 'in' | 'notin' | 'exists' | '!exists'; values: string[] }

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Split on commas that are not inside parentheses (`a in (x,y),b`). */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) { out.push(cur); cur = ''; continue; }
    cur += ch;
  }
  if (depth !== 0) throw badRequest(`unable to parse requirement: unbalanced parentheses in "${s}"`);
  out.push(cur);
  return out.map((t) => t.trim()).filter((t) => t !== '');
}

function checkKey(key: string, sel: string): void {
  if (!KEY.test(key)) throw badRequest(`unable to parse requirement: invalid label key "${key}" in selector "${sel}"`);
}
function checkValue(v: string, sel: string): void {
  if (v.length > 63 || !VALUE.test(v)) throw badRequest(`unable to parse requirement: invalid label value "${v}" in selector "${sel}"`);
}

export function parseLabelSelector(sel: string): Requirement[] {
  const reqs: Requirement[] = [];
  for (const term of splitTerms(sel)) {
    let m: RegExpMatchArray | null;
    if ((m = term.match(/^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/))) {
      const values = m[3]!.split(',').map((v) => v.trim()).filter((v) => v !== '');
      checkKey(m[1]!, sel);
      values.forEach((v) => checkValue(v, sel));
      reqs.push({ key: m[1]!, op: m[2] as 'in' | 'notin', values });
    } else if ((m = term.match(/^([^=!\s]+)\s*(==|!=|=)\s*(\S*)$/))) {
      checkKey(m[1]!, sel);
      checkValue(m[3]!, sel);
      reqs.push({ key: m[1]!, op: m[2] === '!=' ? '!=' : '=', values: [m[3]!] });
    } else if ((m = term.match(/^!\s*(\S+)$/))) {
      checkKey(m[1]!, sel);
      reqs.push({ key: m[1]!, op: '!exists', values: [] });
    } else if (KEY.test(term)) {
      reqs.push({ key: term, op: 'exists', values: [] });
    } else {
      throw badRequest(`unable to parse requirement: "${term}" in label selector "${sel}"; expected key, !key, key=value, key!=value, key in (a,b) or key notin (a,b)`);
    }
  }
  return reqs;
}

function matchesRequirement(labels: Record<string, string>, r: Requirement): boolean {
  const has = Object.hasOwn(labels, r.key);
  const v = labels[r.key];
  switch (r.op) {
    case '=': return has && v === r.values[0];
    case '!=': return !has || v !== r.values[0];
    case 'in': return has && r.values.includes(v!);
    case 'notin': return !has || !r.values.includes(v!);
    case 'exists': return has;
    case '!exists': return !has;
  }
}

export function labelPredicate(sel: string | undefined): Predicate | undefined {
  if (!sel || !sel.trim()) return undefined;
  const reqs = parseLabelSelector(sel);
  return (obj) => {
    const labels = (obj.metadata?.labels ?? {}) as Record<string, string>;
    return reqs.every((r) => matchesRequirement(labels, r));
  };
}

// Field paths each kind supports beyond metadata.name / metadata.namespace (as in Kubernetes).
const FIELDS: Record<string, Record<string, (o: Obj) => string>> = {
  Pod: {
    'spec.nodeName': (o) => o.spec?.nodeName ?? '',
    'status.phase': (o) => o.status?.phase ?? '',
    'spec.serviceAccountName': (o) => o.spec?.serviceAccountName ?? '',
    'status.podIP': (o) => o.status?.podIP ?? '',
  },
  Event: {
    'involvedObject.kind': (o) => o.involvedObject?.kind ?? '',
    'involvedObject.name': (o) => o.involvedObject?.name ?? '',
    'involvedObject.namespace': (o) => o.involvedObject?.namespace ?? '',
    'involvedObject.uid': (o) => o.involvedObject?.uid ?? '',
    'involvedObject.apiVersion': (o) => o.involvedObject?.apiVersion ?? '',
    'involvedObject.resourceVersion': (o) => o.involvedObject?.resourceVersion ?? '',
    'involvedObject.fieldPath': (o) => o.involvedObject?.fieldPath ?? '',
    reason: (o) => o.reason ?? '',
    type: (o) => o.type ?? '',
    source: (o) => o.source?.component ?? '',
  },
  Namespace: { 'status.phase': (o) => o.status?.phase ?? '' },
  Secret: { type: (o) => o.type ?? '' },
  Node: { 'spec.unschedulable': (o) => String(o.spec?.unschedulable ?? false) },
};

export function fieldPredicate(sel: string | undefined, kind: string): Predicate | undefined {
  if (!sel || !sel.trim()) return undefined;
  const tests: Predicate[] = [];
  for (const term of sel.split(',').map((t) => t.trim()).filter((t) => t)) {
    const m = term.match(/^([^=!]+?)\s*(==|!=|=)\s*(.*)$/);
    if (!m) throw badRequest(`invalid field selector "${term}": expected field=value or field!=value`);
    const [, field, op, value] = m as unknown as [string, string, string, string];
    let get: ((o: Obj) => string) | undefined;
    if (field === 'metadata.name') get = (o) => o.metadata?.name ?? '';
    else if (field === 'metadata.namespace') get = (o) => o.metadata?.namespace ?? '';
    else get = FIELDS[kind]?.[field];
    if (!get) throw badRequest(`"${field}" is not a known field selector: field label not supported: ${field}`);
    const g = get;
    tests.push(op === '!=' ? (o) => g(o) !== value : (o) => g(o) === value);
  }
  return (o) => tests.every((t) => t(o));
}

export function andPredicates(...ps: (Predicate | undefined)[]): Predicate | undefined {
  const defined = ps.filter((p): p is Predicate => p !== undefined);
  if (defined.length === 0) return undefined;
  return (o) => defined.every((p) => p(o));
}
