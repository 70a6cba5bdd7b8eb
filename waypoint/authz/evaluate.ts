// Owns the L7 authorization decision for one request, with Istio's semantics (a pure function of the policies the
// waypoint holds and the request):
// - a policy applies when its target is the whole waypoint or lists the Service the request is addressed to;
// - any matching DENY denies; otherwise, if any ALLOW applies, one must match; otherwise the request is allowed;
// - AUDIT never changes the verdict (matches are reported); dry-run policies are only reported (Istio's shadow
//   engine: a dry-run DENY that matches, or dry-run ALLOWs of which none matches, "would have denied").
// Rule matching (Istio's AuthorizationPolicy reference): a rule matches when some `from` matches (or there is none),
// some `to` matches (or none) and every `when`; inside a source/operation/condition the fields are AND-ed, a field's
// values OR-ed, and the `not*` values exclude.
//
// Attribute sources, from RequestInfo: principals/`source.principal` = the peer's SPIFFE id without `spiffe://`;
// ipBlocks/`source.ip` = the source address of the connection (the HBONE tunnel peer, `source.remoteIp`; Istio's
// waypoint also takes DOWNSTREAM_REMOTE_ADDRESS); remoteIpBlocks/`remote.ip` = the original client
// (`source.ip`, from `Forwarded: for=`), which is what Istio means by X-Forwarded-For/proxy protocol.

import type { AuthzCondition, AuthzOperation, AuthzPolicy, AuthzRule, AuthzSource } from '../../shared/waypoint/config.ts';
import type { RequestInfo } from '../types.ts';
import {
  claimPath, claimStrings, headerName, matchHeader, matchHost, matchIp, matchPath, matchString, normalizePath,
} from './match.ts';

export interface AuthzResult {
  allowed: boolean;
  /** The policy that decided (deny or allow), `ns/name`; absent when allowed by default or denied for want of an ALLOW match. */
  policy?: string;
  /** Policies of action AUDIT that matched (dry-run ones excluded). */
  audited: string[];
  /** Dry-run policies that would have denied. */
  dryRunDenied: string[];
}

