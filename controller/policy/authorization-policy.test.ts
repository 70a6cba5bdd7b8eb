// Table tests for AuthorizationPolicy → Authorization (scopes, actions, matches, fail-closed L7,
// dry-run, skipped kinds, and every rejection).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { convertAuthorizationPolicy } from './index.ts';
import type { Address, Authorization, Conversion, PolicyResource } from './index.ts';

const ap = (namespace: string, spec: unknown, extra: { name?: string; annotations?: Record<string, string> } = {}): PolicyResource => ({
  metadata: { name: extra.name ?? 'p', namespace, ...(extra.annotations ? { annotations: extra.annotations } : {}) },
  spec,
});
const v4 = (a: number, b: number, c: number, d: number, length = 32): Address => ({ address: Uint8Array.from([a, b, c, d]), length });
const presence = { presence: {} };
const allowFromSa = { rules: [{ from: [{ source: { principals: ['cluster.local/ns/a/sa/b'] } }] }] };

test('scope follows namespace and selector; the name is <namespace>/<name>', () => {
  const cases: { name: string; input: PolicyResource; root?: string; scope: string }[] = [
    { name: 'root namespace, no selector', input: ap('istio-system', allowFromSa), scope: 'GLOBAL' },
    { name: 'custom root namespace', input: ap('mesh-root', allowFromSa), root: 'mesh-root', scope: 'GLOBAL' },
    { name: 'istio-system is not root when another is', input: ap('istio-system', allowFromSa), root: 'mesh-root', scope: 'NAMESPACE' },
    { name: 'namespace, no selector', input: ap('shop', allowFromSa), scope: 'NAMESPACE' },
    { name: 'selector', input: ap('shop', { ...allowFromSa, selector: { matchLabels: { app: 'web' } } }), scope: 'WORKLOAD_SELECTOR' },
    { name: 'root namespace with selector', input: ap('istio-system', { ...allowFromSa, selector: { matchLabels: { app: 'web' } } }), scope: 'WORKLOAD_SELECTOR' },
  ];
  for (const c of cases) {
    const r = convertAuthorizationPolicy(c.input, c.root ? { rootNamespace: c.root } : {});
    assert.equal(r.authorization?.scope, c.scope, c.name);
    assert.equal(r.resourceName, `${c.input.metadata.namespace}/p`, c.name);
    assert.equal(r.authorization?.name, 'p', c.name);
    assert.equal(r.authorization?.namespace, c.input.metadata.namespace, c.name);
    assert.deepEqual(r.status, { accepted: true, reason: 'Accepted', message: 'attached to ztunnel' }, c.name);
  }
});

test('actions: ALLOW (default) and DENY are enforced; AUDIT and CUSTOM are skipped with a reason', () => {
  const cases: { action?: string; extra?: object; want?: string; reason: string }[] = [
    { want: 'ALLOW', reason: 'Accepted' },
    { action: 'ALLOW', want: 'ALLOW', reason: 'Accepted' },
    { action: 'DENY', want: 'DENY', reason: 'Accepted' },
    { action: 'AUDIT', reason: 'UnsupportedValue' },
    { action: 'CUSTOM', extra: { provider: { name: 'ext-authz' } }, reason: 'UnsupportedValue' },
  ];
  for (const c of cases) {
    const r = convertAuthorizationPolicy(ap('shop', { ...allowFromSa, ...(c.action ? { action: c.action } : {}), ...c.extra }));
    assert.equal(r.authorization?.action, c.want, String(c.action));
    assert.equal(r.status.reason, c.reason, String(c.action));
    assert.equal(r.status.accepted, c.want !== undefined, String(c.action));
    if (!c.want) assert.match(r.status.message, new RegExp(`ztunnel does not support the ${c.action} action`));
  }
});

test('empty policies: ALLOW with no rules allows nothing, a rule {} matches everything', () => {
  assert.deepEqual(convertAuthorizationPolicy(ap('shop', {})).authorization?.rules, []);
  assert.deepEqual(convertAuthorizationPolicy(ap('shop', undefined)).authorization?.rules, []);
  assert.deepEqual(convertAuthorizationPolicy(ap('shop', { rules: [{}] })).authorization?.rules, [{ clauses: [] }]);
  assert.deepEqual(convertAuthorizationPolicy(ap('shop', { action: 'DENY' })).authorization?.rules, []);
});

