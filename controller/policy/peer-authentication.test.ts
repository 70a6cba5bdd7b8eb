// Table tests for PeerAuthentication: mode statuses at each scope, port-level conversion both ways
// (with inheritance from namespace and mesh policies), the static STRICT policy, and rejections.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { convertPeerAuthentication, staticStrictPolicy, peerAuthenticationPoliciesForWorkload } from './index.ts';
import type { Authorization, PolicyResource } from './index.ts';

const pa = (namespace: string, name: string, spec: unknown, created = '2026-01-01T00:00:00Z'): PolicyResource => ({
  metadata: { name, namespace, creationTimestamp: created },
  spec,
});
const mode = (m: string): { mode: string } => ({ mode: m });
const sel = { selector: { matchLabels: { app: 'web' } } };
const denyPlain = { matches: [{ notPrincipals: [{ presence: {} }] }] };
const exemptPort = (p: number): { matches: { notDestinationPorts: number[] }[] } => ({ matches: [{ notDestinationPorts: [p] }] });
const strictPort = (p: number): NonNullable<Authorization['rules']> => [{ clauses: [{ matches: [{ notPrincipals: [{ presence: {} }], destinationPorts: [p] }] }] }];
const STATIC = 'istio-system/istio_converted_static_strict';

test('static STRICT policy: a DENY of connections without a peer identity, in the root namespace', () => {
  const s = staticStrictPolicy();
  assert.equal(s.resourceName, STATIC);
  assert.deepEqual(s.authorization, {
    name: 'istio_converted_static_strict', namespace: 'istio-system', scope: 'WORKLOAD_SELECTOR', action: 'DENY',
    rules: [{ clauses: [denyPlain] }],
  });
  assert.equal(staticStrictPolicy({ rootNamespace: 'mesh' }).resourceName, 'mesh/istio_converted_static_strict');
});

test('modes without port-level settings produce no per-resource policy, and say how they are enforced', () => {
  const cases: { name: string; input: PolicyResource; accepted: boolean; message: RegExp }[] = [
    { name: 'mesh-wide STRICT', input: pa('istio-system', 'default', { mtls: mode('STRICT') }), accepted: true, message: /mesh-wide STRICT is enforced by istio-system\/istio_converted_static_strict/ },
    { name: 'namespace STRICT', input: pa('shop', 'default', { mtls: mode('STRICT') }), accepted: true, message: /namespace-wide STRICT is enforced by/ },
    { name: 'selector STRICT', input: pa('shop', 'web', { ...sel, mtls: mode('STRICT') }), accepted: true, message: /workload STRICT is enforced by/ },
    { name: 'PERMISSIVE', input: pa('shop', 'default', { mtls: mode('PERMISSIVE') }), accepted: true, message: /PERMISSIVE needs no ztunnel policy/ },
    { name: 'DISABLE', input: pa('shop', 'default', { mtls: mode('DISABLE') }), accepted: true, message: /DISABLE needs no ztunnel policy/ },
    { name: 'UNSET', input: pa('shop', 'default', {}), accepted: true, message: /UNSET inherits/ },
    { name: 'selector in the root namespace', input: pa('istio-system', 'web', { ...sel, mtls: mode('STRICT') }), accepted: false, message: /ignored in ambient mode/ },
  ];
  for (const c of cases) {
    const r = convertPeerAuthentication(c.input);
    assert.equal(r.authorization, undefined, c.name);
    assert.equal(r.status.accepted, c.accepted, c.name);
    assert.match(r.status.message, c.message, c.name);
  }
});

