// Owns AuthorizationPolicy → istio.security.Authorization for ztunnel (L4), following Istio's
// ambient conversion (pilot/pkg/serviceregistry/kube/controller/ambient/authorization.go):
// - scope: selector → WORKLOAD_SELECTOR; none → NAMESPACE, or GLOBAL in the root namespace;
//   targetRef(s) bind to waypoints and are not sent to ztunnel.
// - each policy rule becomes one Rule (Istio's Group): one Clause (Istio's Rules) of the `to`
//   matches, one of the `from` matches, one per `when` condition (clauses AND-ed, matches OR-ed).
// - L7 attributes fail closed: an ALLOW rule using any is dropped (it can never match, so the policy
//   stays and allows less); a DENY rule keeps only its L4 parts (it denies more). Both are accepted
//   with an UnsupportedValue warning, as Istio does.
// - AUDIT and CUSTOM are not enforced by ztunnel: nothing is sent, status says why.
// - `istio.io/dry-run: "true"` sets dryRun (as Istio does since #58657) when the wire carries it;
//   otherwise the policy is not sent, since a ztunnel blind to the flag would enforce it.

import { PolicyInvalidError } from './errors.ts';
import {
  type Obj, readEnum, readList, readObj, readSelector, readStrings, readTargetRefs, isObj, describe,
} from './spec.ts';
import type { Address, Authorization, Clause, Conversion, ConvertOptions, Match, PolicyResource, Rule, Scope, StringMatch } from './types.ts';
import { DEFAULT_ROOT_NAMESPACE } from './types.ts';
import { toAddress, toPort, toStringMatch } from './values.ts';

export const DRY_RUN_ANNOTATION = 'istio.io/dry-run';

const SOURCE_FIELDS = [
  'principals', 'notPrincipals', 'requestPrincipals', 'notRequestPrincipals', 'namespaces', 'notNamespaces',
  'ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks', 'serviceAccounts', 'notServiceAccounts',
] as const;
const OPERATION_FIELDS = ['hosts', 'notHosts', 'ports', 'notPorts', 'methods', 'notMethods', 'paths', 'notPaths'] as const;

/** Source fields ztunnel cannot see (Istio's httpSources). */
const L7_SOURCE_FIELDS = ['remoteIpBlocks', 'notRemoteIpBlocks', 'requestPrincipals', 'notRequestPrincipals'] as const;
/** Operation fields ztunnel cannot see (Istio's httpOperations). */
const L7_OPERATION_FIELDS = ['hosts', 'notHosts', 'methods', 'notMethods', 'paths', 'notPaths'] as const;

/** `when` keys ztunnel evaluates (Istio's l4WhenAttributes); every other known key is L7. */
const L4_WHEN_KEYS = ['source.ip', 'source.namespace', 'source.principal', 'destination.ip', 'destination.port'] as const;
const KNOWN_WHEN_KEYS = [
  ...L4_WHEN_KEYS, 'remote.ip', 'source.serviceAccount', 'request.auth.principal', 'request.auth.audiences',
  'request.auth.presenter', 'connection.sni',
];
const KNOWN_WHEN_PREFIXES = ['request.headers[', 'request.auth.claims[', 'experimental.envoy.filters.'];

type Source = Record<(typeof SOURCE_FIELDS)[number], string[]>;
type Operation = Record<(typeof OPERATION_FIELDS)[number], string[]>;
interface Condition { key: string; values: string[]; notValues: string[] }
interface PolicyRule { from: Source[]; to: Operation[]; when: Condition[] }

function parseList<T>(values: string[], field: string, f: (v: string) => T | undefined, what: string): T[] {
  return values.map((v, i) => {
    const r = f(v);
    if (r === undefined) throw new PolicyInvalidError(`${field}[${i}]`, `invalid ${what} ${JSON.stringify(v)}`);
    return r;
  });
}

const STRING_HINT = "string (use `*` alone, or only as a prefix or suffix)";
const IP_HINT = 'IP address or CIDR (e.g. 10.0.0.1 or 10.0.0.0/8)';
const PORT_HINT = 'port (a decimal number 1-65535, written as a string)';

