// Table tests of the L4 authorization verdict, modelled on istio/ztunnel's rbac.rs tests: one ALLOW policy
// with a single field set, checked against a plaintext, an mTLS and an "alt" mTLS connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipBytes } from '../../shared/proto/ip.ts';
import type { CidrAddress, Match, Rule, StringMatch } from '../../shared/proto/types.ts';
import type { Authorization, IpText, SpiffeId } from '../types.ts';
import { authorize, policyMatches, type AuthzConnection } from './authorize.ts';

const plaintext: AuthzConnection = { sourceIp: '127.0.0.1' as IpText, destIp: '127.0.0.2' as IpText, destPort: 8080 };
const tls: AuthzConnection = {
  source: { identity: 'spiffe://td/ns/namespace/sa/account' as SpiffeId, namespace: 'namespace' },
  sourceIp: '127.0.0.1' as IpText, destIp: '127.0.0.2' as IpText, destPort: 8080,
};
const tlsAlt: AuthzConnection = {
  source: { identity: 'spiffe://td-alt/ns/ns-alt/sa/sa-alt' as SpiffeId, namespace: 'ns-alt' },
  sourceIp: '127.0.0.3' as IpText, destIp: '127.0.0.4' as IpText, destPort: 9090,
};

const cidr = (ip: string, length: number): CidrAddress => ({ address: ipBytes(ip), length });
const exact = (s: string): StringMatch => ({ exact: s });

function policy(rules: Rule[] | undefined, action: 'ALLOW' | 'DENY' = 'ALLOW', name = 'p'): Authorization {
  return { name, namespace: 'ns', scope: 'GLOBAL', action, ...(rules ? { rules } : {}) };
}
const one = (m: Match): Rule[] => [{ clauses: [{ matches: [m] }] }];

// [field set, plaintext, tls, tlsAlt] → whether the policy matches
const fieldCases: Array<[string, Match, boolean, boolean, boolean]> = [
  ['namespaces', { namespaces: [exact('namespace')] }, false, true, false],
  ['notNamespaces', { notNamespaces: [exact('namespace')] }, true, false, true],
  ['principals (no spiffe:// in the policy)', { principals: [exact('td/ns/namespace/sa/account')] }, false, true, false],
  ['notPrincipals', { notPrincipals: [exact('td/ns/namespace/sa/account')] }, true, false, true],
  ['principals written with spiffe:// never match (Istio strips the prefix from the peer only)', { principals: [exact('spiffe://td/ns/namespace/sa/account')] }, false, false, false],
  ['principal service-account suffix (the controller\'s serviceAccounts form)', { principals: [{ suffix: '/ns/namespace/sa/account' }] }, false, true, false],
  ['principal presence = any mTLS peer', { principals: [{ presence: {} }] }, false, true, true],
  ['notPrincipals presence = plaintext only', { notPrincipals: [{ presence: {} }] }, true, false, false],
  ['principal prefix on trust domain', { principals: [{ prefix: 'td-alt/' }] }, false, false, true],
  ['sourceIps', { sourceIps: [cidr('127.0.0.1', 32)] }, true, true, false],
  ['notSourceIps', { notSourceIps: [cidr('127.0.0.1', 32)] }, false, false, true],
  ['destinationIps', { destinationIps: [cidr('127.0.0.2', 32)] }, true, true, false],
  ['notDestinationIps', { notDestinationIps: [cidr('127.0.0.2', 32)] }, false, false, true],
  ['destinationIps /24 range', { destinationIps: [cidr('127.0.0.1', 24)] }, true, true, true],
  ['destinationIps /31 partial byte', { destinationIps: [cidr('127.0.0.4', 31)] }, false, false, true],
  ['destinationPorts', { destinationPorts: [8080] }, true, true, false],
  ['notDestinationPorts', { notDestinationPorts: [8080] }, false, false, true],
  ['values of a field are OR-ed', { namespaces: [exact('nope'), exact('ns-alt')] }, false, false, true],
  ['fields of a match are AND-ed', { namespaces: [exact('namespace')], destinationPorts: [9090] }, false, false, false],
  ['positive and not_ of one field together', { sourceIps: [cidr('127.0.0.0', 8)], notSourceIps: [cidr('127.0.0.3', 32)] }, true, true, false],
  ['an invalid CIDR is dropped (as ztunnel does), leaving no constraint', { sourceIps: [{ address: Uint8Array.from([1, 2, 3]), length: 8 }] }, true, true, true],
  ['a StringMatch with no member is dropped', { namespaces: [{} as StringMatch] }, true, true, true],
];

