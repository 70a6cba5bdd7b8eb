// Istio's documented resilience tasks through a waypoint on a two-node local cluster (root: network namespaces):
// fault injection (delay, abort, a 50% abort), request timeouts, retries hiding a flaky backend, circuit breaking
// (connection pool overflow → 503 x-envoy-overloaded) and outlier ejection. Traffic comes from a client pod through
// load-client.ts (run in the pod's network namespace, so ztunnel captures it like any app's) and every assertion is on
// what a user sees: status codes, response headers, latencies. A failed assertion carries the waypoint's latest
// access-log lines. Also: table tests of load-client.ts's pure summary functions (no privileges needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { requirePrivileges } from '../support/privileged.ts';
import { eventually } from '../support/eventually.ts';
import { Meshctl, netnsOf } from '../support/meshctl.ts';
import { pod, waitReady } from '../ztunnel/support.ts';
import { parseHeader, percentile, summarize, versionOf, type LoadSummary } from './load-client.ts';
import { CLIENT_NAMESPACE, load } from './support.ts';

const REVIEWS = 'http://reviews.wp.svc.cluster.local:9080/';
const HTTPBIN = 'http://httpbin.wp.svc.cluster.local:8000';
const FLAKY = 'http://flaky.wp.svc.cluster.local:9080/';
const MIXED = 'http://mixed.wp.svc.cluster.local:9080/';

/** A `ambient-mesh/versioned` Deployment on node-2; a TCP readiness probe, so a pod that fails every request is Ready. */
const versioned = (name: string, labels: Record<string, string>, env: Record<string, string>): string => `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: wp}
spec:
  replicas: 1
  selector: {matchLabels: ${JSON.stringify(labels)}}
  template:
    metadata: {labels: ${JSON.stringify(labels)}}
    spec:
      nodeSelector: {kubernetes.io/hostname: node-2}
      containers:
      - name: app
        image: ambient-mesh/versioned
        env: ${JSON.stringify(Object.entries(env).map(([k, v]) => ({ name: k, value: v })))}
        readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
`;

const service = (name: string, selector: Record<string, string>, port: number): string => `---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: wp}
spec:
  selector: ${JSON.stringify(selector)}
  ports: [{name: http, port: ${port}, targetPort: 8080}]
`;

const APPS = `${CLIENT_NAMESPACE}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: httpbin, namespace: wp}
spec:
  replicas: 1
  selector: {matchLabels: {app: httpbin}}
  template:
    metadata: {labels: {app: httpbin}}
    spec:
      nodeSelector: {kubernetes.io/hostname: node-2}
      containers:
      - name: httpbin
        image: ambient-mesh/http-echo
        readinessProbe: {httpGet: {path: /headers, port: 8080}, periodSeconds: 1}
${service('httpbin', { app: 'httpbin' }, 8000)}
${service('reviews', { app: 'reviews' }, 9080)}
${versioned('reviews-v1', { app: 'reviews', version: 'v1' }, { VERSION: 'v1' })}
${versioned('reviews-v2', { app: 'reviews', version: 'v2' }, { VERSION: 'v2' })}
${service('flaky', { app: 'flaky' }, 9080)}
${versioned('flaky', { app: 'flaky' }, { VERSION: 'flaky', FAIL_PERCENT: '50' })}
${service('mixed', { app: 'mixed' }, 9080)}
${versioned('mixed-good', { app: 'mixed', health: 'good' }, { VERSION: 'good' })}
${versioned('mixed-bad', { app: 'mixed', health: 'bad' }, { VERSION: 'bad', FAIL_PERCENT: '100' })}
`;
const PODS = 8; // the 7 above (client, httpbin, reviews-v1/v2, flaky, mixed-good/bad) and the waypoint

// Istio's fault-injection task (samples/bookinfo/networking/virtual-service-ratings-test-{delay,abort}.yaml), applied
// to reviews and with a 2 s delay instead of 7 s.
const FAULT = (fault: string): string => `
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
    fault:
      ${fault.trim().split('\n').join('\n      ')}
    route:
    - destination:
        host: reviews
  - route:
    - destination:
        host: reviews
`;

const FAULT_HALF = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: wp}
spec:
  hosts:
  - reviews
  http:
  - fault:
      abort:
        percentage:
          value: 50
        httpStatus: 500
    route:
    - destination:
        host: reviews
`;

// Istio's request-timeouts task: `timeout: 0.5s` on the route to a backend that takes 2 s.
const TIMEOUT = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: httpbin, namespace: wp}
spec:
  hosts:
  - httpbin
  http:
  - route:
    - destination:
        host: httpbin
    timeout: 0.5s
`;

/**
 * A VirtualService whose route also sets the response header `x-config: <tag>`, so the test can see when the
 * waypoint has this version of the route (the route, its retries and the header arrive in one atomic config).
 */
