// Waypoints end to end on a two-node local cluster (root: network namespaces): `meshctl waypoint apply` deploys a
// waypoint for an ambient namespace, and Istio's documented L7 tasks are reproduced through it with the users' own
// YAML: request routing by header, traffic shifting (VirtualService 90/10, HTTPRoute 50/50), L7 authorization,
// JWT required, local rate limiting, gRPC routing by method; traffic that bypasses the waypoint is refused; a
// malformed route is rejected with a status naming the field; the waypoint keeps its configuration while the
// controller is unreachable. Everything is observed as a user would: from a client pod, kubectl and metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, createSign } from 'node:crypto';
import { requirePrivileges } from '../support/privileged.ts';
import { eventually } from '../support/eventually.ts';
import { Meshctl, netnsOf } from '../support/meshctl.ts';
import { controllerOutage, execIn, pod, pods, waitReady } from '../ztunnel/support.ts';
import { repoRoot } from '../../localcluster/paths.ts';
import { CLIENT_NAMESPACE, NODE, load as loadFrom, using } from './support.ts';
import type { LoadSummary } from './load-client.ts';

const GRPC = `${repoRoot}/test/waypoint/grpc-client.ts`;
const URL_ = 'http://reviews.wp.svc.cluster.local:9080/';

const APPS = `${CLIENT_NAMESPACE}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: wp}
spec:
  selector: {app: reviews}
  ports:
  - {name: http, port: 9080, targetPort: 8080}
  - {name: grpc, port: 9090, targetPort: 9090, appProtocol: grpc}
${['v1', 'v2'].map((v) => `---
apiVersion: v1
kind: Service
metadata: {name: reviews-${v}, namespace: wp}
spec:
  selector: {app: reviews, version: ${v}}
  ports:
  - {name: http, port: 9080, targetPort: 8080}
  - {name: grpc, port: 9090, targetPort: 9090, appProtocol: grpc}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-${v}, namespace: wp}
spec:
  replicas: 1
  selector: {matchLabels: {app: reviews, version: ${v}}}
  template:
    metadata: {labels: {app: reviews, version: ${v}}}
    spec:
      nodeSelector: {kubernetes.io/hostname: node-2}
      containers: [{name: reviews, image: ambient-mesh/versioned, env: [{name: VERSION, value: ${v}}]}]
`).join('')}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: wp}
spec:
  host: reviews
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v2
    labels: {version: v2}
`;

// Istio's request-routing task (samples/bookinfo/networking/virtual-service-reviews-jason-v2-v1.yaml), verbatim
// but for the namespace.
const JASON = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: wp}
spec:
  hosts:
  - reviews
  http:
  - match:
    - headers:
        end-user:
          exact: jason
    route:
    - destination:
        host: reviews
        subset: v2
  - route:
    - destination:
        host: reviews
        subset: v1
`;

const WEIGHTED = (v1: number, v2: number): string => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: wp}
spec:
  hosts:
    - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v1
      weight: ${v1}
    - destination:
        host: reviews
        subset: v2
      weight: ${v2}
`;

// Istio's traffic-shifting task, Gateway API form (GAMMA: the route's parent is the Service).
const HTTPROUTE_50 = `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: reviews, namespace: wp}
spec:
  parentRefs:
  - group: ""
    kind: Service
    name: reviews
    port: 9080
  rules:
  - backendRefs:
    - name: reviews-v1
      port: 9080
      weight: 50
    - name: reviews-v2
      port: 9080
      weight: 50
`;



const load = (m: Meshctl, n: number, extra: string[] = [], concurrency = 20): Promise<LoadSummary> => loadFrom(m, URL_, n, concurrency, extra);

