// Owns AuthorizationPolicy → the L7 `authorization` of a waypoint's config (shared/waypoint/config.ts AuthzPolicy):
// per object, spec validation (a ConfigVerdict naming the field); per waypoint, which policies it enforces and their
// converted form. Pure functions; nothing throws to callers.
//
// Attachment follows Istio (pilot/pkg/model/policyattachment.go, ambient docs "L7 authorization"):
// - targetRefs (or the legacy targetRef) to gateway.networking.k8s.io/Gateway naming this waypoint, from the
//   waypoint's namespace → the whole waypoint; to GatewayClass `istio-waypoint` from the root namespace → every
//   waypoint; to a Service (or networking.istio.io/ServiceEntry) bound to this waypoint, from the service's
//   namespace → requests to that service only.
// - `selector` policies and namespace-wide ones (no selector, no targetRefs) are ztunnel's (controller/policy):
//   Istio never applies selector policies to a waypoint ("waypoints never use selector"; istioctl analyze IST0166
//   tells users to use targetRefs instead), so neither do we, even when the selector matches the waypoint's pods.
// Validation follows Istio's webhook (pkg/config/validation ValidateAuthorizationPolicy, pkg/config/security), plus:
// CUSTOM is rejected as unsupported (no ext_authz in our waypoint), `experimental.envoy.filters.*` and
// `request.experimental.inline.headers[]` conditions likewise, and a `*` inside a non-template path is rejected
// (Istio would match it literally, which is never what was meant).

import { MeshError } from '../../shared/errors.ts';
import type {
  AuthzCondition, AuthzOperation, AuthzPolicy, AuthzRule, AuthzSource, PolicyTarget, ServiceKeyText,
} from '../../shared/waypoint/config.ts';
import { PolicyInvalidError } from '../policy/errors.ts';
import { DRY_RUN_ANNOTATION } from '../policy/index.ts';
import { type Obj, describe, isObj, readEnum, readList, readObj, readSelector, readStrings, readTargetRefs } from '../policy/spec.ts';
import { toAddress, toPort } from '../policy/values.ts';
import { type ConfigVerdict, type KubeObject, accepted, rejected } from './verdict.ts';

export interface AuthzContext {
  /** meshConfig.rootNamespace (Istio's default `istio-system`). */
  rootNamespace: string;
  /**
   * The waypoint's Gateway. `podLabels` is accepted but not used: Istio does not attach selector policies to
   * waypoints (see the header).
   */
  waypoint: { namespace: string; name: string; podLabels?: Record<string, string> };
  /** Services whose `istio.io/use-waypoint` resolves to this waypoint; `kind` defaults to Service. */
  boundServices: Array<{ key: ServiceKeyText; namespace: string; name: string; kind?: 'Service' | 'ServiceEntry' }>;
}

/** A valid policy the waypoint cannot enforce as written (reason UnsupportedValue). */
export class AuthzUnsupportedError extends MeshError {
  readonly field: string;
  constructor(field: string, message: string) {
    super('CTRL_WAYPOINT_AUTHZ_UNSUPPORTED', `${field}: ${message}`);
    this.field = field;
  }
}

const GATEWAY_GROUP = 'gateway.networking.k8s.io';
const ISTIO_NETWORKING_GROUP = 'networking.istio.io';
const WAYPOINT_GATEWAY_CLASS = 'istio-waypoint';
const ALLOWED_TARGETS = ['core/Service', `${ISTIO_NETWORKING_GROUP}/ServiceEntry`, `${GATEWAY_GROUP}/Gateway`, `${GATEWAY_GROUP}/GatewayClass`];

const SOURCE_FIELDS = [
  'principals', 'notPrincipals', 'requestPrincipals', 'notRequestPrincipals', 'namespaces', 'notNamespaces',
  'ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks', 'serviceAccounts', 'notServiceAccounts',
] as const;
const OPERATION_FIELDS = ['hosts', 'notHosts', 'ports', 'notPorts', 'methods', 'notMethods', 'paths', 'notPaths'] as const;