test('source fields become matches; to, from and each when are AND-ed Rules of one group', () => {
  type Case = { name: string; rule: unknown; groups: Authorization['rules'] };
  const cases: Case[] = [
    {
      name: 'principal forms: exact, prefix, suffix, presence',
      rule: { from: [{ source: { principals: ['cluster.local/ns/a/sa/b', 'cluster.local/ns/a/*', '*/sa/b', '*'] } }] },
      groups: [{ clauses: [{ matches: [{ principals: [
        { exact: 'cluster.local/ns/a/sa/b' }, { prefix: 'cluster.local/ns/a/' }, { suffix: '/sa/b' }, presence,
      ] }] }] }],
    },
    {
      name: 'notPrincipals',
      rule: { from: [{ source: { notPrincipals: ['cluster.local/ns/x/sa/y'] } }] },
      groups: [{ clauses: [{ matches: [{ notPrincipals: [{ exact: 'cluster.local/ns/x/sa/y' }] }] }] }],
    },
    {
      name: 'namespaces and notNamespaces (with wildcard)',
      rule: { from: [{ source: { namespaces: ['shop', 'team-*'], notNamespaces: ['*-test'] } }] },
      groups: [{ clauses: [{ matches: [{ namespaces: [{ exact: 'shop' }, { prefix: 'team-' }], notNamespaces: [{ suffix: '-test' }] }] }] }],
    },
    {
      name: 'ipBlocks and notIpBlocks, v4 and v6',
      rule: { from: [{ source: { ipBlocks: ['10.0.0.0/8', '192.168.1.7'], notIpBlocks: ['fd00::/8', '::1'] } }] },
      groups: [{ clauses: [{ matches: [{
        sourceIps: [v4(10, 0, 0, 0, 8), v4(192, 168, 1, 7)],
        notSourceIps: [
          { address: Uint8Array.from([0xfd, ...new Array(15).fill(0)]), length: 8 },
          { address: Uint8Array.from([...new Array(15).fill(0), 1]), length: 128 },
        ],
      }] }] }],
    },
    {
      name: 'ports and notPorts',
      rule: { to: [{ operation: { ports: ['8080', '9090'] } }, { operation: { notPorts: ['22'] } }] },
      groups: [{ clauses: [{ matches: [{ destinationPorts: [8080, 9090] }, { notDestinationPorts: [22] }] }] }],
    },
    {
      name: 'from sources are OR-ed matches; to and from are separate AND-ed Rules',
      rule: {
        from: [{ source: { namespaces: ['a'] } }, { source: { principals: ['cluster.local/ns/b/sa/c'] } }],
        to: [{ operation: { ports: ['80'] } }],
      },
      groups: [{ clauses: [
        { matches: [{ destinationPorts: [80] }] },
        { matches: [{ namespaces: [{ exact: 'a' }] }, { principals: [{ exact: 'cluster.local/ns/b/sa/c' }] }] },
      ] }],
    },
    {
      name: 'L4 when keys with values and notValues',
      rule: { when: [
        { key: 'source.ip', values: ['10.1.0.0/16'] },
        { key: 'source.namespace', notValues: ['blocked'] },
        { key: 'source.principal', values: ['*'] },
        { key: 'destination.port', values: ['443'], notValues: ['8443'] },
        { key: 'destination.ip', values: ['10.2.0.1'] },
      ] },
      groups: [{ clauses: [
        { matches: [{ sourceIps: [v4(10, 1, 0, 0, 16)] }] },
        { matches: [{ notNamespaces: [{ exact: 'blocked' }] }] },
        { matches: [{ principals: [presence] }] },
        { matches: [{ destinationPorts: [443], notDestinationPorts: [8443] }] },
        { matches: [{ destinationIps: [v4(10, 2, 0, 1)] }] },
      ] }],
    },
    {
      name: 'serviceAccounts become principal suffixes (policy namespace by default); notServiceAccounts join notPrincipals',
      rule: { from: [{ source: { serviceAccounts: ['web', 'other/api'], notPrincipals: ['cluster.local/ns/x/sa/y'], notServiceAccounts: ['bad'] } }] },
      groups: [{ clauses: [{ matches: [{
        principals: [{ suffix: '/ns/shop/sa/web' }, { suffix: '/ns/other/sa/api' }],
        notPrincipals: [{ exact: 'cluster.local/ns/x/sa/y' }, { suffix: '/ns/shop/sa/bad' }],
      }] }] }],
    },
  ];
  for (const c of cases) {
    for (const action of ['ALLOW', 'DENY']) {
      const r = convertAuthorizationPolicy(ap('shop', { action, rules: [c.rule] }));
      assert.deepEqual(r.authorization?.rules, c.groups, `${c.name} (${action})`);
      assert.equal(r.status.reason, 'Accepted', `${c.name} (${action})`);
    }
  }
});

