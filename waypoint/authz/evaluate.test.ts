// Table tests for authorizeRequest: Istio's DENY > ALLOW > default-allow order, targets, AUDIT and dry-run reporting,
// every source/operation/condition attribute, and Istio's documented HTTP and JWT tasks.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuthzCondition, AuthzOperation, AuthzPolicy, AuthzRule, AuthzSource } from '../../shared/waypoint/config.ts';
import type { RequestInfo } from '../types.ts';
import { authorizeRequest, isSupportedConditionKey, type AuthzResult } from './index.ts';

const SVC = 'default/productpage.default.svc.cluster.local';
const OTHER = 'default/reviews.default.svc.cluster.local';

interface ReqOverrides {
  method?: string; path?: string; query?: string; authority?: string; headers?: RequestInfo['headers']; grpc?: boolean;
  source?: Partial<RequestInfo['source']>; destination?: Partial<RequestInfo['destination']>; auth?: RequestInfo['auth'];
  plaintext?: boolean;
}

function req(o: ReqOverrides = {}): RequestInfo {
  const source: RequestInfo['source'] = o.plaintext
    ? { ip: '10.244.1.5', remoteIp: '10.244.1.5' }
    : { principal: 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage', namespace: 'default', ip: '10.244.1.5', remoteIp: '10.244.1.5' };
  return {
    method: o.method ?? 'GET',
    path: o.path ?? '/productpage',
    query: o.query ?? '',
    authority: o.authority ?? 'productpage.default.svc.cluster.local:9080',
    headers: o.headers ?? {},
    grpc: o.grpc ?? false,
    source: { ...source, ...o.source },
    destination: { service: SVC, ip: '10.96.0.20', port: 9080, ...o.destination },
    ...(o.auth ? { auth: o.auth } : {}),
  };
}

function policy(name: string, action: AuthzPolicy['action'], rules: AuthzRule[], extra: Partial<AuthzPolicy> = {}): AuthzPolicy {
  return { namespace: 'default', name, action, target: { all: true }, rules, ...extra };
}
const rule = (r: { from?: AuthzSource[]; to?: AuthzOperation[]; when?: AuthzCondition[] } = {}): AuthzRule =>
  ({ from: r.from ?? [], to: r.to ?? [], when: r.when ?? [] });
const allowIf = (r: Parameters<typeof rule>[0]): AuthzPolicy[] => [policy('p', 'ALLOW', [rule(r)])];
const jwt = (claims: Record<string, unknown>): RequestInfo['auth'] =>
  ({ principal: `${String(claims.iss)}/${String(claims.sub)}`, claims });

interface Case { name: string; policies: AuthzPolicy[]; req: RequestInfo; allowed: boolean; policy?: string; audited?: string[]; dryRunDenied?: string[] }

function check(cases: Case[]): void {
  for (const c of cases) {
    const got: AuthzResult = authorizeRequest(c.policies, c.req);
    assert.equal(got.allowed, c.allowed, `${c.name}: allowed`);
    if ('policy' in c) assert.equal(got.policy, c.policy, `${c.name}: policy`);
    assert.deepEqual(got.audited, c.audited ?? [], `${c.name}: audited`);
    assert.deepEqual(got.dryRunDenied, c.dryRunDenied ?? [], `${c.name}: dryRunDenied`);
  }
}

test('verdict order: DENY, then ALLOW, then allow by default', () => {
  const denyDelete = policy('deny-delete', 'DENY', [rule({ to: [{ methods: ['DELETE'] }] })]);
  const allowAll = policy('allow-all', 'ALLOW', [rule()]);
  const allowPost = policy('allow-post', 'ALLOW', [rule({ to: [{ methods: ['POST'] }] })]);
  check([
    { name: 'no policies', policies: [], req: req(), allowed: true, policy: undefined },
    { name: 'ALLOW without rules allows nothing', policies: [policy('allow-nothing', 'ALLOW', [])], req: req(), allowed: false, policy: undefined },
    { name: 'DENY without rules denies nothing', policies: [policy('deny-nothing', 'DENY', [])], req: req(), allowed: true },
    { name: 'an empty rule matches everything', policies: [allowAll], req: req(), allowed: true, policy: 'default/allow-all' },
    { name: 'DENY wins over a matching ALLOW', policies: [allowAll, denyDelete], req: req({ method: 'DELETE' }), allowed: false, policy: 'default/deny-delete' },
    { name: 'DENY not matching, ALLOW matching', policies: [denyDelete, allowAll], req: req(), allowed: true, policy: 'default/allow-all' },
    { name: 'ALLOWs exist, none matches', policies: [allowPost], req: req(), allowed: false, policy: undefined },
    { name: 'any one ALLOW suffices', policies: [allowPost, allowAll], req: req(), allowed: true, policy: 'default/allow-all' },
    { name: 'only DENYs, none matching: allowed', policies: [denyDelete], req: req(), allowed: true, policy: undefined },
  ]);
});

test('targets: whole waypoint, or the addressed Service only', () => {
  const denyOther = policy('deny-reviews', 'DENY', [rule()], { target: { services: [OTHER] } });
  const allowOnSvc = policy('allow-pp', 'ALLOW', [rule({ to: [{ methods: ['POST'] }] })], { target: { services: [SVC] } });
  check([
    { name: 'policy for another service does not apply', policies: [denyOther], req: req(), allowed: true },
    { name: 'policy for this service applies', policies: [denyOther], req: req({ destination: { service: OTHER } }), allowed: false, policy: 'default/deny-reviews' },
    { name: 'service ALLOW applies to its service', policies: [allowOnSvc], req: req(), allowed: false },
    { name: 'service ALLOW does not apply elsewhere', policies: [allowOnSvc], req: req({ destination: { service: OTHER } }), allowed: true },
    { name: 'workload-addressed request: only waypoint-wide policies', policies: [allowOnSvc], req: req({ destination: { service: undefined, workload: 'uid-1' } }), allowed: true },
  ]);
});

test('AUDIT is reported and never changes the verdict; dry-run is reported only', () => {
  const audit = policy('audit-get', 'AUDIT', [rule({ to: [{ methods: ['GET'] }] })]);
  const dryDeny = policy('dry-deny', 'DENY', [rule()], { dryRun: true });
  const dryAllowPost = policy('dry-allow-post', 'ALLOW', [rule({ to: [{ methods: ['POST'] }] })], { dryRun: true });
  const dryAllowGet = policy('dry-allow-get', 'ALLOW', [rule({ to: [{ methods: ['GET'] }] })], { dryRun: true });
  const denyGet = policy('deny-get', 'DENY', [rule({ to: [{ methods: ['GET'] }] })]);
  check([
    { name: 'AUDIT matched', policies: [audit], req: req(), allowed: true, audited: ['default/audit-get'] },
    { name: 'AUDIT not matched', policies: [audit], req: req({ method: 'PUT' }), allowed: true, audited: [] },
    { name: 'AUDIT alongside a DENY', policies: [audit, denyGet], req: req(), allowed: false, policy: 'default/deny-get', audited: ['default/audit-get'] },
    { name: 'dry-run AUDIT is not reported', policies: [{ ...audit, dryRun: true }], req: req(), allowed: true, audited: [] },
    { name: 'dry-run DENY would deny', policies: [dryDeny], req: req(), allowed: true, dryRunDenied: ['default/dry-deny'] },
    { name: 'dry-run ALLOW, none matching, would deny', policies: [dryAllowPost], req: req(), allowed: true, dryRunDenied: ['default/dry-allow-post'] },
    { name: 'dry-run ALLOWs, one matching', policies: [dryAllowPost, dryAllowGet], req: req(), allowed: true, dryRunDenied: [] },
    { name: 'dry-run ALLOW does not create an enforced ALLOW set', policies: [dryAllowGet], req: req({ method: 'DELETE' }), allowed: true, dryRunDenied: ['default/dry-allow-get'] },
    { name: 'dry-run DENY beside an enforced DENY', policies: [dryDeny, denyGet], req: req(), allowed: false, policy: 'default/deny-get', dryRunDenied: ['default/dry-deny'] },
  ]);
});

test("Istio's HTTP traffic task: GET from bookinfo-productpage allowed, other methods and callers denied", () => {
  // tasks/security/authorization/authz-http: allow-nothing + details-viewer (here attached to the waypoint).
  const policies = [
    policy('allow-nothing', 'ALLOW', []),
    policy('details-viewer', 'ALLOW', [rule({
      from: [{ principals: ['cluster.local/ns/default/sa/bookinfo-productpage'] }],
      to: [{ methods: ['GET'] }],
    })]),
  ];
  check([
    { name: 'GET from productpage', policies, req: req(), allowed: true, policy: 'default/details-viewer' },
    { name: 'DELETE from productpage', policies, req: req({ method: 'DELETE' }), allowed: false, policy: undefined },
    { name: 'GET from curl', policies, req: req({ source: { principal: 'spiffe://cluster.local/ns/default/sa/curl' } }), allowed: false },
    { name: 'GET in plaintext', policies, req: req({ plaintext: true }), allowed: false },
  ]);
});

test('JWT required: requestPrincipals ["*"] (ALLOW) and notRequestPrincipals ["*"] (DENY)', () => {
  const requireJwt = [policy('require-jwt', 'ALLOW', [rule({ from: [{ requestPrincipals: ['*'] }] })])];
  const denyNoJwt = [policy('deny-no-jwt', 'DENY', [rule({ from: [{ notRequestPrincipals: ['*'] }] })])];
  const exact = [policy('require-issuer', 'ALLOW', [rule({ from: [{ requestPrincipals: ['testing@secure.istio.io/testing@secure.istio.io'] }] })])];
  const token = jwt({ iss: 'testing@secure.istio.io', sub: 'testing@secure.istio.io' });
  check([
    { name: 'ALLOW *: no token', policies: requireJwt, req: req(), allowed: false },
    { name: 'ALLOW *: token', policies: requireJwt, req: req({ auth: token }), allowed: true, policy: 'default/require-jwt' },
    { name: 'DENY not *: no token', policies: denyNoJwt, req: req(), allowed: false, policy: 'default/deny-no-jwt' },
    { name: 'DENY not *: token', policies: denyNoJwt, req: req({ auth: token }), allowed: true },
    { name: 'exact iss/sub: match', policies: exact, req: req({ auth: token }), allowed: true },
    { name: 'exact iss/sub: other subject', policies: exact, req: req({ auth: jwt({ iss: 'testing@secure.istio.io', sub: 'x' }) }), allowed: false },
  ]);
});

test('source fields: principals (without spiffe://), namespaces, IP blocks; values OR, fields AND, not* exclude', () => {
  const fromNs = (s: AuthzSource): AuthzPolicy[] => allowIf({ from: [s] });
  check([
    { name: 'principal prefix', policies: fromNs({ principals: ['cluster.local/ns/default/*'] }), req: req(), allowed: true },
    { name: 'principal with scheme never matches', policies: fromNs({ principals: ['spiffe://cluster.local/ns/default/sa/bookinfo-productpage'] }), req: req(), allowed: false },
    { name: 'principal * needs mTLS', policies: fromNs({ principals: ['*'] }), req: req({ plaintext: true }), allowed: false },
    { name: 'notPrincipals matches plaintext', policies: fromNs({ notPrincipals: ['*'] }), req: req({ plaintext: true }), allowed: true },
    { name: 'namespace in list', policies: fromNs({ namespaces: ['foo', 'default'] }), req: req(), allowed: true },
    { name: 'namespace AND principal, principal fails', policies: fromNs({ namespaces: ['default'], principals: ['*/sa/curl'] }), req: req(), allowed: false },
    { name: 'notNamespaces excludes', policies: fromNs({ namespaces: ['*'], notNamespaces: ['default'] }), req: req(), allowed: false },
    { name: 'ipBlocks: tunnel peer', policies: fromNs({ ipBlocks: ['10.244.9.0/24'] }), req: req({ source: { ip: '192.0.2.1', remoteIp: '10.244.9.9' } }), allowed: true },
    { name: 'ipBlocks ignores the original client', policies: fromNs({ ipBlocks: ['192.0.2.0/24'] }), req: req({ source: { ip: '192.0.2.1', remoteIp: '10.244.9.9' } }), allowed: false },
    { name: 'remoteIpBlocks: original client', policies: fromNs({ remoteIpBlocks: ['192.0.2.0/24'] }), req: req({ source: { ip: '192.0.2.1', remoteIp: '10.244.9.9' } }), allowed: true },
    { name: 'notRemoteIpBlocks excludes', policies: fromNs({ notRemoteIpBlocks: ['192.0.2.1'] }), req: req({ source: { ip: '192.0.2.1', remoteIp: '10.244.9.9' } }), allowed: false },
    { name: 'from entries are OR-ed', policies: allowIf({ from: [{ namespaces: ['foo'] }, { principals: ['*/sa/bookinfo-productpage'] }] }), req: req(), allowed: true },
  ]);
});

test('operation fields: hosts, ports, methods, paths (normalised, templates)', () => {
  const to = (o: AuthzOperation): AuthzPolicy[] => allowIf({ to: [o] });
  const denyAdmin = [policy('deny-admin', 'DENY', [rule({ to: [{ paths: ['/admin*'] }] })])];
  check([
    { name: 'host ignores port and case', policies: to({ hosts: ['ProductPage.default.svc.cluster.local'] }), req: req(), allowed: true },
    { name: 'notHosts', policies: to({ notHosts: ['*.svc.cluster.local'] }), req: req(), allowed: false },
    { name: 'port is the destination port', policies: to({ ports: ['9080'] }), req: req(), allowed: true },
    { name: 'notPorts', policies: to({ notPorts: ['9080'] }), req: req(), allowed: false },
    { name: 'method in list', policies: to({ methods: ['GET', 'HEAD'] }), req: req({ method: 'HEAD' }), allowed: true },
    { name: 'path prefix', policies: to({ paths: ['/product*'] }), req: req(), allowed: true },
    { name: 'path ignores query', policies: to({ paths: ['/productpage'] }), req: req({ query: 'u=normal' }), allowed: true },
    { name: 'path template {*}', policies: to({ paths: ['/api/{*}/reviews'] }), req: req({ path: '/api/v1/reviews' }), allowed: true },
    { name: 'path template {**}', policies: to({ paths: ['/api/{**}'] }), req: req({ path: '/api/v1/reviews/0' }), allowed: true },
    { name: 'methods AND paths', policies: to({ methods: ['POST'], paths: ['/productpage'] }), req: req(), allowed: false },
    { name: 'DENY sees through ../', policies: denyAdmin, req: req({ path: '/public/../admin/users' }), allowed: false, policy: 'default/deny-admin' },
    { name: 'DENY sees through %-encoding', policies: denyAdmin, req: req({ path: '/%61dmin' }), allowed: false },
    { name: 'notPaths', policies: to({ notPaths: ['/health*'] }), req: req({ path: '/healthz' }), allowed: false },
    { name: 'gRPC method path', policies: to({ paths: ['/grpc.health.v1.Health/*'], methods: ['POST'] }), req: req({ method: 'POST', path: '/grpc.health.v1.Health/Check', grpc: true }), allowed: true },
  ]);
});

test('when: every documented condition key', () => {
  const when = (c: AuthzCondition): AuthzPolicy[] => allowIf({ when: [c] });
  const token = jwt({ iss: 'https://idp', sub: 'alice', aud: ['shop', 'web'], azp: 'spa', groups: ['dev', 'ops'], realm: { roles: ['admin'] } });
  check([
    { name: 'header value prefix', policies: when({ key: 'request.headers[User-Agent]', values: ['Mozilla/*'] }), req: req({ headers: { 'user-agent': 'Mozilla/5.0' } }), allowed: true },
    { name: 'header absent', policies: when({ key: 'request.headers[x-token]', values: ['*'] }), req: req(), allowed: false },
    { name: 'header notValues, header absent', policies: when({ key: 'request.headers[x-token]', notValues: ['bad'] }), req: req(), allowed: true },
    { name: 'source.ip is the tunnel peer', policies: when({ key: 'source.ip', values: ['10.244.1.0/24'] }), req: req(), allowed: true },
    { name: 'remote.ip is the original client', policies: when({ key: 'remote.ip', values: ['192.0.2.7'] }), req: req({ source: { ip: '192.0.2.7' } }), allowed: true },
    { name: 'source.namespace', policies: when({ key: 'source.namespace', values: ['default'] }), req: req(), allowed: true },
    { name: 'source.principal', policies: when({ key: 'source.principal', values: ['cluster.local/ns/default/sa/bookinfo-productpage'] }), req: req(), allowed: true },
    { name: 'source.serviceAccount', policies: when({ key: 'source.serviceAccount', values: ['default/bookinfo-productpage'] }), req: req(), allowed: true },
    { name: 'request.auth.principal', policies: when({ key: 'request.auth.principal', values: ['https://idp/alice'] }), req: req({ auth: token }), allowed: true },
    { name: 'request.auth.audiences (list)', policies: when({ key: 'request.auth.audiences', values: ['web'] }), req: req({ auth: token }), allowed: true },
    { name: 'request.auth.presenter', policies: when({ key: 'request.auth.presenter', values: ['spa'] }), req: req({ auth: token }), allowed: true },
    { name: 'claims list: any element', policies: when({ key: 'request.auth.claims[groups]', values: ['ops'] }), req: req({ auth: token }), allowed: true },
    { name: 'claims nested', policies: when({ key: 'request.auth.claims[realm][roles]', values: ['admin'] }), req: req({ auth: token }), allowed: true },
    { name: 'claims notValues on a list', policies: when({ key: 'request.auth.claims[groups]', notValues: ['dev'] }), req: req({ auth: token }), allowed: false },
    { name: 'claims without a token', policies: when({ key: 'request.auth.claims[groups]', values: ['ops'] }), req: req(), allowed: false },
    { name: 'destination.ip', policies: when({ key: 'destination.ip', values: ['10.96.0.0/16'] }), req: req(), allowed: true },
    { name: 'destination.port', policies: when({ key: 'destination.port', values: ['9080'] }), req: req(), allowed: true },
    { name: 'destination.port notValues', policies: when({ key: 'destination.port', notValues: ['9080'] }), req: req(), allowed: false },
    { name: 'connection.sni values never match', policies: when({ key: 'connection.sni', values: ['*'] }), req: req(), allowed: false },
    { name: 'connection.sni notValues always match', policies: when({ key: 'connection.sni', notValues: ['x'] }), req: req(), allowed: true },
    { name: 'when conditions are AND-ed', policies: allowIf({ when: [{ key: 'source.namespace', values: ['default'] }, { key: 'destination.port', values: ['80'] }] }), req: req(), allowed: false },
    { name: 'unknown key never matches in ALLOW', policies: when({ key: 'experimental.envoy.filters.x[y]', values: ['z'] }), req: req(), allowed: false },
    { name: 'unknown key always matches in DENY', policies: [policy('d', 'DENY', [rule({ when: [{ key: 'bogus', values: ['z'] }] })])], req: req(), allowed: false, policy: 'default/d' },
  ]);
});

test('from, to and when together: all must hold', () => {
  const policies = allowIf({
    from: [{ namespaces: ['default'] }],
    to: [{ methods: ['GET'], paths: ['/productpage'] }],
    when: [{ key: 'request.headers[x-env]', values: ['prod'] }],
  });
  check([
    { name: 'all match', policies, req: req({ headers: { 'x-env': 'prod' } }), allowed: true },
    { name: 'when fails', policies, req: req({ headers: { 'x-env': 'dev' } }), allowed: false },
    { name: 'to fails', policies, req: req({ method: 'POST', headers: { 'x-env': 'prod' } }), allowed: false },
    { name: 'from fails', policies, req: req({ source: { namespace: 'other' }, headers: { 'x-env': 'prod' } }), allowed: false },
  ]);
});

test('isSupportedConditionKey', () => {
  for (const k of ['source.ip', 'remote.ip', 'request.headers[x]', 'request.auth.claims[a][b]', 'connection.sni', 'destination.port']) {
    assert.equal(isSupportedConditionKey(k), true, k);
  }
  for (const k of ['experimental.envoy.filters.a', 'destination.labels[app]', 'request.headers[]', 'nope']) {
    assert.equal(isSupportedConditionKey(k), false, k);
  }
});
