// Istio's documented traffic-management tasks, their manifests pasted verbatim (Bookinfo in `default`; httpbin for
// circuit breaking and mirroring): request routing, traffic shifting, fault injection, request timeouts, retries,
// circuit breaking and mirroring, in both the Istio-API and the Gateway-API versions the docs give.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WAYPOINT_CONFIG_SCHEMA, type HttpRoute } from '../../../shared/waypoint/config.ts';
import { decodeWaypointConfig, encodeWaypointConfig } from '../../../shared/waypoint/codec.ts';
import type { KubeObject } from '../verdict.ts';
import { compileRoutes, validateRouteObject } from './index.ts';
import { fromYaml, inputs, pod, svc } from './testing.ts';

const productpage = svc('default', 'productpage');
const reviews = svc('default', 'reviews');
const ratings = svc('default', 'ratings');
const details = svc('default', 'details');
const reviewsV = ['v1', 'v2', 'v3'].map((v) => svc('default', `reviews-${v}`));
const httpbin = svc('default', 'httpbin', [{ port: 8000, name: 'http', targetPort: 8080 }]);
const httpbinV = ['v1', 'v2'].map((v) => svc('default', `httpbin-${v}`, [{ port: 80, name: 'http', targetPort: 8080 }]));
const all = [productpage, reviews, ratings, details, ...reviewsV, httpbin, ...httpbinV];
const workloads = [
  pod('productpage-v1', 'default', { app: 'productpage', version: 'v1' }, [productpage]),
  pod('details-v1', 'default', { app: 'details', version: 'v1' }, [details]),
  pod('ratings-v1', 'default', { app: 'ratings', version: 'v1' }, [ratings]),
  ...['v1', 'v2', 'v3'].map((v, i) => pod(`reviews-${v}`, 'default', { app: 'reviews', version: v }, [reviews, reviewsV[i]!])),
  ...['v1', 'v2'].map((v, i) => pod(`httpbin-${v}`, 'default', { app: 'httpbin', version: v }, [httpbin, httpbinV[i]!])),
];
const R = reviews.key;
const RT = ratings.key;

/** Every object must validate; then compile for a waypoint serving `bound`. */
function apply(bound: typeof all, ...manifests: string[]) {
  const objects: KubeObject[] = manifests.flatMap((m) => fromYaml(m));
  for (const o of objects) {
    const v = validateRouteObject(o.kind as Parameters<typeof validateRouteObject>[0], o);
    assert.equal(v.accepted, true, `${o.kind}/${o.metadata.name}: ${v.message}`);
  }
  const c = compileRoutes(inputs({ bound, all, objects, workloads }));
  assert.deepEqual(c.verdicts, []);
  // What the waypoint receives passes its own validation unchanged.
  const config = { schema: WAYPOINT_CONFIG_SCHEMA, namespace: 'default', name: 'waypoint', services: c.services, destinations: c.destinations, authorization: [], authentication: [], rateLimits: [] };
  assert.deepEqual(decodeWaypointConfig(encodeWaypointConfig(config)), config);
  return c;
}
const httpFor = (c: ReturnType<typeof apply>, key: string): HttpRoute[] => c.services.find((l) => l.service === key)!.http;

const destinationRuleAll = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: productpage
spec:
  host: productpage
  subsets:
  - name: v1
    labels:
      version: v1
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
spec:
  host: reviews
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
  - name: v3
    labels:
      version: v3
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: ratings
spec:
  host: ratings
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
  - name: v2-mysql
    labels:
      version: v2-mysql
  - name: v2-mysql-vm
    labels:
      version: v2-mysql-vm
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: details
spec:
  host: details
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
---
`;

const virtualServiceAllV1 = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: productpage
spec:
  hosts:
  - productpage
  http:
  - route:
    - destination:
        host: productpage
        subset: v1
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
  - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v1
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
spec:
  hosts:
  - ratings
  http:
  - route:
    - destination:
        host: ratings
        subset: v1
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: details
spec:
  hosts:
  - details
  http:
  - route:
    - destination:
        host: details
        subset: v1
---
`;