test('L7 fields fail closed: ALLOW drops the rule, DENY keeps its L4 parts', () => {
  type Case = { name: string; action: 'ALLOW' | 'DENY'; rules: unknown[]; groups: Authorization['rules']; found: string };
  const l4Rule = { from: [{ source: { namespaces: ['ok'] } }] };
  const l4Group = { clauses: [{ matches: [{ namespaces: [{ exact: 'ok' }] }] }] };
  const cases: Case[] = [
    { name: 'ALLOW with only L7: no groups, so nothing is allowed', action: 'ALLOW',
      rules: [{ to: [{ operation: { methods: ['GET'], paths: ['/x'] } }] }], groups: [], found: 'methods, paths' },
    { name: 'ALLOW mixing an L7 rule and an L4 rule keeps only the L4 rule', action: 'ALLOW',
      rules: [{ to: [{ operation: { hosts: ['a.example'] } }] }, l4Rule], groups: [l4Group], found: 'hosts' },
    { name: 'ALLOW with a mixed rule (L4 + L7 in one rule) drops the whole rule', action: 'ALLOW',
      rules: [{ from: [{ source: { namespaces: ['ok'] } }], to: [{ operation: { ports: ['80'], methods: ['GET'] } }] }], groups: [], found: 'methods' },
    { name: 'ALLOW with requestPrincipals', action: 'ALLOW',
      rules: [{ from: [{ source: { requestPrincipals: ['iss/sub'] } }] }], groups: [], found: 'requestPrincipals' },
    { name: 'ALLOW with remoteIpBlocks (HTTP-derived in Istio)', action: 'ALLOW',
      rules: [{ from: [{ source: { remoteIpBlocks: ['1.2.3.4'] } }] }], groups: [], found: 'remoteIpBlocks' },
    { name: 'ALLOW with an L7 when key', action: 'ALLOW',
      rules: [{ from: [{ source: { namespaces: ['ok'] } }], when: [{ key: 'request.headers[x-user]', values: ['a'] }] }], groups: [], found: 'request.headers[x-user]' },
    { name: 'ALLOW with serviceAccounts and principals in one source (not expressible)', action: 'ALLOW',
      rules: [{ from: [{ source: { principals: ['cluster.local/ns/a/sa/b'], serviceAccounts: ['c'] } }] }], groups: [], found: 'serviceAccounts with principals' },
    { name: 'DENY with a mixed rule keeps the L4 part (denies more)', action: 'DENY',
      rules: [{ from: [{ source: { namespaces: ['ok'] } }], to: [{ operation: { ports: ['80'], methods: ['GET'] } }] }],
      groups: [{ clauses: [{ matches: [{ destinationPorts: [80] }] }, { matches: [{ namespaces: [{ exact: 'ok' }] }] }] }], found: 'methods' },
    { name: 'DENY with only L7 fields denies every connection (empty match), as Istio does', action: 'DENY',
      rules: [{ to: [{ operation: { paths: ['/admin'] } }] }], groups: [{ clauses: [{ matches: [{}] }] }], found: 'paths' },
    { name: 'DENY with an L7 when key keeps an always-matching clause', action: 'DENY',
      rules: [{ from: [{ source: { namespaces: ['ok'] } }], when: [{ key: 'request.auth.claims[group]', values: ['x'] }] }],
      groups: [{ clauses: [{ matches: [{ namespaces: [{ exact: 'ok' }] }] }, { matches: [{}] }] }], found: 'request.auth.claims[group]' },
  ];
  for (const c of cases) {
    const r = convertAuthorizationPolicy(ap('shop', { action: c.action, rules: c.rules }));
    assert.deepEqual(r.authorization?.rules, c.groups, c.name);
    assert.equal(r.authorization?.action, c.action, c.name);
    assert.equal(r.status.accepted, true, c.name);
    assert.equal(r.status.reason, 'UnsupportedValue', c.name);
    assert.ok(r.status.message.includes(`(found: ${c.found})`), `${c.name}: ${r.status.message}`);
    assert.match(r.status.message, c.action === 'ALLOW' ? /rules matching HTTP attributes are omitted/ : /enforced without the HTTP rules/, c.name);
  }
});