for (const [name, m, p, t, a] of fieldCases) {
  test(`field: ${name}`, () => {
    const pol = policy(one(m));
    assert.deepEqual([policyMatches(pol, plaintext), policyMatches(pol, tls), policyMatches(pol, tlsAlt)], [p, t, a]);
  });
}

const stringCases: Array<[StringMatch, string, boolean]> = [
  [{ exact: 'foo' }, 'foo', true], [{ exact: 'foo' }, 'not', false], [{ exact: 'foo' }, '', false],
  [{ prefix: 'foo' }, 'foobar', true], [{ prefix: 'foo' }, 'notfoo', false], [{ prefix: 'foo' }, '', false],
  [{ suffix: 'foo' }, 'barfoo', true], [{ suffix: 'foo' }, 'foonot', false], [{ suffix: 'foo' }, '', false],
  [{ presence: {} }, 'foo', true], [{ presence: {} }, '', false],
];
for (const [m, ns, want] of stringCases) {
  test(`string match ${JSON.stringify(m)} on namespace "${ns}" → ${want}`, () => {
    const conn: AuthzConnection = { ...tls, source: { identity: tls.source!.identity, namespace: ns } };
    assert.equal(policyMatches(policy(one({ namespaces: [m] })), conn), want);
  });
}

test('structure: empty match, empty clause, empty rule, no rules (ztunnel rbac_empty_policy)', () => {
  assert.equal(policyMatches(policy([{ clauses: [{ matches: [{}] }] }]), plaintext), false, 'an empty Match matches nothing');
  assert.equal(policyMatches(policy([{ clauses: [{ matches: [] }] }]), plaintext), true, 'a clause without matches matches');
  assert.equal(policyMatches(policy([{ clauses: [{}] }]), plaintext), true, 'matches absent = none');
  assert.equal(policyMatches(policy([{ clauses: [] }]), plaintext), true, 'a rule without clauses matches');
  assert.equal(policyMatches(policy([{}]), plaintext), true);
  assert.equal(policyMatches(policy([]), plaintext), false, 'no rules matches nothing');
  assert.equal(policyMatches(policy(undefined), plaintext), false);
});

test('structure: clauses AND-ed, matches OR-ed (ztunnel rbac_nesting)', () => {
  const pol = policy([{ clauses: [
    { matches: [{ namespaces: [exact('a')] }, { namespaces: [exact('b')] }] },
    { matches: [{ destinationPorts: [80] }] },
  ] }]);
  const conn = (ns: string, port: number): AuthzConnection => ({ ...tls, source: { identity: tls.source!.identity, namespace: ns }, destPort: port });
  assert.equal(policyMatches(pol, conn('a', 80)), true);
  assert.equal(policyMatches(pol, conn('b', 80)), true);
  assert.equal(policyMatches(pol, conn('bad', 80)), false);
  assert.equal(policyMatches(pol, conn('b', 12345)), false);
});

test('structure: rules OR-ed (ztunnel rbac_multi_rule)', () => {
  const pol = policy([...one({ namespaces: [exact('a')] }), ...one({ namespaces: [exact('b')] })]);
  const conn = (ns: string): AuthzConnection => ({ ...tls, source: { identity: tls.source!.identity, namespace: ns } });
  assert.deepEqual(['a', 'b', 'bad'].map((n) => policyMatches(pol, conn(n))), [true, true, false]);
});

test('CIDRs: IPv6, IPv4 vs IPv6 family, IPv4-mapped source, /0', () => {
  const v6: AuthzConnection = { ...tls, sourceIp: 'fd00:244::5' as IpText, destIp: 'fd00:244::9' as IpText };
  assert.equal(policyMatches(policy(one({ sourceIps: [cidr('fd00:244::', 64)] })), v6), true);
  assert.equal(policyMatches(policy(one({ sourceIps: [cidr('fd00:245::', 64)] })), v6), false);
  assert.equal(policyMatches(policy(one({ sourceIps: [cidr('fd00:244::4', 127)] })), v6), true);
  assert.equal(policyMatches(policy(one({ sourceIps: [cidr('0.0.0.0', 0)] })), v6), false, 'a v4 CIDR never holds a v6 address');
  assert.equal(policyMatches(policy(one({ sourceIps: [cidr('::', 0)] })), v6), true);
  const mapped: AuthzConnection = { ...tls, sourceIp: '::ffff:10.244.1.7' as IpText };
  assert.equal(policyMatches(policy(one({ sourceIps: [cidr('10.244.1.0', 24)] })), mapped), true, 'v4-mapped v6 counts as v4');
});