const src = (name: string) => ({ kind: 'VirtualService', namespace: 'default', name });

test('request routing: all traffic to v1, with destination-rule-all.yaml', () => {
  const c = apply([productpage, reviews, ratings, details], destinationRuleAll, virtualServiceAllV1);
  for (const s of [productpage, reviews, ratings, details]) {
    assert.deepEqual(httpFor(c, s.key), [{
      id: `VirtualService/default/${s.name}#0`, source: src(s.name), matches: [],
      action: { kind: 'forward', backends: [{ service: s.key, subset: 'v1', weight: 100 }] },
    }], s.name);
  }
  const reviewsPolicy = c.destinations.find((d) => d.service === R)!;
  assert.deepEqual(reviewsPolicy, {
    service: R, source: { kind: 'DestinationRule', namespace: 'default', name: 'reviews' }, policy: {},
    subsets: ['v1', 'v2', 'v3'].map((v) => ({ name: v, labels: { version: v }, workloads: [`reviews-${v}`] })),
  });
  assert.deepEqual(c.destinations.map((d) => d.service), [details.key, productpage.key, RT, R]);
  assert.deepEqual(c.destinations.find((d) => d.service === RT)!.subsets.map((s) => [s.name, s.workloads]), [['v1', ['ratings-v1']], ['v2', []], ['v2-mysql', []], ['v2-mysql-vm', []]]);
});

test('request routing: end-user jason → reviews v2, everyone else v1 (virtual-service-reviews-test-v2.yaml)', () => {
  const c = apply([reviews], destinationRuleAll, `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
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
`);
  assert.deepEqual(httpFor(c, R), [
    { id: 'VirtualService/default/reviews#0', source: src('reviews'), matches: [{ headers: [{ name: 'end-user', value: { exact: 'jason' } }] }], action: { kind: 'forward', backends: [{ service: R, subset: 'v2', weight: 100 }] } },
    { id: 'VirtualService/default/reviews#1', source: src('reviews'), matches: [], action: { kind: 'forward', backends: [{ service: R, subset: 'v1', weight: 100 }] } },
  ]);
});

test('request routing, Gateway API: end-user jason → reviews-v2, else reviews-v1', () => {
  const c = apply([reviews], `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: reviews
spec:
  parentRefs:
  - group: ""
    kind: Service
    name: reviews
    port: 9080
  rules:
  - matches:
    - headers:
      - name: end-user
        value: jason
    backendRefs:
    - name: reviews-v2
      port: 9080
  - backendRefs:
    - name: reviews-v1
      port: 9080
`);
  const hsrc = { kind: 'HTTPRoute', namespace: 'default', name: 'reviews' };
  assert.deepEqual(httpFor(c, R), [
    { id: 'HTTPRoute/default/reviews#0', source: hsrc, matches: [{ path: { pathPrefix: '/' }, headers: [{ name: 'end-user', value: { exact: 'jason' } }], port: 9080 }], action: { kind: 'forward', backends: [{ service: reviewsV[1]!.key, port: 9080, weight: 1 }] } },
    { id: 'HTTPRoute/default/reviews#1', source: hsrc, matches: [{ path: { pathPrefix: '/' }, port: 9080 }], action: { kind: 'forward', backends: [{ service: reviewsV[0]!.key, port: 9080, weight: 1 }] } },
  ]);
});