function parseSource(v: unknown, field: string): Source {
  const o = readObj(v, field, SOURCE_FIELDS);
  const s = Object.fromEntries(SOURCE_FIELDS.map((k) => [k, readStrings(o[k], `${field}.${k}`)])) as Source;
  if (SOURCE_FIELDS.every((k) => s[k].length === 0)) throw new PolicyInvalidError(field, 'must not be empty; set at least one field');
  for (const k of ['principals', 'notPrincipals', 'namespaces', 'notNamespaces', 'requestPrincipals', 'notRequestPrincipals'] as const) {
    parseList(s[k], `${field}.${k}`, toStringMatch, STRING_HINT);
  }
  for (const k of ['ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks'] as const) {
    parseList(s[k], `${field}.${k}`, toAddress, IP_HINT);
  }
  for (const k of ['serviceAccounts', 'notServiceAccounts'] as const) {
    s[k].forEach((sa, i) => {
      const parts = sa.split('/');
      if (parts.length > 2 || parts.some((p) => p === '' || p.includes('*'))) {
        throw new PolicyInvalidError(`${field}.${k}[${i}]`, `invalid service account ${JSON.stringify(sa)}; use "name" or "namespace/name"`);
      }
    });
  }
  return s;
}

function parseOperation(v: unknown, field: string): Operation {
  const o = readObj(v, field, OPERATION_FIELDS);
  const op = Object.fromEntries(OPERATION_FIELDS.map((k) => [k, readStrings(o[k], `${field}.${k}`)])) as Operation;
  if (OPERATION_FIELDS.every((k) => op[k].length === 0)) throw new PolicyInvalidError(field, 'must not be empty; set at least one field');
  parseList(op.ports, `${field}.ports`, toPort, PORT_HINT);
  parseList(op.notPorts, `${field}.notPorts`, toPort, PORT_HINT);
  return op;
}

function parseCondition(v: unknown, field: string): Condition {
  const o = readObj(v, field, ['key', 'values', 'notValues']);
  if (typeof o.key !== 'string' || o.key === '') throw new PolicyInvalidError(`${field}.key`, 'must be a non-empty string');
  const key = o.key;
  if (!KNOWN_WHEN_KEYS.includes(key) && !KNOWN_WHEN_PREFIXES.some((p) => key.startsWith(p))) {
    throw new PolicyInvalidError(`${field}.key`, `unknown attribute ${JSON.stringify(key)}; see Istio's authorization conditions reference`);
  }
  const c = { key, values: readStrings(o.values, `${field}.values`), notValues: readStrings(o.notValues, `${field}.notValues`) };
  if (c.values.length === 0 && c.notValues.length === 0) throw new PolicyInvalidError(field, 'set values or notValues');
  for (const k of ['values', 'notValues'] as const) {
    if (key === 'source.ip' || key === 'destination.ip' || key === 'remote.ip') parseList(c[k], `${field}.${k}`, toAddress, IP_HINT);
    if (key === 'destination.port') parseList(c[k], `${field}.${k}`, toPort, PORT_HINT);
    if (key === 'source.namespace' || key === 'source.principal') parseList(c[k], `${field}.${k}`, toStringMatch, STRING_HINT);
  }
  return c;
}

function parseRule(v: unknown, field: string): PolicyRule {
  const o = readObj(v, field, ['from', 'to', 'when']);
  return {
    from: readList(o.from, `${field}.from`).map((f, i) => {
      const fo = readObj(f, `${field}.from[${i}]`, ['source']);
      if (fo.source === undefined || fo.source === null) throw new PolicyInvalidError(`${field}.from[${i}].source`, 'is required');
      return parseSource(fo.source, `${field}.from[${i}].source`);
    }),
    to: readList(o.to, `${field}.to`).map((t, i) => {
      const to = readObj(t, `${field}.to[${i}]`, ['operation']);
      if (to.operation === undefined || to.operation === null) throw new PolicyInvalidError(`${field}.to[${i}].operation`, 'is required');
      return parseOperation(to.operation, `${field}.to[${i}].operation`);
    }),
    when: readList(o.when, `${field}.when`).map((w, i) => parseCondition(w, `${field}.when[${i}]`)),
  };
}

function nonEmpty(m: Match): Match {
  for (const k of Object.keys(m) as (keyof Match)[]) {
    if (m[k] === undefined || m[k].length === 0) delete m[k];
  }
  return m;
}

const strings = (vs: string[]): StringMatch[] => vs.map((v) => toStringMatch(v) as StringMatch);
const addresses = (vs: string[]): Address[] => vs.map((v) => toAddress(v) as Address);
const ports = (vs: string[]): number[] => vs.map((v) => toPort(v) as number);

/**
 * Service accounts become principal suffixes `/ns/<ns>/sa/<sa>` (any trust domain), because the
 * Match message we speak has no service-account field. notServiceAccounts can always join
 * notPrincipals (both mean "none of"); serviceAccounts can join principals only when the source
 * sets no principals, as merging two AND-ed lists into one OR-ed list would widen the match.
 * Returns the fields that could not be expressed.
 */