/** The request's attributes, computed once and lazily (path normalisation is not free). */
class Attributes {
  readonly req: RequestInfo;
  #path: string | undefined;
  constructor(req: RequestInfo) { this.req = req; }
  get path(): string { return (this.#path ??= normalizePath(this.req.path)); }
  get principal(): string | undefined {
    const p = this.req.source.principal;
    return p === undefined || p === '' ? undefined : p.startsWith('spiffe://') ? p.slice('spiffe://'.length) : p;
  }
  header(name: string): string | undefined {
    if (name === ':authority' || name === 'host') return this.req.authority;
    if (name === ':method') return this.req.method;
    if (name === ':path') return this.req.query === '' ? this.req.path : `${this.req.path}?${this.req.query}`;
    const v = this.req.headers[name];
    return Array.isArray(v) ? v.join(',') : v;
  }
}

/** `values` OR-ed (an empty list imposes nothing), minus anything in `notValues`. */
function field(values: readonly string[] | undefined, notValues: readonly string[] | undefined, test: (v: string) => boolean): boolean {
  if (values !== undefined && values.length > 0 && !values.some(test)) return false;
  return notValues === undefined || !notValues.some(test);
}

function sourceMatches(s: AuthzSource, a: Attributes): boolean {
  const principal = a.principal;
  const requestPrincipal = a.req.auth?.principal;
  return field(s.principals, s.notPrincipals, (v) => matchString(v, principal))
    && field(s.requestPrincipals, s.notRequestPrincipals, (v) => matchString(v, requestPrincipal))
    && field(s.namespaces, s.notNamespaces, (v) => matchString(v, a.req.source.namespace || undefined))
    && field(s.ipBlocks, s.notIpBlocks, (v) => matchIp(v, a.req.source.remoteIp))
    && field(s.remoteIpBlocks, s.notRemoteIpBlocks, (v) => matchIp(v, a.req.source.ip));
}

function operationMatches(o: AuthzOperation, a: Attributes): boolean {
  return field(o.hosts, o.notHosts, (v) => matchHost(v, a.req.authority))
    && field(o.ports, o.notPorts, (v) => Number(v) === a.req.destination.port)
    && field(o.methods, o.notMethods, (v) => matchString(v, a.req.method))
    && field(o.paths, o.notPaths, (v) => matchPath(v, a.path));
}

/** `ns/sa` of a service-account SPIFFE id (without scheme), else undefined. */
function serviceAccountOf(principal: string | undefined): string | undefined {
  const m = principal === undefined ? null : /^[^/]+\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(principal);
  return m ? `${m[1]}/${m[2]}` : undefined;
}

/** Values a condition key reads, or `undefined` for a key this evaluator does not know. */
function conditionValues(key: string, a: Attributes): { list: string[]; test: (pattern: string, value: string) => boolean } | undefined {
  const str = (v: string | undefined): string[] => (v === undefined ? [] : [v]);
  const strings = (pattern: string, value: string): boolean => matchString(pattern, value);
  const ips = (pattern: string, value: string): boolean => matchIp(pattern, value);
  const claims = a.req.auth?.claims;
  switch (key) {
    case 'source.ip': return { list: str(a.req.source.remoteIp || undefined), test: ips };
    case 'remote.ip': return { list: str(a.req.source.ip || undefined), test: ips };
    case 'source.namespace': return { list: str(a.req.source.namespace || undefined), test: strings };
    case 'source.principal': return { list: str(a.principal), test: strings };
    case 'source.serviceAccount': return { list: str(serviceAccountOf(a.principal)), test: (p, v) => p === v };
    case 'request.auth.principal': return { list: str(a.req.auth?.principal), test: strings };
    case 'request.auth.audiences': return { list: claimStrings(claims, ['aud']), test: strings };
    case 'request.auth.presenter': return { list: claimStrings(claims, ['azp']), test: strings };
    case 'destination.ip': return { list: str(a.req.destination.ip || undefined), test: ips };
    case 'destination.port': return { list: [String(a.req.destination.port)], test: (p, v) => Number(p) === Number(v) };
    // The waypoint terminates HBONE, not the client's TLS: there is no SNI to match.
    case 'connection.sni': return { list: [], test: strings };
    default: break;
  }
  const header = headerName(key);
  if (header !== undefined) return { list: str(a.header(header)), test: matchHeader };
  const path = claimPath(key);
  if (path !== undefined) return { list: claimStrings(claims, path), test: strings };
  return undefined;
}

const KNOWN_KEYS = new Set([
  'source.ip', 'remote.ip', 'source.namespace', 'source.principal', 'source.serviceAccount', 'request.auth.principal',
  'request.auth.audiences', 'request.auth.presenter', 'destination.ip', 'destination.port', 'connection.sni',
]);

/** Whether the waypoint can evaluate a `when` key (the keys conditionValues reads; for config validation). */
export function isSupportedConditionKey(key: string): boolean {
  return KNOWN_KEYS.has(key) || headerName(key) !== undefined || claimPath(key) !== undefined;
}

/** A condition key the waypoint cannot read fails closed: it matches in DENY and AUDIT rules, never in ALLOW ones. */
function conditionMatches(c: AuthzCondition, a: Attributes, unknownMatches: boolean): boolean {
  const read = conditionValues(c.key, a);
  if (read === undefined) return unknownMatches;
  return field(c.values, c.notValues, (p) => read.list.some((v) => read.test(p, v)));
}

function ruleMatches(r: AuthzRule, a: Attributes, unknownMatches: boolean): boolean {
  if (r.from.length > 0 && !r.from.some((s) => sourceMatches(s, a))) return false;
  if (r.to.length > 0 && !r.to.some((o) => operationMatches(o, a))) return false;
  return r.when.every((c) => conditionMatches(c, a, unknownMatches));
}

/** Whether any rule of the policy matches (a policy without rules matches nothing). */
export function policyMatches(p: AuthzPolicy, req: RequestInfo): boolean {
  return matches(p, new Attributes(req));
}

function matches(p: AuthzPolicy, a: Attributes): boolean {
  return p.rules.some((r) => ruleMatches(r, a, p.action !== 'ALLOW'));
}

/** Whether the policy applies to the request: it targets the whole waypoint, or the Service addressed. */
export function policyApplies(p: AuthzPolicy, req: RequestInfo): boolean {
  if (p.target.all === true) return true;
  const svc = req.destination.service;
  return svc !== undefined && p.target.services.includes(svc);
}

const id = (p: AuthzPolicy): string => `${p.namespace}/${p.name}`;

export function authorizeRequest(policies: readonly AuthzPolicy[], req: RequestInfo): AuthzResult {
  const a = new Attributes(req);
  const audited: string[] = [];
  const dryRunDenied: string[] = [];
  const dryRunAllows: string[] = [];
  let dryRunAllowMatched = false;
  let deniedBy: string | undefined;
  let allowPolicies = 0;
  let allowedBy: string | undefined;
  for (const p of policies) {
    if (!policyApplies(p, req)) continue;
    switch (p.action) {
      case 'DENY':
        if (p.dryRun) {
          if (matches(p, a)) dryRunDenied.push(id(p));
        } else if (deniedBy === undefined && matches(p, a)) {
          deniedBy = id(p);
        }
        break;
      case 'ALLOW':
        if (p.dryRun) {
          dryRunAllows.push(id(p));
          if (!dryRunAllowMatched && matches(p, a)) dryRunAllowMatched = true;
        } else {
          allowPolicies++;
          if (allowedBy === undefined && deniedBy === undefined && matches(p, a)) allowedBy = id(p);
        }
        break;
      case 'AUDIT':
        if (!p.dryRun && matches(p, a)) audited.push(id(p));
        break;
      default:
        // An action this waypoint does not know (a newer controller) fails closed: it denies, naming the policy.
        deniedBy ??= id(p as AuthzPolicy);
        break;
    }
  }
  if (dryRunAllows.length > 0 && !dryRunAllowMatched) dryRunDenied.push(...dryRunAllows);
  if (deniedBy !== undefined) return { allowed: false, policy: deniedBy, audited, dryRunDenied };
  if (allowPolicies === 0) return { allowed: true, audited, dryRunDenied };
  // ALLOW matching is skipped once a DENY matched; that case returned above, so here unset means none matched.
  if (allowedBy !== undefined) return { allowed: true, policy: allowedBy, audited, dryRunDenied };
  return { allowed: false, audited, dryRunDenied };
}