test('verdict: no policies → allowed', () => {
  assert.deepEqual(authorize(plaintext, []), { allowed: true, reason: 'no ALLOW policy applies and no DENY policy matched' });
});

test('verdict: a non-matching DENY alone → allowed', () => {
  const v = authorize(tls, [policy(one({ namespaces: [exact('evil')] }), 'DENY', 'd')]);
  assert.equal(v.allowed, true);
  assert.equal(v.policy, undefined);
});

test('verdict: DENY wins over a matching ALLOW, whatever the order', () => {
  const allow = policy(one({ namespaces: [exact('namespace')] }), 'ALLOW', 'a');
  const deny = policy(one({ destinationPorts: [8080] }), 'DENY', 'd');
  for (const ps of [[allow, deny], [deny, allow]]) {
    assert.deepEqual(authorize(tls, ps), { allowed: false, policy: 'ns/d', action: 'DENY', reason: 'denied by DENY policy ns/d' });
  }
});

test('verdict: an ALLOW applies → only matching sources are allowed', () => {
  const allow = policy(one({ principals: [{ suffix: '/ns/namespace/sa/account' }] }), 'ALLOW', 'a');
  assert.deepEqual(authorize(tls, [allow]), { allowed: true, policy: 'ns/a', action: 'ALLOW', reason: 'allowed by ALLOW policy ns/a' });
  const alt = authorize(tlsAlt, [allow]);
  assert.equal(alt.allowed, false);
  assert.equal(alt.policy, undefined);
  assert.match(alt.reason, /no ALLOW policy matched \(ns\/a apply\)/);
  assert.equal(authorize(plaintext, [allow]).allowed, false);
});

test('verdict: any one of several ALLOW policies suffices', () => {
  const a = policy(one({ namespaces: [exact('x')] }), 'ALLOW', 'a');
  const b = policy(one({ namespaces: [exact('ns-alt')] }), 'ALLOW', 'b');
  assert.equal(authorize(tlsAlt, [a, b]).policy, 'ns/b');
});

test('verdict: an ALLOW policy without rules denies everything; a DENY without rules denies nothing', () => {
  assert.equal(authorize(tls, [policy([], 'ALLOW')]).allowed, false);
  assert.equal(authorize(tls, [policy([], 'DENY')]).allowed, true);
});

test('verdict: action absent is ALLOW (proto default)', () => {
  const p: Authorization = { name: 'p', namespace: 'ns', rules: one({ namespaces: [exact('nope')] }) };
  assert.equal(authorize(tls, [p]).allowed, false);
});

// The static STRICT policy exactly as controller/policy/peer-authentication.ts publishes it.
const strict: Authorization = {
  name: 'istio_converted_static_strict', namespace: 'istio-system', scope: 'WORKLOAD_SELECTOR', action: 'DENY',
  rules: [{ clauses: [{ matches: [{ notPrincipals: [{ presence: {} }] }] }] }],
};

test('STRICT: plaintext is denied, mTLS allowed', () => {
  assert.deepEqual(authorize(plaintext, [strict]), {
    allowed: false, policy: 'istio-system/istio_converted_static_strict', action: 'DENY',
    reason: 'denied by DENY policy istio-system/istio_converted_static_strict',
  });
  assert.equal(authorize(tls, [strict]).allowed, true);
  assert.equal(authorize(tlsAlt, [strict]).allowed, true);
});

test('STRICT with a port-level PERMISSIVE exception (the converted DENY shape)', () => {
  // Istio's converted_peer_authentication_<name>: deny plaintext except on port 9090.
  const converted: Authorization = {
    name: 'converted_peer_authentication_x', namespace: 'ns', scope: 'WORKLOAD_SELECTOR', action: 'DENY',
    rules: [{ clauses: [{ matches: [{ notPrincipals: [{ presence: {} }] }] }, { matches: [{ notDestinationPorts: [9090] }] }] }],
  };
  assert.equal(authorize({ ...plaintext, destPort: 8080 }, [converted]).allowed, false);
  assert.equal(authorize({ ...plaintext, destPort: 9090 }, [converted]).allowed, true);
  assert.equal(authorize(tls, [converted]).allowed, true);
});

test('an identity without the spiffe:// prefix matches no principal', () => {
  const odd: AuthzConnection = { ...tls, source: { identity: 'td/ns/namespace/sa/account' as SpiffeId, namespace: 'namespace' } };
  assert.equal(policyMatches(policy(one({ principals: [exact('td/ns/namespace/sa/account')] })), odd), false);
  assert.equal(policyMatches(policy(one({ principals: [{ presence: {} }] })), odd), false);
});