function sourceMatch(s: Source, ruleNamespace: string): { match: Match; unsupported: string[] } {
  const sa = (v: string): StringMatch => {
    const [a, b] = v.split('/');
    return b === undefined ? { suffix: `/ns/${ruleNamespace}/sa/${a}` } : { suffix: `/ns/${a}/sa/${b}` };
  };
  const unsupported: string[] = [];
  let principals = strings(s.principals);
  if (s.serviceAccounts.length > 0) {
    if (principals.length === 0) principals = s.serviceAccounts.map(sa);
    else unsupported.push('serviceAccounts with principals');
  }
  const match = nonEmpty({
    sourceIps: addresses(s.ipBlocks),
    notSourceIps: addresses(s.notIpBlocks),
    namespaces: strings(s.namespaces),
    notNamespaces: strings(s.notNamespaces),
    principals,
    notPrincipals: [...strings(s.notPrincipals), ...s.notServiceAccounts.map(sa)],
  });
  return { match, unsupported };
}

function whenMatch(c: Condition): Match {
  const m: Match = {};
  const set = (vals: string[], negate: boolean): void => {
    if (vals.length === 0) return;
    switch (c.key) {
      case 'source.namespace': m[negate ? 'notNamespaces' : 'namespaces'] = strings(vals); break;
      case 'source.principal': m[negate ? 'notPrincipals' : 'principals'] = strings(vals); break;
      case 'source.ip': m[negate ? 'notSourceIps' : 'sourceIps'] = addresses(vals); break;
      case 'destination.ip': m[negate ? 'notDestinationIps' : 'destinationIps'] = addresses(vals); break;
      case 'destination.port': m[negate ? 'notDestinationPorts' : 'destinationPorts'] = ports(vals); break;
      default: break; // L7 key: the Match stays empty, i.e. this clause matches every connection
    }
  };
  set(c.values, false);
  set(c.notValues, true);
  return m;
}

/** One policy rule → the clauses of its Rule, or null when an ALLOW rule must never match. */
function convertRule(action: 'ALLOW' | 'DENY', rule: PolicyRule, ruleNamespace: string, l7: Set<string>): Clause[] | null {
  let foundL7 = false;
  const note = (what: string): void => { foundL7 = true; l7.add(what); };
  const clauses: Clause[] = [];
  const toMatches = rule.to.map((op) => {
    for (const k of L7_OPERATION_FIELDS) if (op[k].length > 0) note(k);
    return nonEmpty({ destinationPorts: ports(op.ports), notDestinationPorts: ports(op.notPorts) });
  });
  const fromMatches = rule.from.map((src) => {
    for (const k of L7_SOURCE_FIELDS) if (src[k].length > 0) note(k);
    const { match, unsupported } = sourceMatch(src, ruleNamespace);
    unsupported.forEach(note);
    return match;
  });
  if (toMatches.length > 0) clauses.push({ matches: toMatches });
  if (fromMatches.length > 0) clauses.push({ matches: fromMatches });
  for (const c of rule.when) {
    if (!(L4_WHEN_KEYS as readonly string[]).includes(c.key)) note(c.key);
    clauses.push({ matches: [whenMatch(c)] });
  }
  // An ALLOW rule with L7 parts can never be satisfied at L4; dropping it allows less.
  // A DENY rule keeps its L4 parts and so denies more than asked.
  return action === 'ALLOW' && foundL7 ? null : clauses;
}

const HTTP_WARNING = 'ztunnel does not support HTTP attributes (found: %s). In ambient mode you must use a waypoint proxy to enforce HTTP rules.';
const ALLOW_WARNING = 'Within an ALLOW policy, rules matching HTTP attributes are omitted. This will be more restrictive than requested.';
const DENY_WARNING = 'DENY policy with HTTP attributes is enforced without the HTTP rules. This will be more restrictive than requested.';

function parseDryRun(annotations: Record<string, string> | undefined): boolean {
  const v = annotations?.[DRY_RUN_ANNOTATION];
  if (v === undefined) return false;
  // Go's strconv.ParseBool, which Istio uses for this annotation.
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw new PolicyInvalidError(`metadata.annotations["${DRY_RUN_ANNOTATION}"]`, `invalid value ${JSON.stringify(v)}; use "true" or "false"`);
}

