// Table tests for AuthorizationPolicy → waypoint authorization: spec validation (every rejection names its field),
// which policies a waypoint enforces (Gateway, Service, ServiceEntry, GatewayClass; never selector or namespace-wide
// ones), and the converted rules.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuthzPolicy } from '../../shared/waypoint/config.ts';
import { validateWaypointAuthorizationPolicy, waypointAuthorizations, type AuthzContext } from './authz.ts';
import type { KubeObject } from './verdict.ts';

const GW = { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint' };
const SVC_REF = { group: '', kind: 'Service', name: 'productpage' };

function ap(spec: unknown, meta: { namespace?: string; name?: string; annotations?: Record<string, string>; generation?: number } = {}): KubeObject {
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: {
      namespace: 'namespace' in meta ? meta.namespace : 'default',
      name: meta.name ?? 'p',
      generation: meta.generation ?? 3,
      ...(meta.annotations ? { annotations: meta.annotations } : {}),
    },
    spec,
  };
}
const onGw = (extra: object): KubeObject => ap({ targetRefs: [GW], ...extra });
const withRule = (r: object, extra: object = {}): KubeObject => onGw({ rules: [r], ...extra });

const ctx: AuthzContext = {
  rootNamespace: 'istio-system',
  waypoint: { namespace: 'default', name: 'waypoint', podLabels: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' } },
  boundServices: [
    { key: 'default/productpage.default.svc.cluster.local', namespace: 'default', name: 'productpage' },
    { key: 'default/reviews.default.svc.cluster.local', namespace: 'default', name: 'reviews' },
    { key: 'default/api.example.com', namespace: 'default', name: 'external-api', kind: 'ServiceEntry' },
  ],
};

test('validation accepts well-formed policies (verdict carries kind, name and generation)', () => {
  const cases: Array<[string, KubeObject]> = [
    ['ALLOW with HTTP rules on a Gateway', withRule({ from: [{ source: { principals: ['cluster.local/ns/default/sa/curl'] } }], to: [{ operation: { methods: ['GET'], paths: ['/api/*'] } }] })],
    ['default action, no rules', onGw({})],
    ['no spec at all', ap(undefined)],
    ['AUDIT', withRule({}, { action: 'AUDIT' })],
    ['DENY with an empty rule', withRule({}, { action: 'DENY' })],
    ['legacy targetRef to a Service', ap({ targetRef: SVC_REF, rules: [{}] })],
    ['core group spelled out, ServiceEntry, GatewayClass', ap({ targetRefs: [{ group: 'core', kind: 'Service', name: 's' }, { group: 'networking.istio.io', kind: 'ServiceEntry', name: 'se' }, { group: 'gateway.networking.k8s.io', kind: 'GatewayClass', name: 'istio-waypoint' }] })],
    ['selector policy (a valid spec; ztunnel enforces it)', ap({ selector: { matchLabels: { app: 'x' } }, rules: [{}] })],
    ['path templates', withRule({ to: [{ operation: { paths: ['/foo/{*}', '/foo/{**}', '/foo/{*}/bar/{**}', '/foo/{**}/', '/{**}'], notPaths: ['*.js', '/admin*', '*'] } }] })],
    ['serviceAccounts', withRule({ from: [{ source: { serviceAccounts: ['curl', 'other/sleep'], notServiceAccounts: ['bad'] } }] })],
    ['IPs and ports', withRule({ from: [{ source: { ipBlocks: ['10.0.0.0/8', 'fd00::1'], notRemoteIpBlocks: ['192.0.2.1'] } }], to: [{ operation: { ports: ['8080'], notPorts: ['9090'] } }] })],
    ['every documented condition key', withRule({ when: [
      { key: 'request.headers[User-Agent]', values: ['Mozilla/*'] },
      { key: 'source.ip', values: ['10.1.2.3', '10.2.0.0/16'] },
      { key: 'remote.ip', notValues: ['10.1.2.3'] },
      { key: 'source.namespace', values: ['default'] },
      { key: 'source.principal', values: ['cluster.local/ns/default/sa/productpage'] },
      { key: 'source.serviceAccount', values: ['default/productpage'] },
      { key: 'request.auth.principal', values: ['issuer.example.com/subject-admin'] },
      { key: 'request.auth.audiences', values: ['example.com'] },
      { key: 'request.auth.presenter', values: ['123456789012.example.com'] },
      { key: 'request.auth.claims[iss]', values: ['*@foo.com'] },
      { key: 'request.auth.claims[nested1][nested2]', values: ['some-value'] },
      { key: 'destination.ip', values: ['10.1.2.3'] },
      { key: 'destination.port', values: ['80', '443'] },
      { key: 'connection.sni', values: ['www.example.com'] },
    ] })],
  ];
  for (const [name, o] of cases) {
    const v = validateWaypointAuthorizationPolicy(o);
    assert.deepEqual(v, { kind: 'AuthorizationPolicy', namespace: o.metadata.namespace, name: 'p', generation: 3, accepted: true, reason: 'Accepted', message: '' }, name);
  }
  const dry = validateWaypointAuthorizationPolicy(ap({ targetRefs: [GW] }, { annotations: { 'istio.io/dry-run': 'true' } }));
  assert.equal(dry.accepted, true);
});

test('validation rejects with a reason and the offending field first', () => {
  const cases: Array<{ name: string; o: KubeObject; reason?: string; message: RegExp }> = [
    { name: 'CUSTOM', o: onGw({ action: 'CUSTOM', provider: { name: 'ext-authz' }, rules: [{}] }), reason: 'UnsupportedValue', message: /^spec\.action: CUSTOM .*not supported/ },
    { name: 'provider without CUSTOM', o: onGw({ provider: { name: 'x' } }), message: /^spec\.provider: must not be set with action ALLOW/ },
    { name: 'unknown action', o: onGw({ action: 'LOG' }), message: /^spec\.action: unknown value "LOG"/ },
    { name: 'selector and targetRefs', o: onGw({ selector: { matchLabels: { app: 'x' } } }), message: /^spec: set only one of selector or targetRefs/ },
    { name: 'targetRef and targetRefs', o: ap({ targetRef: SVC_REF, targetRefs: [GW] }), message: /^spec: set only one of targetRef or targetRefs/ },
    { name: 'unsupported target kind', o: ap({ targetRefs: [GW, { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'r' }] }), message: /^spec\.targetRefs\[1\]: unsupported target gateway\.networking\.k8s\.io\/HTTPRoute/ },
    { name: 'Gateway in the core group', o: ap({ targetRefs: [{ kind: 'Gateway', name: 'waypoint' }] }), message: /^spec\.targetRefs\[0\]: unsupported target core\/Gateway/ },
    { name: 'cross-namespace target', o: ap({ targetRefs: [{ ...GW, namespace: 'other' }] }), message: /^spec\.targetRefs\[0\]\.namespace: must not be set/ },
    { name: 'target without name', o: ap({ targetRefs: [{ kind: 'Gateway', group: GW.group }] }), message: /^spec\.targetRefs\[0\]\.name: must be a non-empty string/ },
    { name: '{**} not last', o: withRule({ to: [{ operation: { paths: ['/{**}/foo/{*}'] } }] }), message: /^spec\.rules\[0\]\.to\[0\]\.operation\.paths\[0\]: .*\{\*\*\} must be the last operator/ },
    { name: '* beside a template', o: withRule({ to: [{ operation: { paths: ['/*/baz/{*}'] } }] }), message: /paths\[0\]: invalid path template/ },
    { name: '** beside a template', o: withRule({ to: [{ operation: { paths: ['/**/baz/{*}'] } }] }), message: /paths\[0\]: invalid path template/ },
    { name: 'template with text in its segment', o: withRule({ to: [{ operation: { notPaths: ['/ok', '/foo/{*}.txt'] } }] }), message: /notPaths\[1\]: .*'\{' and '\}' are only allowed/ },
    { name: 'variable-style template', o: withRule({ to: [{ operation: { paths: ['/foo/{id}'] } }] }), message: /paths\[0\]: .*'\{' and '\}'/ },
    { name: 'template not starting with /', o: withRule({ to: [{ operation: { paths: ['foo/{*}'] } }] }), message: /paths\[0\]: path template "foo\/\{\*\}" must start with '\/'/ },
    { name: '* inside a plain path', o: withRule({ to: [{ operation: { paths: ['/api/*/users'] } }] }), message: /paths\[0\]: .*use \{\*\} \(one segment\)/ },
    { name: 'port name', o: withRule({ to: [{ operation: { ports: ['http'] } }] }), message: /^spec\.rules\[0\]\.to\[0\]\.operation\.ports\[0\]: invalid port "http"/ },
    { name: 'port out of range', o: withRule({ to: [{ operation: { notPorts: ['65536'] } }] }), message: /notPorts\[0\]: invalid port/ },
    { name: 'method with a space', o: withRule({ to: [{ operation: { methods: ['GET POST'] } }] }), message: /methods\[0\]: invalid method/ },
    { name: 'empty string value', o: withRule({ to: [{ operation: { hosts: [''] } }] }), message: /hosts\[0\]: must not be empty/ },
    { name: 'bad IP', o: withRule({ from: [{ source: { ipBlocks: ['10.0.0.256'] } }] }), message: /^spec\.rules\[0\]\.from\[0\]\.source\.ipBlocks\[0\]: invalid IP block/ },
    { name: 'bad CIDR length', o: withRule({ from: [{ source: { remoteIpBlocks: ['10.0.0.0/33'] } }] }), message: /remoteIpBlocks\[0\]: invalid IP block/ },
    { name: 'serviceAccounts with principals', o: withRule({ from: [{ source: { serviceAccounts: ['a'], principals: ['x'] } }] }), message: /source: cannot set serviceAccounts with namespaces or principals/ },
    { name: 'serviceAccount wildcard', o: withRule({ from: [{ source: { serviceAccounts: ['ns/*'] } }] }), message: /serviceAccounts\[0\]: invalid service account/ },
    { name: 'empty from', o: withRule({ from: [] }), message: /^spec\.rules\[0\]\.from: must not be empty/ },
    { name: 'empty source', o: withRule({ from: [{ source: {} }] }), message: /^spec\.rules\[0\]\.from\[0\]\.source: must not be empty/ },
    { name: 'missing operation', o: withRule({ to: [{}] }), message: /^spec\.rules\[0\]\.to\[0\]\.operation: is required/ },
    { name: 'misspelt field', o: withRule({ to: [{ operation: { method: ['GET'] } }] }), message: /^spec\.rules\[0\]\.to\[0\]\.operation\.method: unknown field/ },
    { name: 'Envoy-only condition', o: withRule({ when: [{ key: 'experimental.envoy.filters.network.mysql_proxy[db.table]', values: ['[update]'] }] }), reason: 'UnsupportedValue', message: /^spec\.rules\[0\]\.when\[0\]\.key: attribute .* is not supported/ },
    { name: 'unknown condition', o: withRule({ when: [{ key: 'request.method', values: ['GET'] }] }), message: /when\[0\]\.key: unknown attribute "request\.method"/ },
    { name: 'destination.labels', o: withRule({ when: [{ key: 'destination.labels[app]', values: ['x'] }] }), message: /when\[0\]\.key: attribute destination\.labels\[app\] is replaced by targetRefs/ },
    { name: 'header key without a name', o: withRule({ when: [{ key: 'request.headers[]', values: ['x'] }] }), message: /when\[0\]\.key: bad key/ },
    { name: 'condition without values', o: withRule({ when: [{ key: 'source.ip' }] }), message: /^spec\.rules\[0\]\.when\[0\]: set values or notValues/ },
    { name: 'condition with a bad IP', o: withRule({ when: [{ key: 'destination.ip', notValues: ['x'] }] }), message: /when\[0\]\.notValues\[0\]: invalid IP/ },
    { name: 'condition with a bad port', o: withRule({ when: [{ key: 'destination.port', values: ['80', 'eighty'] }] }), message: /when\[0\]\.values\[1\]: invalid port/ },
    { name: 'DENY without rules', o: onGw({ action: 'DENY' }), message: /^spec\.rules: a DENY policy without rules never matches/ },
    { name: 'bad dry-run value', o: ap({ targetRefs: [GW] }, { annotations: { 'istio.io/dry-run': 'yes' } }), message: /^metadata\.annotations\["istio\.io\/dry-run"\]: invalid value "yes"/ },
    { name: 'no namespace', o: ap({ targetRefs: [GW] }, { namespace: undefined }), message: /^metadata: name and namespace are required/ },
    { name: 'spec not an object', o: ap([1]), message: /^spec: must be an object/ },
  ];
  for (const c of cases) {
    const v = validateWaypointAuthorizationPolicy(c.o);
    assert.equal(v.accepted, false, c.name);
    assert.equal(v.kind, 'AuthorizationPolicy', c.name);
    assert.equal(v.reason, c.reason ?? 'Invalid', c.name);
    assert.match(v.message, c.message, c.name);
  }
});

test('attachment: which policies a waypoint enforces, and for which requests', () => {
  const cases: Array<{ name: string; o: KubeObject; target?: AuthzPolicy['target'] }> = [
    { name: 'Gateway naming this waypoint', o: onGw({ rules: [{}] }), target: { all: true } },
    { name: 'legacy targetRef to the Gateway', o: ap({ targetRef: GW, rules: [{}] }), target: { all: true } },
    { name: 'another Gateway', o: ap({ targetRefs: [{ ...GW, name: 'other' }], rules: [{}] }) },
    { name: 'same Gateway name, other namespace', o: ap({ targetRefs: [GW], rules: [{}] }, { namespace: 'shop' }) },
    { name: 'bound Service', o: ap({ targetRefs: [SVC_REF], rules: [{}] }), target: { services: ['default/productpage.default.svc.cluster.local'] } },
    { name: 'two bound Services, sorted', o: ap({ targetRefs: [{ ...SVC_REF, name: 'reviews' }, SVC_REF] }), target: { services: ['default/productpage.default.svc.cluster.local', 'default/reviews.default.svc.cluster.local'] } },
    { name: 'Service not bound here', o: ap({ targetRefs: [{ ...SVC_REF, name: 'ratings' }] }) },
    { name: 'bound Service name from another namespace', o: ap({ targetRefs: [SVC_REF] }, { namespace: 'shop' }) },
    { name: 'Gateway and Service: the whole waypoint', o: ap({ targetRefs: [SVC_REF, GW] }), target: { all: true } },
    { name: 'ServiceEntry bound here', o: ap({ targetRefs: [{ group: 'networking.istio.io', kind: 'ServiceEntry', name: 'external-api' }] }), target: { services: ['default/api.example.com'] } },
    { name: 'Service ref does not match a ServiceEntry', o: ap({ targetRefs: [{ ...SVC_REF, name: 'external-api' }] }) },
    { name: 'GatewayClass istio-waypoint from the root namespace', o: ap({ targetRefs: [{ group: GW.group, kind: 'GatewayClass', name: 'istio-waypoint' }] }, { namespace: 'istio-system' }), target: { all: true } },
    { name: 'GatewayClass from another namespace', o: ap({ targetRefs: [{ group: GW.group, kind: 'GatewayClass', name: 'istio-waypoint' }] }) },
    { name: 'another GatewayClass', o: ap({ targetRefs: [{ group: GW.group, kind: 'GatewayClass', name: 'istio' }] }, { namespace: 'istio-system' }) },
    { name: 'selector matching the waypoint pods (Istio: waypoints never use selector)', o: ap({ selector: { matchLabels: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' } }, rules: [{}] }) },
    { name: 'namespace-wide (ztunnel enforces it)', o: ap({ rules: [{ to: [{ operation: { methods: ['GET'] } }] }] }) },
    { name: 'root-namespace mesh-wide', o: ap({ rules: [{}] }, { namespace: 'istio-system' }) },
    { name: 'invalid policy', o: onGw({ rules: [{ to: [{ operation: { ports: ['x'] } }] }] }) },
    { name: 'CUSTOM policy', o: onGw({ action: 'CUSTOM', provider: { name: 'x' }, rules: [{}] }) },
  ];
  for (const c of cases) {
    const got = waypointAuthorizations([c.o], ctx);
    if (c.target === undefined) {
      assert.deepEqual(got, [], c.name);
    } else {
      assert.equal(got.length, 1, c.name);
      assert.deepEqual(got[0]?.target, c.target, c.name);
    }
  }
});

test('conversion: actions, dry-run, rules (empty fields dropped, service accounts as principals), order', () => {
  const got = waypointAuthorizations([
    ap({ targetRefs: [GW], action: 'DENY', rules: [{ to: [{ operation: { methods: ['DELETE'] } }] }] }, { name: 'b-deny' }),
    ap({
      targetRefs: [GW],
      rules: [
        {
          from: [{ source: { serviceAccounts: ['curl', 'other/sleep'], notServiceAccounts: ['bad'] } }, { source: { namespaces: ['foo'] } }],
          to: [{ operation: { methods: ['GET'], paths: ['/api/{**}'] } }],
          when: [{ key: 'source.serviceAccount', notValues: ['x'] }, { key: 'request.auth.claims[groups]', values: ['dev'] }],
        },
        {},
      ],
    }, { name: 'a-allow', annotations: { 'istio.io/dry-run': 'True' } }),
    ap({ targetRefs: [GW], action: 'AUDIT', rules: [{}] }, { name: 'c-audit' }),
    ap({ targetRefs: [GW], rules: [{}] }, { name: 'z', namespace: 'istio-system' }),
  ], ctx);
  assert.deepEqual(got, [
    {
      namespace: 'default', name: 'a-allow', action: 'ALLOW', target: { all: true }, dryRun: true,
      rules: [
        {
          from: [
            { principals: ['*/ns/default/sa/curl', '*/ns/other/sa/sleep'], notPrincipals: ['*/ns/default/sa/bad'] },
            { namespaces: ['foo'] },
          ],
          to: [{ methods: ['GET'], paths: ['/api/{**}'] }],
          when: [
            { key: 'source.principal', notValues: ['*/ns/default/sa/x'] },
            { key: 'request.auth.claims[groups]', values: ['dev'] },
          ],
        },
        { from: [], to: [], when: [] },
      ],
    },
    { namespace: 'default', name: 'b-deny', action: 'DENY', target: { all: true }, rules: [{ from: [], to: [{ methods: ['DELETE'] }], when: [] }] },
    { namespace: 'default', name: 'c-audit', action: 'AUDIT', target: { all: true }, rules: [{ from: [], to: [], when: [] }] },
  ]);
});

test("Istio's HTTP task and JWT task policies convert as written", () => {
  const got = waypointAuthorizations([
    ap({ targetRefs: [SVC_REF], action: 'ALLOW', rules: [{ from: [{ source: { principals: ['cluster.local/ns/default/sa/bookinfo-productpage'] } }], to: [{ operation: { methods: ['GET'] } }] }] }, { name: 'productpage-viewer' }),
    ap({ targetRefs: [GW], action: 'ALLOW', rules: [{ from: [{ source: { requestPrincipals: ['*'] } }] }] }, { name: 'require-jwt' }),
  ], ctx);
  assert.deepEqual(got.map((p) => [p.name, p.target, p.rules]), [
    ['productpage-viewer', { services: ['default/productpage.default.svc.cluster.local'] }, [{ from: [{ principals: ['cluster.local/ns/default/sa/bookinfo-productpage'] }], to: [{ methods: ['GET'] }], when: [] }]],
    ['require-jwt', { all: true }, [{ from: [{ requestPrincipals: ['*'] }], to: [], when: [] }]],
  ]);
});