test('port-level mTLS converts to a DENY policy with Istio\'s name and shape', () => {
  type Case = { name: string; spec: object; parents?: PolicyResource[]; rules?: Authorization['rules'] };
  const cases: Case[] = [
    { name: 'STRICT workload, PERMISSIVE port: deny plaintext except on that port',
      spec: { mtls: mode('STRICT'), portLevelMtls: { 8080: mode('PERMISSIVE') } },
      rules: [{ clauses: [denyPlain, exemptPort(8080)] }] },
    { name: 'STRICT workload, DISABLE port is exempt too',
      spec: { mtls: mode('STRICT'), portLevelMtls: { 9000: mode('DISABLE') } },
      rules: [{ clauses: [denyPlain, exemptPort(9000)] }] },
    { name: 'STRICT workload, all ports STRICT: the static policy covers it',
      spec: { mtls: mode('STRICT'), portLevelMtls: { 8080: mode('STRICT') } } },
    { name: 'PERMISSIVE workload, STRICT port: deny plaintext on that port only',
      spec: { mtls: mode('PERMISSIVE'), portLevelMtls: { 9090: mode('STRICT') } },
      rules: strictPort(9090) },
    { name: 'PERMISSIVE workload, STRICT port under a STRICT mesh policy still denies that port',
      spec: { mtls: mode('PERMISSIVE'), portLevelMtls: { 9090: mode('STRICT') } },
      parents: [pa('istio-system', 'default', { mtls: mode('STRICT') })],
      rules: strictPort(9090) },
    { name: 'two STRICT ports under PERMISSIVE: one OR-ed rule per port, sorted',
      spec: { mtls: mode('PERMISSIVE'), portLevelMtls: { 9091: mode('STRICT'), 81: mode('STRICT') } },
      rules: [...strictPort(81), ...strictPort(9091)] },
    { name: 'PERMISSIVE workload, PERMISSIVE port: nothing',
      spec: { mtls: mode('PERMISSIVE'), portLevelMtls: { 8080: mode('PERMISSIVE') } } },
    { name: 'UNSET workload under a STRICT namespace, PERMISSIVE port: exemption merged with STRICT',
      spec: { portLevelMtls: { 8080: mode('PERMISSIVE') } },
      parents: [pa('shop', 'default', { mtls: mode('STRICT') })],
      rules: [{ clauses: [exemptPort(8080), denyPlain] }] },
    { name: 'UNSET workload under a STRICT mesh and UNSET namespace inherits STRICT',
      spec: { portLevelMtls: { 8080: mode('PERMISSIVE') } },
      parents: [pa('istio-system', 'default', { mtls: mode('STRICT') }), pa('shop', 'default', {})],
      rules: [{ clauses: [exemptPort(8080), denyPlain] }] },
    { name: 'UNSET workload under a PERMISSIVE namespace (STRICT mesh): PERMISSIVE port adds nothing',
      spec: { portLevelMtls: { 8080: mode('PERMISSIVE') } },
      parents: [pa('istio-system', 'default', { mtls: mode('STRICT') }), pa('shop', 'default', { mtls: mode('PERMISSIVE') })] },
    { name: 'UNSET workload with no parents: a STRICT port is denied',
      spec: { portLevelMtls: { 9090: mode('STRICT') } },
      rules: strictPort(9090) },
    { name: 'UNSET workload under a STRICT namespace: a STRICT port adds nothing',
      spec: { portLevelMtls: { 9090: mode('STRICT') } },
      parents: [pa('shop', 'default', { mtls: mode('STRICT') })] },
  ];
  for (const c of cases) {
    const input = pa('shop', 'web', { ...sel, ...c.spec });
    const r = convertPeerAuthentication(input, { peerAuthentications: [...(c.parents ?? []), input] });
    assert.equal(r.status.accepted, true, c.name);
    if (!c.rules) {
      assert.equal(r.authorization, undefined, c.name);
      continue;
    }
    assert.equal(r.resourceName, 'shop/converted_peer_authentication_web', c.name);
    assert.deepEqual(r.authorization, {
      name: 'converted_peer_authentication_web', namespace: 'shop', scope: 'WORKLOAD_SELECTOR', action: 'DENY', rules: c.rules,
    }, c.name);
  }
});

test('the oldest namespace policy is the parent', () => {
  const input = pa('shop', 'web', { ...sel, portLevelMtls: { 8080: mode('PERMISSIVE') } });
  const older = pa('shop', 'a-strict', { mtls: mode('STRICT') }, '2026-01-01T00:00:00Z');
  const newer = pa('shop', 'b-permissive', { mtls: mode('PERMISSIVE') }, '2026-02-01T00:00:00Z');
  assert.ok(convertPeerAuthentication(input, { peerAuthentications: [newer, older, input] }).authorization);
  const flipped = [pa('shop', 'a-strict', { mtls: mode('STRICT') }, '2026-03-01T00:00:00Z'), newer, input];
  assert.equal(convertPeerAuthentication(input, { peerAuthentications: flipped }).authorization, undefined);
});

test('malformed PeerAuthentications are rejected with a reason, never thrown', () => {
  const cases: { name: string; spec: unknown; field: string }[] = [
    { name: 'unknown mode', spec: { mtls: mode('STRICTLY') }, field: 'spec.mtls.mode' },
    { name: 'mode of wrong type', spec: { mtls: { mode: true } }, field: 'spec.mtls.mode' },
    { name: 'mtls not an object', spec: { mtls: 'STRICT' }, field: 'spec.mtls' },
    { name: 'unknown field', spec: { mtl: mode('STRICT') }, field: 'spec.mtl' },
    { name: 'bad port key', spec: { ...sel, portLevelMtls: { http: mode('STRICT') } }, field: 'spec.portLevelMtls["http"]' },
    { name: 'port out of range', spec: { ...sel, portLevelMtls: { 65536: mode('STRICT') } }, field: 'spec.portLevelMtls["65536"]' },
    { name: 'bad port mode', spec: { ...sel, portLevelMtls: { 80: mode('OFF') } }, field: 'spec.portLevelMtls["80"].mode' },
    { name: 'portLevelMtls without selector', spec: { portLevelMtls: { 80: mode('STRICT') } }, field: 'spec.portLevelMtls' },
    { name: 'invalid label key', spec: { selector: { matchLabels: { '-app': 'x' } } }, field: 'spec.selector.matchLabels' },
    { name: 'spec not an object', spec: [], field: 'spec' },
  ];
  for (const c of cases) {
    const r = convertPeerAuthentication(pa('shop', 'web', c.spec));
    assert.equal(r.authorization, undefined, c.name);
    assert.equal(r.status.accepted, false, c.name);
    assert.equal(r.status.reason, 'Invalid', c.name);
    assert.ok(r.status.message.startsWith(`invalid PeerAuthentication: ${c.field}: `), `${c.name}: ${r.status.message}`);
  }
});