/** AuthorizationPolicy → the Authorization ztunnel enforces (if any) and its ZtunnelAccepted status. Never throws. */
export function convertAuthorizationPolicy(ap: PolicyResource, opts: ConvertOptions = {}): Conversion {
  const rootNamespace = opts.rootNamespace ?? DEFAULT_ROOT_NAMESPACE;
  try {
    return convert(ap, rootNamespace, opts.dryRunSupported ?? false);
  } catch (err) {
    if (err instanceof PolicyInvalidError) {
      return { status: { accepted: false, reason: 'Invalid', message: `invalid AuthorizationPolicy: ${err.message}` } };
    }
    const message = err instanceof Error ? err.message : String(err);
    return { status: { accepted: false, reason: 'Invalid', message: `invalid AuthorizationPolicy: ${message}` } };
  }
}

function convert(ap: PolicyResource, rootNamespace: string, dryRunSupported: boolean): Conversion {
  const meta: unknown = ap?.metadata;
  if (!isObj(meta) || typeof meta.name !== 'string' || meta.name === '' || typeof meta.namespace !== 'string' || meta.namespace === '') {
    throw new PolicyInvalidError('metadata', 'name and namespace are required');
  }
  const { name, namespace } = meta as { name: string; namespace: string };
  const spec: Obj = ap.spec === undefined || ap.spec === null
    ? {}
    : readObj(ap.spec, 'spec', ['selector', 'targetRef', 'targetRefs', 'rules', 'action', 'provider']);
  const action = readEnum(spec.action, 'spec.action', ['ALLOW', 'DENY', 'AUDIT', 'CUSTOM'] as const, 'ALLOW');
  const selector = readSelector(spec.selector, 'spec.selector');
  const hasTargetRefs = readTargetRefs(spec);
  if (selector !== undefined && hasTargetRefs) {
    throw new PolicyInvalidError('spec', 'set only one of selector or targetRefs');
  }
  if (spec.provider !== undefined && spec.provider !== null) {
    if (action !== 'CUSTOM') throw new PolicyInvalidError('spec.provider', 'is only allowed with action CUSTOM');
    const p = readObj(spec.provider, 'spec.provider', ['name']);
    if (typeof p.name !== 'string' || p.name === '') throw new PolicyInvalidError('spec.provider.name', 'must be a non-empty string');
  } else if (action === 'CUSTOM') {
    throw new PolicyInvalidError('spec.provider', 'is required with action CUSTOM');
  }
  const policyRules = readList(spec.rules, 'spec.rules').map((r, i) => parseRule(r, `spec.rules[${i}]`));
  if (meta.annotations !== undefined && meta.annotations !== null && !isObj(meta.annotations)) {
    throw new PolicyInvalidError('metadata.annotations', `must be a map, got ${describe(meta.annotations)}`);
  }
  const dryRun = parseDryRun(isObj(meta.annotations) ? meta.annotations as Record<string, string> : undefined);

  if (hasTargetRefs) {
    return { status: { accepted: false, reason: 'NotForZtunnel', message: 'policy uses targetRefs, so a waypoint enforces it; ztunnel does not' } };
  }
  if (action === 'AUDIT' || action === 'CUSTOM') {
    return { status: { accepted: false, reason: 'UnsupportedValue', message: `ztunnel does not support the ${action} action` } };
  }

  if (dryRun && !dryRunSupported) {
    return { status: { accepted: false, reason: 'UnsupportedValue', message: `ztunnel cannot run this policy in dry-run mode, so it is not applied; remove the ${DRY_RUN_ANNOTATION} annotation to enforce it` } };
  }
  const scope: Scope = selector !== undefined ? 'WORKLOAD_SELECTOR' : namespace === rootNamespace ? 'GLOBAL' : 'NAMESPACE';
  const l7 = new Set<string>();
  const rules: Rule[] = [];
  for (const rule of policyRules) {
    const clauses = convertRule(action, rule, namespace, l7);
    if (clauses !== null) rules.push({ clauses });
  }
  const authorization: Authorization = { name, namespace, scope, action, rules };
  if (dryRun) authorization.dryRun = true;
  const resourceName = `${namespace}/${name}`;
  if (l7.size > 0) {
    const found = [...l7].sort().join(', ');
    const message = `${HTTP_WARNING.replace('%s', found)} ${action === 'ALLOW' ? ALLOW_WARNING : DENY_WARNING}`;
    return { authorization, resourceName, status: { accepted: true, reason: 'UnsupportedValue', message } };
  }
  return { authorization, resourceName, status: { accepted: true, reason: 'Accepted', message: 'attached to ztunnel' } };
}

/** The selector of a valid AuthorizationPolicy (undefined if none or invalid); for workload selection. */
export function authorizationPolicySelector(ap: PolicyResource): Record<string, string> | undefined {
  try {
    return isObj(ap.spec) ? readSelector(ap.spec.selector, 'spec.selector') : undefined;
  } catch {
    return undefined;
  }
}