async function curl(m: Meshctl, args: string[], from = 'client'): Promise<{ code: string; body: string }> {
  const r = await m.run(['exec', '-n', 'wp', from, '--', 'curl', '-s', '-m', '5', '-w', '\n%{http_code}', ...args], { timeoutMs: 30_000 });
  const lines = r.stdout.trimEnd().split('\n');
  return { code: lines.at(-1) ?? '', body: lines.slice(0, -1).join('\n') };
}

const share = (l: LoadSummary, v: string): number => ((l.versions[v] ?? 0) * 100) / Object.values(l.versions).reduce((a, b) => a + b, 0);

function jwt(key: import('node:crypto').KeyObject, claims: Record<string, unknown>): string {
  const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64({ alg: 'RS256', typ: 'JWT', kid: 'k1' })}.${b64(claims)}`;
  return `${input}.${createSign('RSA-SHA256').update(input).sign(key).toString('base64url')}`;
}

test('waypoint: Istio L7 tasks on the local cluster', { timeout: 900_000 }, async (t) => {
  if (!requirePrivileges(t)) return;
  const m = new Meshctl();
  let clusterId = '';
  t.after(async () => {
    await m.run(['down'], { timeoutMs: 120_000 });
    if (clusterId) assert.deepEqual(netnsOf(clusterId), [], 'down removes every namespace');
  });
  await m.ok(['up', '--nodes', '2'], { timeoutMs: 180_000 });
  clusterId = m.clusterId;
  await m.ok(['apply', '-f', '-'], { input: APPS });
  await waitReady(m, 'wp', 3);

  await t.test('meshctl waypoint apply: the Gateway is Programmed with an address, and traffic goes through it', async () => {
    const out = await m.ok(['waypoint', 'apply', '-n', 'wp', '--enroll-namespace'], { timeoutMs: 120_000 });
    assert.match(out, /waypoint wp\/waypoint applied/);
    const gw = JSON.parse(m.kubectl(['get', 'gateways.gateway.networking.k8s.io', 'waypoint', '-n', 'wp', '-o', 'json']).stdout);
    assert.equal(gw.spec.gatewayClassName, 'istio-waypoint');
    assert.ok(gw.status.conditions.some((c: any) => c.type === 'Programmed' && c.status === 'True'));
    assert.match(gw.status.addresses[0].value, /^10\.96\./);
    const ns = JSON.parse(m.kubectl(['get', 'namespace', 'wp', '-o', 'json']).stdout);
    assert.equal(ns.metadata.labels['istio.io/use-waypoint'], 'waypoint');
    const list = await m.ok(['waypoint', 'list', '-n', 'wp']);
    assert.match(list, /waypoint/);
    await waitReady(m, 'wp', 4);
    await eventually(async () => {
      const r = await curl(m, [URL_]);
      assert.equal(r.code, '200');
      const wp = pod(m, 'wp', 'waypoint');
      const metrics = await execIn(m, wp, ['curl', '-s', 'http://127.0.0.1:15020/metrics']);
      assert.match(metrics.stdout, /istio_requests_total\{[^}]*reporter="waypoint"[^}]*source_principal="spiffe:\/\/cluster.local\/ns\/wp\/sa\/client"[^}]*destination_service="reviews.wp.svc.cluster.local"[^}]*response_code="200"/);
      return true;
    }, 60_000, 500);
  });

  await t.test('request routing: end-user jason → v2, everyone else → v1 (VirtualService + DestinationRule)', async () => {
    await m.ok(['apply', '-f', '-'], { input: JASON });
    await eventually(async () => {
      const jason = await load(m, 20, ['--header', 'end-user:jason']);
      const others = await load(m, 20);
      assert.deepEqual(jason.versions, { v2: 20 });
      assert.deepEqual(others.versions, { v1: 20 });
      return true;
    }, 30_000, 500);
    const vs = JSON.parse(m.kubectl(['get', 'virtualservice', 'reviews', '-n', 'wp', '-o', 'json']).stdout);
    assert.ok(vs.status.conditions.some((c: any) => c.type === 'Accepted' && c.status === 'True'), JSON.stringify(vs.status));
  });

  await t.test('traffic shifting: 90/10 then 50/50 (HTTPRoute), within ±5 points over 1000 requests', async () => {
    await using(m, WEIGHTED(90, 10), async () => {
      await eventually(async () => ((await load(m, 100)).versions.v2 ?? 0) > 0, 20_000, 500);
      const ninety = await load(m, 1000);
      assert.equal(ninety.statuses['200'], 1000);
      assert.ok(Math.abs(share(ninety, 'v2') - 10) <= 5, `v2 got ${share(ninety, 'v2')}%`);
    });
    await using(m, HTTPROUTE_50, async () => {
      await eventually(async () => {
        const half = await load(m, 1000);
        assert.equal(half.statuses['200'], 1000);
        assert.ok(Math.abs(share(half, 'v2') - 50) <= 5, `v2 got ${share(half, 'v2')}%`);
        return true;
      }, 30_000, 500);
      const route = JSON.parse(m.kubectl(['get', 'httproute', 'reviews', '-n', 'wp', '-o', 'json']).stdout);
      const parent = route.status.parents[0];
      assert.equal(parent.parentRef.name, 'reviews');
      assert.ok(parent.conditions.some((c: any) => c.type === 'Accepted' && c.status === 'True'));
    });
  });

  await t.test('L7 authorization: GET allowed for the client, DELETE is 403 RBAC: access denied', async () => {
    const policy = `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: reviews-viewer, namespace: wp}