/** `when` keys with a fixed name that the waypoint evaluates (waypoint/authz conditionValues). */
const CONDITION_KEYS = [
  'source.ip', 'remote.ip', 'source.namespace', 'source.principal', 'source.serviceAccount', 'request.auth.principal',
  'request.auth.audiences', 'request.auth.presenter', 'destination.ip', 'destination.port', 'connection.sni',
];
const HEADER_KEY = /^request\.headers\[([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\]$/;
const CLAIM_KEY = /^request\.auth\.claims(\[[^[\]]+\])+$/;
const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Envoy's uri_template literal (RFC 3986 pchar without `*`), as Istio's IsValidLiteral.
const TEMPLATE_LITERAL = /^[a-zA-Z0-9\-._~%!$&'()+,;:@=]+$/;

interface TargetRef { group: string; kind: string; name: string }

interface ParsedPolicy {
  namespace: string;
  name: string;
  action: 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM';
  targetRefs: TargetRef[];
  rules: AuthzRule[];
  dryRun: boolean;
}

const IP_HINT = 'use an IP address or CIDR (e.g. 10.0.0.1 or 10.0.0.0/8)';
const PORT_HINT = 'use a decimal port 1-65535, written as a string';

function checkEach(values: string[], field: string, ok: (v: string) => boolean, what: string, hint: string): void {
  values.forEach((v, i) => {
    if (!ok(v)) throw new PolicyInvalidError(`${field}[${i}]`, `invalid ${what} ${JSON.stringify(v)}; ${hint}`);
  });
}

/** Istio's CheckServiceAccount: `name` or `namespace/name`, no wildcards, at most 16. */
function checkServiceAccounts(values: string[], field: string): void {
  if (values.length > 16) throw new PolicyInvalidError(field, 'may not have more than 16 values');
  values.forEach((v, i) => {
    const parts = v.split('/');
    if (v.includes('*') || parts.length > 2 || parts.some((p) => p === '') || v.length > 320) {
      throw new PolicyInvalidError(`${field}[${i}]`, `invalid service account ${JSON.stringify(v)}; use "name" or "namespace/name" without wildcards`);
    }
  });
}

/** `name` (in the policy's namespace) or `ns/name` → a principal pattern: any trust domain, suffix `/ns/<ns>/sa/<name>`. */
function serviceAccountPrincipal(v: string, policyNamespace: string): string {
  const [a, b] = v.split('/');
  return b === undefined ? `*/ns/${policyNamespace}/sa/${a}` : `*/ns/${a}/sa/${b}`;
}

/** Istio's CheckValidPathTemplate, plus: a template starts with `/`, and `*` only at either end of a plain path. */
function checkPath(p: string, field: string): void {
  const template = p.includes('{*}') || p.includes('{**}');
  if (template && !p.startsWith('/')) throw new PolicyInvalidError(field, `path template ${JSON.stringify(p)} must start with '/'`);
  let anySeen = false;
  for (const glob of p.replace(/^\/+|\/+$/g, '').split('/')) {
    if ((glob === '{*}' || glob === '{**}') && anySeen) {
      throw new PolicyInvalidError(field, `invalid path ${JSON.stringify(p)}: {**} must be the last operator`);
    }
    if (glob === '{*}') continue;
    if (glob === '{**}') { anySeen = true; continue; }
    if (/[{}]/.test(glob)) {
      throw new PolicyInvalidError(field, `invalid path ${JSON.stringify(p)}: '{' and '}' are only allowed as a whole-segment {*} or {**}`);
    }
    if (template && !TEMPLATE_LITERAL.test(glob)) {
      throw new PolicyInvalidError(field, `invalid path template ${JSON.stringify(p)}: segment ${JSON.stringify(glob)} must be {*}, {**} or a literal of RFC 3986 path characters without '*' (e.g. /foo/{*}/bar)`);
    }
  }
  if (!template && p.length > 2 && p.slice(1, -1).includes('*')) {
    throw new PolicyInvalidError(field, `invalid path ${JSON.stringify(p)}: '*' is only allowed as the first or last character; use {*} (one segment) or {**} (the rest) templates`);
  }
}

function parseSource(v: unknown, field: string, policyNamespace: string): AuthzSource {
  const o = readObj(v, field, SOURCE_FIELDS);
  const s = Object.fromEntries(SOURCE_FIELDS.map((k) => [k, readStrings(o[k], `${field}.${k}`)])) as Record<(typeof SOURCE_FIELDS)[number], string[]>;
  if (SOURCE_FIELDS.every((k) => s[k].length === 0)) throw new PolicyInvalidError(field, 'must not be empty; set at least one field');
  for (const k of ['ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks'] as const) {
    checkEach(s[k], `${field}.${k}`, (x) => toAddress(x) !== undefined, 'IP block', IP_HINT);
  }
  checkServiceAccounts(s.serviceAccounts, `${field}.serviceAccounts`);
  checkServiceAccounts(s.notServiceAccounts, `${field}.notServiceAccounts`);
  if (s.serviceAccounts.length + s.notServiceAccounts.length > 0
    && s.principals.length + s.notPrincipals.length + s.namespaces.length + s.notNamespaces.length > 0) {
    throw new PolicyInvalidError(field, 'cannot set serviceAccounts with namespaces or principals; use separate sources');
  }
  // serviceAccounts never coexist with principals (checked above), so they can stand in for them.
  const out: AuthzSource = {};
  const principals = [...s.principals, ...s.serviceAccounts.map((sa) => serviceAccountPrincipal(sa, policyNamespace))];
  const notPrincipals = [...s.notPrincipals, ...s.notServiceAccounts.map((sa) => serviceAccountPrincipal(sa, policyNamespace))];
  if (principals.length > 0) out.principals = principals;
  if (notPrincipals.length > 0) out.notPrincipals = notPrincipals;
  for (const k of ['requestPrincipals', 'notRequestPrincipals', 'namespaces', 'notNamespaces', 'ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks'] as const) {
    if (s[k].length > 0) out[k] = s[k];
  }
  return out;
}

function parseOperation(v: unknown, field: string): AuthzOperation {
  const o = readObj(v, field, OPERATION_FIELDS);
  const op = Object.fromEntries(OPERATION_FIELDS.map((k) => [k, readStrings(o[k], `${field}.${k}`)])) as Record<(typeof OPERATION_FIELDS)[number], string[]>;
  if (OPERATION_FIELDS.every((k) => op[k].length === 0)) throw new PolicyInvalidError(field, 'must not be empty; set at least one field');
  for (const k of ['ports', 'notPorts'] as const) checkEach(op[k], `${field}.${k}`, (x) => toPort(x) !== undefined, 'port', PORT_HINT);
  for (const k of ['methods', 'notMethods'] as const) {
    checkEach(op[k], `${field}.${k}`, (x) => HTTP_TOKEN.test(x), 'method', 'use an HTTP method such as GET, optionally with a leading or trailing *');
  }
  for (const k of ['paths', 'notPaths'] as const) op[k].forEach((p, i) => checkPath(p, `${field}.${k}[${i}]`));
  const out: AuthzOperation = {};
  for (const k of OPERATION_FIELDS) if (op[k].length > 0) out[k] = op[k];
  return out;
}

function checkConditionKey(key: string, field: string): void {
  if (CONDITION_KEYS.includes(key) || HEADER_KEY.test(key) || CLAIM_KEY.test(key)) return;
  if (key.startsWith('experimental.envoy.filters.') || key.startsWith('request.experimental.inline.headers')) {
    throw new AuthzUnsupportedError(field, `attribute ${JSON.stringify(key)} is not supported by the waypoint`);
  }
  if (key === 'destination.namespace') throw new PolicyInvalidError(field, `attribute ${key} is replaced by the policy's metadata.namespace`);
  if (key.startsWith('destination.labels')) throw new PolicyInvalidError(field, `attribute ${key} is replaced by targetRefs`);
  if (key === 'destination.name' || key === 'destination.user') throw new PolicyInvalidError(field, `deprecated attribute ${key}: only supported in v1alpha1`);
  if (key.startsWith('request.headers')) throw new PolicyInvalidError(field, `bad key ${JSON.stringify(key)}; use request.headers[<header name>]`);
  if (key.startsWith('request.auth.claims')) throw new PolicyInvalidError(field, `bad key ${JSON.stringify(key)}; use request.auth.claims[<name>] or request.auth.claims[<name>][<nested name>]`);
  throw new PolicyInvalidError(field, `unknown attribute ${JSON.stringify(key)}; see https://istio.io/latest/docs/reference/config/security/conditions/`);
}

function parseCondition(v: unknown, field: string, policyNamespace: string): AuthzCondition {
  const o = readObj(v, field, ['key', 'values', 'notValues']);
  if (typeof o.key !== 'string' || o.key === '') throw new PolicyInvalidError(`${field}.key`, 'must be a non-empty string');
  let key = o.key;
  checkConditionKey(key, `${field}.key`);
  let values = readStrings(o.values, `${field}.values`);
  let notValues = readStrings(o.notValues, `${field}.notValues`);
  if (values.length === 0 && notValues.length === 0) throw new PolicyInvalidError(field, `set values or notValues for key ${key}`);
  for (const [k, list] of [['values', values], ['notValues', notValues]] as const) {
    const f = `${field}.${k}`;
    if (key === 'source.ip' || key === 'remote.ip' || key === 'destination.ip') checkEach(list, f, (x) => toAddress(x) !== undefined, 'IP', IP_HINT);
    if (key === 'destination.port') checkEach(list, f, (x) => toPort(x) !== undefined, 'port', PORT_HINT);
    if (key === 'source.serviceAccount') checkServiceAccounts(list, f);
  }
  if (key === 'source.serviceAccount') {
    // Same meaning, one attribute fewer for the waypoint: principal suffixes, with the short form resolved here.
    key = 'source.principal';
    values = values.map((sa) => serviceAccountPrincipal(sa, policyNamespace));
    notValues = notValues.map((sa) => serviceAccountPrincipal(sa, policyNamespace));
  }
  const c: AuthzCondition = { key };
  if (values.length > 0) c.values = values;
  if (notValues.length > 0) c.notValues = notValues;
  return c;
}

function parseRule(v: unknown, field: string, policyNamespace: string): AuthzRule {
  const o = readObj(v, field, ['from', 'to', 'when']);
  if (Array.isArray(o.from) && o.from.length === 0) throw new PolicyInvalidError(`${field}.from`, 'must not be empty; omit it to match any source');
  if (Array.isArray(o.to) && o.to.length === 0) throw new PolicyInvalidError(`${field}.to`, 'must not be empty; omit it to match any operation');
  return {
    from: readList(o.from, `${field}.from`).map((f, i) => {
      const fo = readObj(f, `${field}.from[${i}]`, ['source']);
      if (fo.source === undefined || fo.source === null) throw new PolicyInvalidError(`${field}.from[${i}].source`, 'is required');
      return parseSource(fo.source, `${field}.from[${i}].source`, policyNamespace);
    }),
    to: readList(o.to, `${field}.to`).map((t, i) => {
      const to = readObj(t, `${field}.to[${i}]`, ['operation']);
      if (to.operation === undefined || to.operation === null) throw new PolicyInvalidError(`${field}.to[${i}].operation`, 'is required');
      return parseOperation(to.operation, `${field}.to[${i}].operation`);
    }),
    when: readList(o.when, `${field}.when`).map((w, i) => parseCondition(w, `${field}.when[${i}]`, policyNamespace)),
  };
}

function parseTargetRefs(spec: Obj): TargetRef[] {
  const has = (v: unknown): boolean => v !== undefined && v !== null;
  if (has(spec.targetRef) && has(spec.targetRefs)) throw new PolicyInvalidError('spec', 'set only one of targetRef or targetRefs');
  readTargetRefs(spec); // shape: objects with a kind and a name
  const [list, field] = has(spec.targetRef) ? [[spec.targetRef], 'spec.targetRef'] : [readList(spec.targetRefs, 'spec.targetRefs'), 'spec.targetRefs'];
  return list.map((r, i) => {
    const f = field === 'spec.targetRef' ? field : `${field}[${i}]`;
    const ref = r as Obj;
    if (ref.group !== undefined && ref.group !== null && typeof ref.group !== 'string') {
      throw new PolicyInvalidError(`${f}.group`, `must be a string, got ${describe(ref.group)}`);
    }
    if (ref.namespace !== undefined && ref.namespace !== null && ref.namespace !== '') {
      throw new PolicyInvalidError(`${f}.namespace`, 'must not be set; cross namespace referencing is not supported');
    }
    const group = typeof ref.group === 'string' && ref.group !== '' ? ref.group : 'core';
    const kind = ref.kind as string;
    if (!ALLOWED_TARGETS.includes(`${group}/${kind}`)) {
      throw new PolicyInvalidError(f, `unsupported target ${group}/${kind}; use one of ${ALLOWED_TARGETS.join(', ')}`);
    }
    return { group, kind, name: ref.name as string };
  });
}

/** Go's strconv.ParseBool, which Istio uses for the dry-run annotation. */
function parseDryRun(annotations: unknown): boolean {
  if (annotations === undefined || annotations === null) return false;
  if (!isObj(annotations)) throw new PolicyInvalidError('metadata.annotations', `must be a map, got ${describe(annotations)}`);
  const v = annotations[DRY_RUN_ANNOTATION];
  if (v === undefined) return false;
  if (typeof v === 'string' && ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (typeof v === 'string' && ['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw new PolicyInvalidError(`metadata.annotations["${DRY_RUN_ANNOTATION}"]`, `invalid value ${JSON.stringify(v)}; use "true" or "false"`);
}

/** The whole object, or a PolicyInvalidError / AuthzUnsupportedError naming the first bad field. */
function parse(o: KubeObject): ParsedPolicy {
  const meta: unknown = o?.metadata;
  if (!isObj(meta) || typeof meta.name !== 'string' || meta.name === '' || typeof meta.namespace !== 'string' || meta.namespace === '') {
    throw new PolicyInvalidError('metadata', 'name and namespace are required');
  }
  const namespace = meta.namespace;
  const name = meta.name;
  const spec: Obj = o.spec === undefined || o.spec === null
    ? {}
    : readObj(o.spec, 'spec', ['selector', 'targetRef', 'targetRefs', 'rules', 'action', 'provider']);
  const action = readEnum(spec.action, 'spec.action', ['ALLOW', 'DENY', 'AUDIT', 'CUSTOM'] as const, 'ALLOW');
  const selector = readSelector(spec.selector, 'spec.selector');
  const targetRefs = parseTargetRefs(spec);
  if (selector !== undefined && targetRefs.length > 0) throw new PolicyInvalidError('spec', 'set only one of selector or targetRefs');
  if (spec.provider !== undefined && spec.provider !== null) {
    if (action !== 'CUSTOM') throw new PolicyInvalidError('spec.provider', `must not be set with action ${action}; it is only for CUSTOM`);
    const p = readObj(spec.provider, 'spec.provider', ['name']);
    if (typeof p.name !== 'string' || p.name === '') throw new PolicyInvalidError('spec.provider.name', 'must be a non-empty string');
  }
  const rawRules = readList(spec.rules, 'spec.rules');
  if (action === 'DENY' && rawRules.length === 0) {
    throw new PolicyInvalidError('spec.rules', 'a DENY policy without rules never matches; add an empty rule {} to deny every request');
  }
  const rules = rawRules.map((r, i) => parseRule(r, `spec.rules[${i}]`, namespace));
  const dryRun = parseDryRun(meta.annotations);
  if (action === 'CUSTOM') {
    throw new AuthzUnsupportedError('spec.action', 'CUSTOM (external authorization) is not supported by the waypoint; use ALLOW or DENY');
  }
  return { namespace, name, action, targetRefs, rules, dryRun };
}

function verdictOf(o: KubeObject, err: unknown): ConfigVerdict {
  if (err instanceof AuthzUnsupportedError) return rejected('AuthorizationPolicy', o, 'UnsupportedValue', err.message);
  const message = err instanceof Error ? err.message : String(err);
  return rejected('AuthorizationPolicy', o, 'Invalid', message);
}

/**
 * Per object, independent of waypoints: the spec validation of an AuthorizationPolicy as a waypoint reads it.
 * Reasons: Accepted, Invalid (the field path first in the message), UnsupportedValue (CUSTOM, Envoy-only keys).
 */
export function validateWaypointAuthorizationPolicy(o: KubeObject): ConfigVerdict {
  try {
    parse(o);
    return accepted('AuthorizationPolicy', o);
  } catch (err) {
    return verdictOf(o, err);
  }
}

/** Which of the policy's target refs reach this waypoint, and how; undefined when none does. */
function targetFor(refs: readonly TargetRef[], policyNamespace: string, ctx: AuthzContext): PolicyTarget | undefined {
  let all = false;
  const services = new Set<ServiceKeyText>();
  for (const r of refs) {
    if (r.group === GATEWAY_GROUP && r.kind === 'GatewayClass') {
      if (policyNamespace === ctx.rootNamespace && r.name === WAYPOINT_GATEWAY_CLASS) all = true;
    } else if (r.group === GATEWAY_GROUP && r.kind === 'Gateway') {
      if (policyNamespace === ctx.waypoint.namespace && r.name === ctx.waypoint.name) all = true;
    } else {
      for (const s of ctx.boundServices) {
        if ((s.kind ?? 'Service') === r.kind && s.namespace === policyNamespace && s.name === r.name) services.add(s.key);
      }
    }
  }
  if (all) return { all: true };
  return services.size > 0 ? { services: [...services].sort() } : undefined;
}

/**
 * The policies this waypoint enforces, converted, sorted by namespace/name. Invalid and unsupported policies are
 * left out (their verdict says why), as are selector and namespace-wide policies (ztunnel enforces those).
 */
export function waypointAuthorizations(policies: KubeObject[], ctx: AuthzContext): AuthzPolicy[] {
  const out: AuthzPolicy[] = [];
  for (const o of policies) {
    let p: ParsedPolicy;
    try {
      p = parse(o);
    } catch {
      continue;
    }
    if (p.action === 'CUSTOM' || p.targetRefs.length === 0) continue;
    const target = targetFor(p.targetRefs, p.namespace, ctx);
    if (target === undefined) continue;
    const policy: AuthzPolicy = { namespace: p.namespace, name: p.name, action: p.action, target, rules: p.rules };
    if (p.dryRun) policy.dryRun = true;
    out.push(policy);
  }
  return out.sort((a, b) => (a.namespace === b.namespace ? cmp(a.name, b.name) : cmp(a.namespace, b.namespace)));
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