test('dry-run: sets dryRun when the wire carries it, else the policy is not sent', () => {
  const cases: { value?: string; dryRun: boolean }[] = [
    { value: 'true', dryRun: true }, { value: 'True', dryRun: true }, { value: '1', dryRun: true },
    { value: 'false', dryRun: false }, { dryRun: false },
  ];
  for (const c of cases) {
    const input = ap('shop', allowFromSa, c.value === undefined ? {} : { annotations: { 'istio.io/dry-run': c.value } });
    const supported = convertAuthorizationPolicy(input, { dryRunSupported: true });
    assert.equal(supported.authorization?.dryRun, c.dryRun ? true : undefined, String(c.value));
    assert.equal(supported.status.accepted, true);
    const unsupported = convertAuthorizationPolicy(input);
    assert.equal(unsupported.authorization === undefined, c.dryRun, String(c.value));
    assert.equal(unsupported.status.accepted, !c.dryRun, String(c.value));
    if (c.dryRun) assert.match(unsupported.status.message, /remove the istio.io\/dry-run annotation/);
  }
});

test('targetRefs policies are for waypoints and are not sent to ztunnel', () => {
  for (const spec of [
    { targetRefs: [{ kind: 'Service', group: '', name: 'web' }], ...allowFromSa },
    { targetRef: { kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'waypoint' }, ...allowFromSa },
  ]) {
    const r = convertAuthorizationPolicy(ap('shop', spec));
    assert.equal(r.authorization, undefined);
    assert.equal(r.status.reason, 'NotForZtunnel');
    assert.match(r.status.message, /waypoint/);
  }
});