spec:
  targetRefs:
  - kind: Service
    group: ""
    name: reviews
  action: ALLOW
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/wp/sa/client"]
    to:
    - operation:
        methods: ["GET"]
`;
    await using(m, policy, async () => {
      await eventually(async () => {
        const del = await curl(m, ['-X', 'DELETE', URL_]);
        assert.equal(del.code, '403');
        assert.equal(del.body, 'RBAC: access denied');
        return true;
      }, 20_000, 500);
      assert.equal((await curl(m, [URL_])).code, '200');
      const ap = JSON.parse(m.kubectl(['get', 'authorizationpolicy', 'reviews-viewer', '-n', 'wp', '-o', 'json']).stdout);
      assert.ok(ap.status.conditions.some((c: any) => c.type === 'WaypointAccepted' && c.status === 'True'), JSON.stringify(ap.status));
    });
  });

  await t.test('JWT required: no token 403, a bad token 401, a valid token 200', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' };
    const now = Math.floor(Date.now() / 1000);
    const good = jwt(privateKey, { iss: 'testing@secure.istio.io', sub: 'alice', exp: now + 3600 });
    const expired = jwt(privateKey, { iss: 'testing@secure.istio.io', sub: 'alice', exp: now - 3600 });
    const yaml = `
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: wp}
spec:
  targetRefs:
  - {kind: Service, group: "", name: reviews}
  jwtRules:
  - issuer: testing@secure.istio.io
    jwks: '${JSON.stringify({ keys: [jwk] })}'
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: require-jwt, namespace: wp}
spec:
  targetRefs:
  - {kind: Service, group: "", name: reviews}
  action: ALLOW
  rules:
  - from:
    - source:
        requestPrincipals: ["*"]
`;
    await using(m, yaml, async () => {
      await eventually(async () => (await curl(m, [URL_])).code === '403', 20_000, 500);
      assert.equal((await curl(m, ['-H', `Authorization: Bearer ${expired}`, URL_])).code, '401');
      assert.equal((await curl(m, ['-H', 'Authorization: Bearer not.a.jwt', URL_])).code, '401');
      assert.equal((await curl(m, ['-H', `Authorization: Bearer ${good}`, URL_])).code, '200');
    });
  });

  await t.test('local rate limit: 429 with Retry-After beyond 5 requests per second', async () => {
    const yaml = `