const TAGGED = (host: string, tag: string, retries: string): string => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${host}, namespace: wp}
spec:
  hosts:
  - ${host}
  http:
  - route:
    - destination:
        host: ${host}
    headers:
      response:
        set:
          x-config: ${tag}
    retries: ${retries}
`;

// Istio's circuit-breaking task (samples/httpbin DestinationRule), connection pool only.
const BREAKER = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: httpbin, namespace: wp}
spec:
  host: httpbin
  trafficPolicy:
    connectionPool:
      tcp:
        maxConnections: 1
      http:
        http1MaxPendingRequests: 1
        maxRequestsPerConnection: 1
`;

const OUTLIER = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: mixed, namespace: wp}
spec:
  host: mixed
  trafficPolicy:
    outlierDetection:
      consecutive5xxErrors: 1
      interval: 1s
      baseEjectionTime: 1m
      maxEjectionPercent: 100
`;

const show = (l: LoadSummary): string => JSON.stringify({ statuses: l.statuses, errors: l.errors, versions: l.versions, latencyMs: l.latencyMs });

/** The waypoint's last access-log records (JSON lines with a response_code), for failure messages. */
async function accessLogTail(m: Meshctl, lines = 6): Promise<string> {
  try {
    const logs = await m.ok(['logs', '-n', 'wp', pod(m, 'wp', 'waypoint').name], { timeoutMs: 20_000 });
    return logs.split('\n').filter((l) => l.includes('"response_code"')).slice(-lines).join('\n');
  } catch (err) {
    return `(no waypoint log: ${(err as Error).message})`;
  }
}

/** Run a subtest body; when it fails, add the waypoint's latest access-log lines to the error. */
async function withLog(m: Meshctl, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof Error) err.message += `\nwaypoint access log (latest):\n${await accessLogTail(m)}`;
    throw err;
  }
}

/** Wait until the waypoint answers with the route version tagged `tag` (any status). */
async function routeTagged(m: Meshctl, url: string, tag: string): Promise<void> {
  await eventually(async () => {
    const l = await load(m, url, 1, 1);
    assert.ok(Object.values(l.headers).some((h) => h['x-config'] === tag), `x-config ${tag} not seen yet: ${JSON.stringify(l.headers)}`);
    return true;
  }, 30_000, 300);
}

test('load-client: summary of samples (pure)', () => {
  assert.equal(percentile([], 50), 0);
  assert.equal(percentile([5], 99), 5);
  assert.equal(percentile([1, 2, 3, 4], 50), 2);
  assert.equal(percentile([1, 2, 3, 4], 99), 4);
  assert.equal(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 99), 99);
  assert.deepEqual(parseHeader('end-user:jason'), ['end-user', 'jason']);
  assert.deepEqual(parseHeader('X-A: b:c '), ['x-a', 'b:c']);
  assert.throws(() => parseHeader('novalue'), /bad --header/);
  assert.throws(() => parseHeader(':v'), /bad --header/);
  assert.equal(versionOf('{"version":"v2","hostname":"h"}\n'), 'v2');
  assert.equal(versionOf('{"version":2}'), undefined);
  assert.equal(versionOf('injected failure\n'), undefined);
  const s = summarize([
    { status: 200, version: 'v1', headers: { a: '1' }, ms: 10 },
    { status: 200, version: 'v2', headers: { a: '2' }, ms: 30 },
    { status: 503, headers: { 'x-envoy-overloaded': 'true' }, ms: 2 },
    { error: 'timeout', ms: 500 },
  ]);
  assert.deepEqual(s, {
    n: 4,
    statuses: { 200: 2, 503: 1 },
    errors: { timeout: 1 },
    versions: { v1: 1, v2: 1 },
    headers: { 200: { a: '1' }, 503: { 'x-envoy-overloaded': 'true' } },
    latencyMs: { min: 2, p50: 10, p99: 500, max: 500 },
  });
});

test('waypoint: Istio resilience tasks on the local cluster', { timeout: 420_000 }, async (t) => {
  if (!requirePrivileges(t)) return;
  const m = new Meshctl();
  let cid: string | undefined;
  t.after(async () => {
    await m.run(['down'], { timeoutMs: 120_000 });
    if (cid) assert.deepEqual(netnsOf(cid), [], 'down removes every namespace');
    rmSync(m.home, { recursive: true, force: true });
  });
  const up = m.ok(['up', '--nodes', '2'], { timeoutMs: 180_000 });
  await up.finally(() => { try { cid = m.clusterId; } catch {} });
  await m.ok(['apply', '-f', '-'], { input: APPS });
  await waitReady(m, 'wp', PODS - 1);
  await m.ok(['waypoint', 'apply', '-n', 'wp', '--enroll-namespace'], { timeoutMs: 120_000 });
  await waitReady(m, 'wp', PODS);
  await eventually(async () => {
    const l = await load(m, REVIEWS, 4, 1);
    assert.equal(l.statuses['200'], 4, show(l));
    assert.match(await accessLogTail(m, 1), /"response_code":200/, 'the waypoint carries the reviews traffic');
    return true;
  }, 60_000, 500);

  await t.test('fault injection: a 2 s delay for end-user jason only; an abort with 500; a 50% abort', { timeout: 90_000 }, (st) => withLog(m, async () => {
    const delay = FAULT('delay:\n  percentage:\n    value: 100\n  fixedDelay: 2s');
    await m.ok(['apply', '-f', '-'], { input: delay });
    await eventually(async () => { assert.ok((await load(m, REVIEWS, 1, 1, ['--header', 'end-user:jason'])).latencyMs.min >= 2000); return true; }, 30_000, 300);
    const jason = await load(m, REVIEWS, 5, 5, ['--header', 'end-user:jason']);
    st.diagnostic(`jason: ${show(jason)}`);
    assert.equal(jason.statuses['200'], 5, show(jason));
    assert.ok(jason.latencyMs.min >= 2000 && jason.latencyMs.max < 4000, `jason's requests wait 2 s: ${show(jason)}`);
    const others = await load(m, REVIEWS, 20, 5);
    st.diagnostic(`others: ${show(others)}`);
    assert.equal(others.statuses['200'], 20, show(others));
    assert.ok(others.latencyMs.max < 1000, `everyone else is not delayed: ${show(others)}`);

    await m.ok(['apply', '-f', '-'], { input: FAULT('abort:\n  percentage:\n    value: 100\n  httpStatus: 500') });
    await eventually(async () => { assert.equal((await load(m, REVIEWS, 1, 1, ['--header', 'end-user:jason'])).statuses['500'], 1); return true; }, 30_000, 300);
    const aborted = await load(m, REVIEWS, 20, 5, ['--header', 'end-user:jason']);
    st.diagnostic(`aborted: ${show(aborted)}`);
    assert.deepEqual(aborted.statuses, { 500: 20 }, show(aborted));
    assert.ok(aborted.latencyMs.max < 1000, `the abort is immediate (no delay left over): ${show(aborted)}`);
    const spared = await load(m, REVIEWS, 20, 5);
    st.diagnostic(`spared: ${show(spared)}`);
    assert.deepEqual(spared.statuses, { 200: 20 }, show(spared));

    await m.ok(['apply', '-f', '-'], { input: FAULT_HALF });
    await eventually(async () => { assert.ok(((await load(m, REVIEWS, 10, 5)).statuses['500'] ?? 0) > 0); return true; }, 30_000, 300);
    const half = await load(m, REVIEWS, 200, 10);
    st.diagnostic(`half: ${show(half)}`);
    const failed = half.statuses['500'] ?? 0;
    assert.equal(failed + (half.statuses['200'] ?? 0), 200, show(half));
    // Binomial(200, 0.5): sd 3.5 points, so ±12 points is beyond 3 sd.
    assert.ok(Math.abs((failed * 100) / 200 - 50) <= 12, `500 share ${failed / 2}%: ${show(half)}`);
    await m.ok(['delete', '-f', '-'], { input: FAULT_HALF });
  }));

  await t.test('request timeouts: timeout 0.5s on a 2 s backend → 504 in under 1.5 s; without it → 200', { timeout: 60_000 }, (st) => withLog(m, async () => {
    const slow = `${HTTPBIN}/delay/2`;
    await m.ok(['apply', '-f', '-'], { input: TIMEOUT });
    await eventually(async () => { assert.equal((await load(m, slow, 1, 1)).statuses['504'], 1); return true; }, 30_000, 300);
    const timedOut = await load(m, slow, 5, 5);
    st.diagnostic(`timedOut: ${show(timedOut)}`);
    assert.deepEqual(timedOut.statuses, { 504: 5 }, show(timedOut));
    assert.ok(timedOut.latencyMs.min >= 450 && timedOut.latencyMs.max < 1500, `answered at the 0.5 s timeout: ${show(timedOut)}`);
    await m.ok(['delete', '-f', '-'], { input: TIMEOUT });
    await eventually(async () => { assert.equal((await load(m, slow, 1, 1)).statuses['200'], 1); return true; }, 30_000, 300);
    const waited = await load(m, slow, 3, 3);
    st.diagnostic(`waited: ${show(waited)}`);
    assert.deepEqual(waited.statuses, { 200: 3 }, show(waited));
    assert.ok(waited.latencyMs.min >= 2000, show(waited));
  }));

  await t.test('retries: a backend failing 50% shows ~half 503s with attempts 0, none with attempts 20 on 5xx', { timeout: 90_000 }, (st) => withLog(m, async () => {
    await m.ok(['apply', '-f', '-'], { input: TAGGED('flaky', 'no-retries', '{attempts: 0}') });
    await routeTagged(m, FLAKY, 'no-retries');
    const bare = await load(m, FLAKY, 100, 10);
    st.diagnostic(`bare: ${show(bare)}`);
    const failed = bare.statuses['503'] ?? 0;
    assert.equal(failed + (bare.statuses['200'] ?? 0), 100, show(bare));
    // Binomial(100, 0.5): sd 5; Istio's default retries (2 on 503) would leave ~12.5%.
    assert.ok(failed >= 30 && failed <= 70, `about half fail without retries: ${show(bare)}`);
    assert.equal(bare.headers['503']?.['x-config'], 'no-retries', 'the 503 is the backend\'s, through the route');

    // 20 and not 10 attempts: with 10, a request fails with probability 2^-11 and 100 requests all succeed only 95% of
    // the time; with 20 the run fails about once in 20 000.
    await m.ok(['apply', '-f', '-'], { input: TAGGED('flaky', 'retries', '{attempts: 20, retryOn: 5xx}') });
    await routeTagged(m, FLAKY, 'retries');
    const retried = await load(m, FLAKY, 100, 10);
    st.diagnostic(`retried: ${show(retried)}`);
    assert.deepEqual(retried.statuses, { 200: 100 }, show(retried));
    assert.deepEqual(retried.errors, {}, show(retried));
    await m.ok(['delete', '-f', '-'], { input: TAGGED('flaky', 'retries', '{attempts: 20, retryOn: 5xx}') });
  }));

  await t.test('circuit breaking: 1 connection, 1 pending → 20 concurrent requests overflow with 503 x-envoy-overloaded', { timeout: 60_000 }, (st) => withLog(m, async () => {
    const slow = `${HTTPBIN}/delay/1`;
    await m.ok(['apply', '-f', '-'], { input: BREAKER });
    await eventually(async () => { assert.ok(((await load(m, slow, 20, 20)).statuses['503'] ?? 0) > 0); return true; }, 30_000, 300);
    const burst = await load(m, slow, 20, 20);
    st.diagnostic(`burst: ${show(burst)}`);
    assert.deepEqual(burst.errors, {}, show(burst));
    assert.ok((burst.statuses['503'] ?? 0) >= 10, `most of the burst overflows: ${show(burst)}`);
    assert.ok((burst.statuses['200'] ?? 0) >= 1, `what fits in the pool is served: ${show(burst)}`);
    assert.equal((burst.statuses['503'] ?? 0) + (burst.statuses['200'] ?? 0), 20, show(burst));
    assert.equal(burst.headers['503']?.['x-envoy-overloaded'], 'true', `overflow is marked: ${JSON.stringify(burst.headers['503'])}`);
    assert.ok(burst.latencyMs.min < 500, `overflow is refused at once, not queued: ${show(burst)}`);
    const one = await load(m, slow, 3, 1);
    st.diagnostic(`one: ${show(one)}`);
    assert.deepEqual(one.statuses, { 200: 3 }, `one at a time fits: ${show(one)}`);
    await m.ok(['delete', '-f', '-'], { input: BREAKER });
  }));

  await t.test('outlier ejection: after the failing endpoint\'s first 503 it is ejected and 50 requests are all 200', { timeout: 60_000 }, (st) => withLog(m, async () => {
    await m.ok(['apply', '-f', '-'], { input: OUTLIER + '---' + TAGGED('mixed', 'outlier', '{attempts: 0}') });
    await routeTagged(m, MIXED, 'outlier');
    const warm = await load(m, MIXED, 20, 1);
    st.diagnostic(`warm: ${show(warm)}`);
    assert.equal((warm.statuses['200'] ?? 0) + (warm.statuses['503'] ?? 0), 20, show(warm));
    assert.ok((warm.versions.good ?? 0) >= 10, `the healthy endpoint serves: ${show(warm)}`);
    const after = await load(m, MIXED, 50, 5);
    st.diagnostic(`after: ${show(after)}`);
    assert.deepEqual(after.statuses, { 200: 50 }, `the failing endpoint is ejected: ${show(after)}`);
    assert.deepEqual(after.versions, { good: 50 }, show(after));
    // Without the DestinationRule the failures come back: ejection, not luck, kept them away.
    await m.ok(['delete', '-f', '-'], { input: OUTLIER });
    await eventually(async () => { assert.ok(((await load(m, MIXED, 10, 1)).statuses['503'] ?? 0) > 0); return true; }, 30_000, 300);
    await m.ok(['delete', '-f', '-'], { input: TAGGED('mixed', 'outlier', '{attempts: 0}') });
  }));
});