test('traffic shifting: 90/10 and 50/50 between subsets; Gateway API 90/10', () => {
  const shift = (a: number, b: number, to: string) => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
    - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v1
      weight: ${a}
    - destination:
        host: reviews
        subset: ${to}
      weight: ${b}
`;
  assert.deepEqual(httpFor(apply([reviews], destinationRuleAll, shift(90, 10, 'v2')), R)[0]!.action,
    { kind: 'forward', backends: [{ service: R, subset: 'v1', weight: 90 }, { service: R, subset: 'v2', weight: 10 }] });
  assert.deepEqual(httpFor(apply([reviews], destinationRuleAll, shift(50, 50, 'v3')), R)[0]!.action,
    { kind: 'forward', backends: [{ service: R, subset: 'v1', weight: 50 }, { service: R, subset: 'v3', weight: 50 }] });
  const gw = apply([reviews], `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: reviews
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
      weight: 90
    - name: reviews-v2
      port: 9080
      weight: 10
`);
  assert.deepEqual(httpFor(gw, R)[0]!.action, { kind: 'forward', backends: [{ service: reviewsV[0]!.key, port: 9080, weight: 90 }, { service: reviewsV[1]!.key, port: 9080, weight: 10 }] });
});

test('fault injection: 7s delay for jason (ratings-test-delay), abort 500 at 100% (ratings-test-abort)', () => {
  const faulted = (fault: string) => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
spec:
  hosts:
  - ratings
  http:
  - match:
    - headers:
        end-user:
          exact: jason
    fault:
${fault}
    route:
    - destination:
        host: ratings
        subset: v1
  - route:
    - destination:
        host: ratings
        subset: v1
`;
  const delay = httpFor(apply([ratings], destinationRuleAll, faulted(`      delay:
        percentage:
          value: 100.0
        fixedDelay: 7s`)), RT);
  const jason = [{ headers: [{ name: 'end-user', value: { exact: 'jason' } }] }];
  const v1 = { kind: 'forward', backends: [{ service: RT, subset: 'v1', weight: 100 }] };
  assert.deepEqual(delay, [
    { id: 'VirtualService/default/ratings#0', source: src('ratings'), matches: jason, action: v1, fault: { delay: { ms: 7000, percent: 100 } } },
    { id: 'VirtualService/default/ratings#1', source: src('ratings'), matches: [], action: v1 },
  ]);
  const abort = httpFor(apply([ratings], destinationRuleAll, faulted(`      abort:
        percentage:
          value: 100.0
        httpStatus: 500`)), RT);
  assert.deepEqual(abort[0]!.fault, { abort: { httpStatus: 500, percent: 100 } });
  assert.equal(abort[1]!.fault, undefined);
});

test('request timeouts: ratings delayed 2s (legacy percent), reviews v2 with timeout 0.5s; Gateway API 500ms', () => {
  const c = apply([reviews, ratings], destinationRuleAll, `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
spec:
  hosts:
  - ratings
  http:
  - fault:
      delay:
        percent: 100
        fixedDelay: 2s
    route:
    - destination:
        host: ratings
        subset: v1
`, `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
  - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v2
    timeout: 0.5s
`);
  assert.deepEqual(httpFor(c, RT)[0]!.fault, { delay: { ms: 2000, percent: 100 } });
  const r = httpFor(c, R)[0]!;
  assert.deepEqual([r.action, r.timeoutMs, r.retries], [{ kind: 'forward', backends: [{ service: R, subset: 'v2', weight: 100 }] }, 500, undefined]);
  const gw = apply([reviews], `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: reviews
spec:
  parentRefs:
  - group: ""
    kind: Service
    name: reviews
    port: 9080
  rules:
  - backendRefs:
    - name: reviews-v2
      port: 9080
    timeouts:
      request: 500ms
`);
  assert.equal(httpFor(gw, R)[0]!.timeoutMs, 500);
});

