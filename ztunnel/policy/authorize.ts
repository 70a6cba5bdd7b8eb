// The L4 authorization verdict, pure, with istio/ztunnel's semantics (src/rbac.rs Authorization::matches and
// src/state.rs assert_rbac):
//   - any matching DENY policy denies; else, if any ALLOW policy applies, one of them must match; else allow;
//   - a policy with no rules matches nothing (an ALLOW without rules therefore denies everything);
//   - rules are OR-ed; the clauses of a rule AND-ed (a rule without clauses matches); the matches of a clause
//     OR-ed (a clause without matches matches; an empty Match inside a clause matches nothing); the fields of a
//     match AND-ed; the values of a field OR-ed; a not_* field matches when none of its values does;
//   - principals are compared without the `spiffe://` prefix, which is how AuthorizationPolicy writes them and
//     how the controller passes them through (`cluster.local/ns/x/sa/y`, service accounts as the suffix
//     `/ns/x/sa/y`); a plaintext source has no principal, so no principal value matches it and every
//     notPrincipals does (which is how the static STRICT policy, a DENY with notPrincipals presence, denies
//     plaintext);
//   - a plaintext source's namespace is '' (presence never matches it);
//   - values ztunnel cannot parse (a StringMatch with no member, a CIDR with a bad address or prefix length)
//     are dropped from their list, as ztunnel does.
// Which policies apply to a destination (GLOBAL, NAMESPACE, the workload's own) is the caller's business
// (StateView.policiesFor); dry-run policies are never sent to us.
import { isIP } from 'node:net';
import { ipBytes } from '../../shared/proto/ip.ts';
import type { CidrAddress, Match, StringMatch } from '../../shared/proto/types.ts';
import type { Authorization, IpText, PolicyKey, SpiffeId } from '../types.ts';

export interface AuthzConnection {
  /** The peer's verified identity (HBONE mTLS); undefined for plaintext. */
  source?: { identity: SpiffeId; namespace: string };
  sourceIp: IpText;
  destIp: IpText;
  destPort: number;
}

export interface Verdict {
  allowed: boolean;
  /** The policy that decided (the matching DENY or ALLOW). */
  policy?: PolicyKey;
  action?: 'ALLOW' | 'DENY';
  /** Lower-case, for logs and the access log. */
  reason: string;
}

const SPIFFE = 'spiffe://';

export function policyKey(p: Authorization): PolicyKey {
  return `${p.namespace}/${p.name}` as PolicyKey;
}

/** ztunnel's StringMatch::matches; undefined for a StringMatch with no member (dropped). */
function stringMatches(m: StringMatch, s: string): boolean | undefined {
  if ('exact' in m && m.exact !== undefined) return s === m.exact;
  if ('prefix' in m && m.prefix !== undefined) return s.startsWith(m.prefix);
  if ('suffix' in m && m.suffix !== undefined) return s.endsWith(m.suffix);
  if ('presence' in m && m.presence !== undefined) return s !== '';
  return undefined;
}