apiVersion: policy.ambient-mesh.io/v1alpha1
kind: HTTPLocalRateLimitPolicy
metadata: {name: reviews, namespace: wp}
spec:
  targetRefs:
  - {group: "", kind: Service, name: reviews}
  total:
    requestsPerSecond: 5
`;
    await using(m, yaml, async () => {
      await eventually(async () => {
        const burst = await load(m, 40, [], 10);
        assert.ok((burst.statuses['429'] ?? 0) >= 20, JSON.stringify(burst.statuses));
        assert.ok((burst.statuses['200'] ?? 0) >= 1, JSON.stringify(burst.statuses));
        assert.ok(burst.headers['429']?.['retry-after'], 'Retry-After on the 429');
        return true;
      }, 20_000, 1000);
    });
  });

  await t.test('gRPC routing by method (GRPCRoute): Ping → v2, everything else → v1', async () => {
    const yaml = `
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: reviews-grpc, namespace: wp}
spec:
  parentRefs:
  - {group: "", kind: Service, name: reviews, port: 9090}
  rules:
  - matches:
    - method: {service: ambientmesh.echo.Echo, method: Ping}
    backendRefs:
    - {name: reviews-v2, port: 9090}
  - backendRefs:
    - {name: reviews-v1, port: 9090}
`;
    await using(m, yaml, async () => {
      await eventually(async () => {
        const ping = JSON.parse((await m.ok(['exec', '-n', 'wp', 'client', '--', NODE, GRPC, '--target', 'reviews.wp.svc.cluster.local:9090', '--method', 'Ping', '--n', '10'], { timeoutMs: 60_000 })).trim());
        const echo = JSON.parse((await m.ok(['exec', '-n', 'wp', 'client', '--', NODE, GRPC, '--target', 'reviews.wp.svc.cluster.local:9090', '--method', 'Echo', '--n', '10'], { timeoutMs: 60_000 })).trim());
        assert.deepEqual(ping, { versions: { v2: 10 }, codes: { 0: 10 } });
        assert.deepEqual(echo, { versions: { v1: 10 }, codes: { 0: 10 } });
        return true;
      }, 30_000, 500);
    });
  });

  await t.test('traffic that bypasses the waypoint is refused; through the service it works', async () => {
    const v1 = pod(m, 'wp', 'reviews-v1');
    const direct = await curl(m, [`http://${v1.ip}:8080/`]);
    assert.equal(direct.code, '000', 'the destination ztunnel refuses a client that is not the waypoint');
    assert.equal((await curl(m, [URL_])).code, '200');
    // The opt-out lets it through (on the namespace: the pods back reviews, reviews-v1 and reviews-v2, all bound).
    m.kubectl(['annotate', 'namespace', 'wp', 'ambient-mesh.io/allow-waypoint-bypass=true']);
    await eventually(async () => (await curl(m, [`http://${v1.ip}:8080/`])).code === '200', 20_000, 500);
    m.kubectl(['annotate', 'namespace', 'wp', 'ambient-mesh.io/allow-waypoint-bypass-']);
    await eventually(async () => (await curl(m, [`http://${v1.ip}:8080/`])).code === '000', 20_000, 500);
  });

  await t.test('a malformed route is rejected with a status naming the field; the last good routes keep serving', async () => {
    await m.ok(['apply', '-f', '-'], { input: JASON });
    await eventually(async () => (await load(m, 10, ['--header', 'end-user:jason'])).versions.v2 === 10, 20_000, 500);
    const bad = JASON.replace('metadata: {name: reviews, namespace: wp}', 'metadata: {name: broken, namespace: wp}').replace('subset: v2', 'subset: v2\n      weight: -5');
    await using(m, bad, async () => {
      await eventually(() => {
        const vs = JSON.parse(m.kubectl(['get', 'virtualservice', 'broken', '-n', 'wp', '-o', 'json']).stdout);
        const c = vs.status?.conditions?.find((x: any) => x.type === 'Accepted');
        assert.equal(c?.status, 'False');
        assert.match(c.message, /spec\.http\[0\]\.route\[0\]\.weight/);
        return true;
      }, 20_000, 500);
      assert.deepEqual((await load(m, 10, ['--header', 'end-user:jason'])).versions, { v2: 10 });
    });
  });

  await t.test('a backendRef into another namespace needs a ReferenceGrant there: RefNotPermitted until one exists', async () => {
    const CROSS = `
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec:
  ports: [{name: http, port: 9080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: cross, namespace: wp}
spec:
  parentRefs: [{group: "", kind: Service, name: reviews-v1}]
  rules:
  - matches: [{headers: [{name: x-cross, value: "1"}]}]
    backendRefs: [{name: cart, namespace: shop, port: 9080}]
  - backendRefs: [{name: reviews-v1, port: 9080}]
`;
    const GRANT = `
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: from-wp, namespace: shop}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: wp}]
  to: [{group: "", kind: Service}]
`;
    const resolved = (): { status?: string; reason?: string; message?: string } => {
      const r = JSON.parse(m.kubectl(['get', 'httproute', 'cross', '-n', 'wp', '-o', 'json']).stdout);
      return r.status?.parents?.[0]?.conditions?.find((c: any) => c.type === 'ResolvedRefs') ?? {};
    };
    await using(m, CROSS, async () => {
      await eventually(() => {
        const c = resolved();
        assert.equal(c.status, 'False');
        assert.equal(c.reason, 'RefNotPermitted');
        assert.match(c.message ?? '', /spec\.rules\[0\]\.backendRefs\[0\].*ReferenceGrant in namespace shop/);
        return true;
      }, 20_000, 500);
      await using(m, GRANT, async () => {
        await eventually(() => {
          assert.deepEqual([resolved().status, resolved().reason], ['True', 'ResolvedRefs']);
          return true;
        }, 20_000, 500);
      });
    });
  });

  await t.test('a waypoint rollout drops no request: the new pod is Ready before the old one drains', async () => {
    const old = pods(m, 'wp').filter((p) => p.name.startsWith('waypoint-')).map((p) => p.name);
    assert.equal(old.length, 1);
    // One request every ~0.1 s, each on a new connection (so each opens a tunnel to a waypoint pod); a line each.
    const N = 150;
    const loop = m.run(['exec', '-n', 'wp', 'client', '--', 'sh', '-c',
      `for i in $(seq 1 ${N}); do curl -s -o /dev/null -w '%{http_code} %{exitcode}\\n' --max-time 5 ${URL_}; sleep 0.1; done`], { timeoutMs: 300_000 });
    await new Promise((r) => setTimeout(r, 2000));
    const restart = m.kubectl(['rollout', 'restart', 'deployment/waypoint', '-n', 'wp']);
    assert.equal(restart.code, 0, restart.stderr);
    await eventually(() => {
      const now = pods(m, 'wp').filter((p) => p.name.startsWith('waypoint-'));
      assert.ok(now.length === 1 && now[0]!.ready && !old.includes(now[0]!.name), `rollout: ${now.map((p) => `${p.name}:${p.ready}`).join(' ')}`);
      return true;
    }, 120_000, 250);
    const r = await loop;
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, N);
    const failed = lines.filter((x) => !x.startsWith('200 '));
    assert.deepEqual(failed, [], `${failed.length} of ${N} requests failed during the waypoint rollout`);
  });

  await t.test('the waypoint keeps serving its configuration while the controller is unreachable', async () => {
    const outage = await controllerOutage(m);
    try {
      for (let i = 0; i < 3; i++) {
        assert.deepEqual((await load(m, 10, ['--header', 'end-user:jason'])).versions, { v2: 10 });
        await new Promise((r) => setTimeout(r, 1000));
      }
    } finally {
      await outage.restore();
    }
  });
});