test('effective mode per workload: selector overrides namespace overrides mesh; UNSET inherits', () => {
  const web = { app: 'web' };
  const meshStrict = pa('istio-system', 'default', { mtls: mode('STRICT') });
  const meshPermissive = pa('istio-system', 'default', { mtls: mode('PERMISSIVE') });
  const nsStrict = pa('shop', 'ns', { mtls: mode('STRICT') });
  const nsPermissive = pa('shop', 'ns', { mtls: mode('PERMISSIVE') });
  const nsUnset = pa('shop', 'ns', {});
  const cases: { name: string; pas: PolicyResource[]; labels?: Record<string, string>; ns?: string; want: string[] }[] = [
    { name: 'no policies', pas: [], want: [] },
    { name: 'mesh STRICT', pas: [meshStrict], want: [STATIC] },
    { name: 'mesh STRICT reaches other namespaces', pas: [meshStrict], ns: 'other', want: [STATIC] },
    { name: 'mesh PERMISSIVE', pas: [meshPermissive], want: [] },
    { name: 'namespace STRICT', pas: [nsStrict], want: [STATIC] },
    { name: 'namespace STRICT does not reach other namespaces', pas: [nsStrict], ns: 'other', want: [] },
    { name: 'namespace PERMISSIVE overrides mesh STRICT', pas: [meshStrict, nsPermissive], want: [] },
    { name: 'namespace UNSET inherits mesh STRICT', pas: [meshStrict, nsUnset], want: [STATIC] },
    { name: 'selector STRICT overrides namespace PERMISSIVE', pas: [nsPermissive, pa('shop', 'web', { ...sel, mtls: mode('STRICT') })], want: [STATIC] },
    { name: 'selector PERMISSIVE overrides mesh STRICT', pas: [meshStrict, pa('shop', 'web', { ...sel, mtls: mode('PERMISSIVE') })], want: [] },
    { name: 'selector DISABLE overrides namespace STRICT', pas: [nsStrict, pa('shop', 'web', { ...sel, mtls: mode('DISABLE') })], want: [] },
    { name: 'selector not matching leaves namespace STRICT', pas: [nsPermissive, pa('shop', 'web', { ...sel, mtls: mode('STRICT') })], labels: { app: 'api' }, want: [] },
    { name: 'selector UNSET inherits', pas: [nsStrict, pa('shop', 'web', { ...sel })], want: [STATIC] },
    { name: 'STRICT + PERMISSIVE port lists the converted policy instead of the static one',
      pas: [pa('shop', 'web', { ...sel, mtls: mode('STRICT'), portLevelMtls: { 8080: mode('PERMISSIVE') } })],
      want: ['shop/converted_peer_authentication_web'] },
    { name: 'PERMISSIVE + STRICT port lists the converted policy',
      pas: [meshStrict, pa('shop', 'web', { ...sel, mtls: mode('PERMISSIVE'), portLevelMtls: { 9090: mode('STRICT') } })],
      want: ['shop/converted_peer_authentication_web'] },
    { name: 'UNSET under STRICT namespace + PERMISSIVE port lists only the converted policy',
      pas: [nsStrict, pa('shop', 'web', { ...sel, portLevelMtls: { 8080: mode('PERMISSIVE') } })],
      want: ['shop/converted_peer_authentication_web'] },
    { name: 'UNSET under PERMISSIVE mesh + STRICT port lists the converted policy',
      pas: [meshPermissive, pa('shop', 'web', { ...sel, portLevelMtls: { 9090: mode('STRICT') } })],
      want: ['shop/converted_peer_authentication_web'] },
    { name: 'oldest of two selector policies wins',
      pas: [pa('shop', 'new', { ...sel, mtls: mode('PERMISSIVE') }, '2026-05-01T00:00:00Z'), pa('shop', 'old', { ...sel, mtls: mode('STRICT') }, '2026-04-01T00:00:00Z')],
      want: [STATIC] },
    { name: 'an invalid STRICT policy is ignored', pas: [pa('shop', 'ns', { mtls: mode('strict') })], want: [] },
    { name: 'selector policies in the root namespace are ignored', pas: [pa('istio-system', 'web', { ...sel, mtls: mode('STRICT') })], want: [] },
  ];
  for (const c of cases) {
    assert.deepEqual(peerAuthenticationPoliciesForWorkload(c.labels ?? web, c.ns ?? 'shop', c.pas), c.want, c.name);
  }
});