/** Connection address → raw bytes, IPv4-mapped IPv6 (how a dual-stack Node socket reports v4 peers) as v4. */
function addrBytes(ip: string): Buffer | undefined {
  if (isIP(ip) === 0) return undefined;
  const b = ipBytes(ip);
  if (b.length === 16 && b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return b.subarray(12);
  return b;
}

/** Whether `ip` lies in the CIDR; undefined for a CIDR ztunnel would reject (dropped). */
function cidrContains(c: CidrAddress, ip: Buffer | undefined): boolean | undefined {
  const bits = c.address.length * 8;
  if ((c.address.length !== 4 && c.address.length !== 16) || c.length > bits || c.length < 0) return undefined;
  if (!ip || ip.length !== c.address.length) return false;
  const full = Math.floor(c.length / 8);
  for (let i = 0; i < full; i++) if (ip[i] !== c.address[i]) return false;
  const rest = c.length % 8;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (ip[full]! & mask) === (c.address[full]! & mask);
}

/**
 * One field and its not_ form (ztunnel's matches_internal): the positive list, if any value survives, must
 * have a matching value; the negative list must have none. `test` returns undefined for a dropped value.
 */
function field<T>(pos: T[] | undefined, neg: T[] | undefined, test: (v: T) => boolean | undefined): boolean {
  const results = (vs: T[] | undefined): boolean[] =>
    (vs ?? []).map(test).filter((r): r is boolean => r !== undefined);
  const p = results(pos);
  const n = results(neg);
  return (p.length === 0 || p.includes(true)) && !n.includes(true);
}

const MATCH_FIELDS: Array<keyof Match> = [
  'namespaces', 'notNamespaces', 'principals', 'notPrincipals', 'sourceIps', 'notSourceIps',
  'destinationIps', 'notDestinationIps', 'destinationPorts', 'notDestinationPorts',
];

interface Facts {
  /** Identity without `spiffe://`; undefined for plaintext (then no principal value matches). */
  principal: string | undefined;
  namespace: string;
  src: Buffer | undefined;
  dst: Buffer | undefined;
  port: number;
}

/** Plaintext has no principal: every valid value fails to match it (so every notPrincipals list holds). */
function principalMatches(s: StringMatch, principal: string | undefined): boolean | undefined {
  const r = stringMatches(s, principal ?? '');
  return r === undefined || principal !== undefined ? r : false;
}

function matchMatches(m: Match, f: Facts): boolean {
  return field(m.destinationIps, m.notDestinationIps, (c) => cidrContains(c, f.dst))
    && field(m.sourceIps, m.notSourceIps, (c) => cidrContains(c, f.src))
    && field(m.destinationPorts, m.notDestinationPorts, (p) => p === f.port)
    && field(m.principals, m.notPrincipals, (s) => principalMatches(s, f.principal))
    && field(m.namespaces, m.notNamespaces, (s) => stringMatches(s, f.namespace));
}

function matchesFacts(p: Authorization, f: Facts): boolean {
  const rules = p.rules ?? [];
  if (rules.length === 0) return false;
  return rules.some((rule) => (rule.clauses ?? []).every((clause) => {
    const matches = clause.matches ?? [];
    if (matches.length === 0) return true;
    // An empty Match is skipped, not treated as "match everything".
    return matches.some((m) => MATCH_FIELDS.some((k) => (m[k]?.length ?? 0) > 0) && matchMatches(m, f));
  }));
}

function facts(conn: AuthzConnection): Facts {
  const id = conn.source?.identity;
  return {
    // An identity without the prefix cannot match any principal (ztunnel strips it or fails).
    principal: id === undefined ? undefined : id.startsWith(SPIFFE) ? id.slice(SPIFFE.length) : undefined,
    namespace: conn.source?.namespace ?? '',
    src: addrBytes(conn.sourceIp),
    dst: addrBytes(conn.destIp),
    port: conn.destPort,
  };
}

/** Whether a single policy matches the connection (ztunnel's Authorization::matches). */
export function policyMatches(p: Authorization, conn: AuthzConnection): boolean {
  return matchesFacts(p, facts(conn));
}

/** The verdict for one connection against the policies that apply to its destination. */
export function authorize(conn: AuthzConnection, policies: readonly Authorization[]): Verdict {
  const f = facts(conn);
  const allow: Authorization[] = [];
  for (const p of policies) {
    if ((p.action ?? 'ALLOW') === 'ALLOW') {
      allow.push(p);
      continue;
    }
    if (matchesFacts(p, f)) {
      const key = policyKey(p);
      return { allowed: false, policy: key, action: 'DENY', reason: `denied by DENY policy ${key}` };
    }
  }
  if (allow.length === 0) return { allowed: true, reason: 'no ALLOW policy applies and no DENY policy matched' };
  for (const p of allow) {
    if (matchesFacts(p, f)) {
      const key = policyKey(p);
      return { allowed: true, policy: key, action: 'ALLOW', reason: `allowed by ALLOW policy ${key}` };
    }
  }
  const names = allow.map(policyKey).join(', ');
  return { allowed: false, reason: `no ALLOW policy matched (${names} apply); add a rule that allows this source` };
}