test('retries: attempts 3, perTryTimeout 2s (with and without retryOn)', () => {
  const c = apply([ratings], destinationRuleAll, `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
spec:
  hosts:
  - ratings
  http:
  - route:
    - destination:
        host: ratings
        subset: v1
    retries:
      attempts: 3
      perTryTimeout: 2s
`);
  assert.deepEqual(httpFor(c, RT)[0]!.retries, {
    attempts: 3, perTryTimeoutMs: 2000, retryOn: ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes'], retriableStatusCodes: [503],
  });
  const prod = svc('prod', 'ratings');
  const objects = fromYaml(`
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings-route
spec:
  hosts:
  - ratings.prod.svc.cluster.local
  http:
  - route:
    - destination:
        host: ratings.prod.svc.cluster.local
        subset: v1
    retries:
      attempts: 3
      perTryTimeout: 2s
      retryOn: gateway-error,connect-failure,refused-stream
`, 'prod');
  assert.equal(validateRouteObject('VirtualService', objects[0]!).accepted, true);
  const p = compileRoutes(inputs({ bound: [prod], all: [prod], objects }));
  assert.deepEqual(p.services[0]!.http[0]!.retries, { attempts: 3, perTryTimeoutMs: 2000, retryOn: ['gateway-error', 'connect-failure', 'refused-stream'] });
  // No DestinationRule defines subset v1 here: reported, the route kept (503 at request time).
  assert.deepEqual(p.verdicts.map((v) => [v.kind, v.name, v.reason, v.message]), [['VirtualService', 'ratings-route', 'BackendNotFound',
    'spec.http[0].route[0].destination.subset: no DestinationRule for ratings.prod.svc.cluster.local defines subset "v1"; requests routed to it fail with 503']]);
  assert.deepEqual(p.services[0]!.http[0]!.action, { kind: 'forward', backends: [{ service: prod.key, subset: 'v1', weight: 100 }] });
});

test('circuit breaking: the httpbin DestinationRule', () => {
  const c = apply([httpbin], `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: httpbin
spec:
  host: httpbin
  trafficPolicy:
    connectionPool:
      tcp:
        maxConnections: 1
      http:
        http1MaxPendingRequests: 1
        maxRequestsPerConnection: 1
    outlierDetection:
      consecutive5xxErrors: 1
      interval: 1s
      baseEjectionTime: 3m
      maxEjectionPercent: 100
`);
  assert.deepEqual(c.destinations, [{
    service: httpbin.key,
    source: { kind: 'DestinationRule', namespace: 'default', name: 'httpbin' },
    policy: {
      connectionPool: { maxConnections: 1, http1MaxPendingRequests: 1, maxRequestsPerConnection: 1 },
      outlierDetection: { consecutive5xxErrors: 1, intervalMs: 1000, baseEjectionTimeMs: 180_000, maxEjectionPercent: 100, minHealthPercent: 0 },
    },
    subsets: [],
  }]);
  assert.deepEqual(c.services, [{ service: httpbin.key, ports: [{ port: 8000, protocol: 'HTTP' }], http: [], tcp: [] }]);
});

test('mirroring: all traffic to v1, mirrored 100% to v2; Gateway API RequestMirror', () => {
  const c = apply([httpbin], `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: httpbin
spec:
  host: httpbin
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
`, `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: httpbin
spec:
  hosts:
  - httpbin
  http:
  - route:
    - destination:
        host: httpbin
        subset: v1
      weight: 100
    mirror:
      host: httpbin
      subset: v2
    mirrorPercentage:
      value: 100.0
`);
  const r = httpFor(c, httpbin.key)[0]!;
  assert.deepEqual([r.action, r.mirrors], [
    { kind: 'forward', backends: [{ service: httpbin.key, subset: 'v1', weight: 100 }] },
    [{ backend: { service: httpbin.key, subset: 'v2' }, percent: 100 }],
  ]);
  assert.deepEqual(c.destinations[0]!.subsets.map((s) => [s.name, s.workloads]), [['v1', ['httpbin-v1']], ['v2', ['httpbin-v2']]]);
  const gw = apply([httpbin], `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: httpbin
spec:
  parentRefs:
  - group: ""
    kind: Service
    name: httpbin
    port: 8000
  rules:
  - filters:
    - type: RequestMirror
      requestMirror:
        backendRef:
          name: httpbin-v2
          port: 80
    backendRefs:
    - name: httpbin-v1
      port: 80
`);
  const g = httpFor(gw, httpbin.key)[0]!;
  assert.deepEqual([g.action, g.mirrors], [
    { kind: 'forward', backends: [{ service: httpbinV[0]!.key, port: 80, weight: 1 }] },
    [{ backend: { service: httpbinV[1]!.key, port: 80 }, percent: 100 }],
  ]);
});