test('malformed input is rejected with the field and a fix, never thrown', () => {
  const cases: { name: string; input: PolicyResource; field: string }[] = [
    { name: 'spec not an object', input: ap('shop', 'allow'), field: 'spec' },
    { name: 'unknown spec field', input: ap('shop', { rule: [] }), field: 'spec.rule' },
    { name: 'unknown action', input: ap('shop', { action: 'PERMIT' }), field: 'spec.action' },
    { name: 'action of wrong type', input: ap('shop', { action: 1 }), field: 'spec.action' },
    { name: 'invalid label key', input: ap('shop', { selector: { matchLabels: { 'bad key!': 'x' } } }), field: 'spec.selector.matchLabels' },
    { name: 'wildcard label value', input: ap('shop', { selector: { matchLabels: { app: 'web*' } } }), field: 'spec.selector.matchLabels.app' },
    { name: 'matchLabels not a map', input: ap('shop', { selector: { matchLabels: ['app'] } }), field: 'spec.selector.matchLabels' },
    { name: 'selector and targetRefs', input: ap('shop', { selector: { matchLabels: { a: 'b' } }, targetRefs: [{ kind: 'Service', name: 'x' }] }), field: 'spec' },
    { name: 'targetRef without name', input: ap('shop', { targetRefs: [{ kind: 'Service' }] }), field: 'spec.targetRefs[0].name' },
    { name: 'rules not a list', input: ap('shop', { rules: {} }), field: 'spec.rules' },
    { name: 'from without source', input: ap('shop', { rules: [{ from: [{}] }] }), field: 'spec.rules[0].from[0].source' },
    { name: 'empty source', input: ap('shop', { rules: [{ from: [{ source: {} }] }] }), field: 'spec.rules[0].from[0].source' },
    { name: 'misspelt source field', input: ap('shop', { rules: [{ from: [{ source: { principles: ['x'] } }] }] }), field: 'spec.rules[0].from[0].source.principles' },
    { name: 'principals not strings', input: ap('shop', { rules: [{ from: [{ source: { principals: [5] } }] }] }), field: 'spec.rules[0].from[0].source.principals[0]' },
    { name: 'principal with inner *', input: ap('shop', { rules: [{ from: [{ source: { principals: ['cluster.local/*/sa/x'] } }] }] }), field: 'spec.rules[0].from[0].source.principals[0]' },
    { name: 'empty namespace string', input: ap('shop', { rules: [{ from: [{ source: { namespaces: [''] } }] }] }), field: 'spec.rules[0].from[0].source.namespaces[0]' },
    { name: 'bad CIDR prefix', input: ap('shop', { rules: [{ from: [{ source: { ipBlocks: ['10.0.0.0/33'] } }] }] }), field: 'spec.rules[0].from[0].source.ipBlocks[0]' },
    { name: 'bad IP', input: ap('shop', { rules: [{ from: [{ source: { notIpBlocks: ['10.0.0.256'] } }] }] }), field: 'spec.rules[0].from[0].source.notIpBlocks[0]' },
    { name: 'bad IPv6', input: ap('shop', { rules: [{ from: [{ source: { ipBlocks: ['fd00:::1'] } }] }] }), field: 'spec.rules[0].from[0].source.ipBlocks[0]' },
    { name: 'bad service account', input: ap('shop', { rules: [{ from: [{ source: { serviceAccounts: ['a/b/c'] } }] }] }), field: 'spec.rules[0].from[0].source.serviceAccounts[0]' },
    { name: 'port not a number', input: ap('shop', { rules: [{ to: [{ operation: { ports: ['http'] } }] }] }), field: 'spec.rules[0].to[0].operation.ports[0]' },
    { name: 'port out of range', input: ap('shop', { rules: [{ to: [{ operation: { notPorts: ['70000'] } }] }] }), field: 'spec.rules[0].to[0].operation.notPorts[0]' },
    { name: 'port zero', input: ap('shop', { rules: [{ to: [{ operation: { ports: ['0'] } }] }] }), field: 'spec.rules[0].to[0].operation.ports[0]' },
    { name: 'ports as numbers', input: ap('shop', { rules: [{ to: [{ operation: { ports: [80] } }] }] }), field: 'spec.rules[0].to[0].operation.ports[0]' },
    { name: 'to without operation', input: ap('shop', { rules: [{ to: [{}] }] }), field: 'spec.rules[0].to[0].operation' },
    { name: 'when without values', input: ap('shop', { rules: [{ when: [{ key: 'source.ip' }] }] }), field: 'spec.rules[0].when[0]' },
    { name: 'when with unknown key', input: ap('shop', { rules: [{ when: [{ key: 'source.color', values: ['x'] }] }] }), field: 'spec.rules[0].when[0].key' },
    { name: 'when destination.port not a port', input: ap('shop', { rules: [{ when: [{ key: 'destination.port', values: ['x'] }] }] }), field: 'spec.rules[0].when[0].values[0]' },
    { name: 'when source.ip not an IP', input: ap('shop', { rules: [{ when: [{ key: 'source.ip', notValues: ['nope'] }] }] }), field: 'spec.rules[0].when[0].notValues[0]' },
    { name: 'CUSTOM without provider', input: ap('shop', { action: 'CUSTOM' }), field: 'spec.provider' },
    { name: 'provider without CUSTOM', input: ap('shop', { action: 'DENY', provider: { name: 'x' } }), field: 'spec.provider' },
    { name: 'bad dry-run value', input: ap('shop', {}, { annotations: { 'istio.io/dry-run': 'yes' } }), field: 'metadata.annotations["istio.io/dry-run"]' },
    { name: 'missing namespace', input: { metadata: { name: 'p' } } as unknown as PolicyResource, field: 'metadata' },
  ];
  for (const c of cases) {
    let r: Conversion | undefined;
    assert.doesNotThrow(() => { r = convertAuthorizationPolicy(c.input); }, c.name);
    assert.equal(r?.authorization, undefined, c.name);
    assert.equal(r?.status.accepted, false, c.name);
    assert.equal(r?.status.reason, 'Invalid', c.name);
    assert.ok(r?.status.message.startsWith(`invalid AuthorizationPolicy: ${c.field}: `), `${c.name}: ${r?.status.message}`);
  }
  // Not even an object: still no throw.
  const r = convertAuthorizationPolicy(null as unknown as PolicyResource);
  assert.equal(r.status.accepted, false);
});
