import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import type { Workload } from '../../shared/proto/types.ts';
import {
  BYTES_BUCKETS, DURATION_BUCKETS_MS, REQUEST_LABEL_NAMES, RESPONSE_FLAGS, formatResponseFlags, requestLabels,
  requestMetrics, serviceLabels, type RequestFacts,
} from './metrics.ts';

const productpage: Workload = {
  uid: 'k/demo/productpage-1', name: 'productpage-7f9c-abcde', namespace: 'demo', workloadName: 'productpage',
  canonicalName: 'productpage', canonicalRevision: 'v1', serviceAccount: 'bookinfo-productpage', trustDomain: 'cluster.local', clusterId: 'Kubernetes',
};
const reviews: Workload = {
  uid: 'k/demo/reviews-2', name: 'reviews-v2-xyz', namespace: 'demo', workloadName: 'reviews-v2',
  canonicalName: 'reviews', canonicalRevision: 'v2', serviceAccount: 'bookinfo-reviews', trustDomain: 'cluster.local', clusterId: 'Kubernetes',
};

const base: RequestFacts = {
  srcWorkload: productpage,
  srcPrincipal: 'spiffe://cluster.local/ns/demo/sa/bookinfo-productpage',
  dstWorkload: reviews,
  dstService: 'demo/reviews.demo.svc.cluster.local',
  grpc: false,
  responseCode: 200,
  responseFlags: '-',
  mtls: true,
};

test('requestLabels: a forwarded mTLS request has every Istio label, with the workloads and service filled in', () => {
  const l = requestLabels(base);
  assert.deepEqual(Object.keys(l).sort(), [...REQUEST_LABEL_NAMES].sort());
  assert.deepEqual(l, {
    reporter: 'waypoint',
    source_workload: 'productpage', source_workload_namespace: 'demo',
    source_principal: 'spiffe://cluster.local/ns/demo/sa/bookinfo-productpage',
    source_app: 'productpage', source_version: 'v1', source_canonical_service: 'productpage', source_canonical_revision: 'v1',
    source_cluster: 'Kubernetes',
    destination_workload: 'reviews-v2', destination_workload_namespace: 'demo',
    destination_principal: 'spiffe://cluster.local/ns/demo/sa/bookinfo-reviews',
    destination_app: 'reviews', destination_version: 'v2', destination_canonical_service: 'reviews', destination_canonical_revision: 'v2',
    destination_service: 'reviews.demo.svc.cluster.local', destination_service_name: 'reviews', destination_service_namespace: 'demo',
    destination_cluster: 'Kubernetes',
    request_protocol: 'http', response_code: '200', grpc_response_status: '', response_flags: '-',
    connection_security_policy: 'mutual_tls',
  });
});

test('requestLabels: denied before forwarding — unknown destination workload, plaintext client', () => {
  const l = requestLabels({ ...base, dstWorkload: undefined, srcPrincipal: undefined, srcWorkload: undefined, mtls: false, responseCode: 403 });
  assert.equal(l.destination_workload, 'unknown');
  assert.equal(l.destination_principal, 'unknown');
  assert.equal(l.destination_canonical_revision, 'latest');
  assert.equal(l.source_workload, 'unknown');
  assert.equal(l.source_principal, 'unknown');
  assert.equal(l.connection_security_policy, 'none');
  assert.equal(l.response_code, '403');
  assert.equal(l.destination_service_name, 'reviews');
});

const grpcCases: Array<{ name: string; f: Partial<RequestFacts>; want: string }> = [
  { name: 'grpc-status sent', f: { grpc: true, responseCode: 200, grpcStatus: 5 }, want: '5' },
  { name: 'no grpc-status: from HTTP 503', f: { grpc: true, responseCode: 503 }, want: '14' },
  { name: 'no grpc-status: from HTTP 403', f: { grpc: true, responseCode: 403 }, want: '7' },
  { name: 'no grpc-status on 200 is UNKNOWN', f: { grpc: true, responseCode: 200 }, want: '2' },
  { name: 'no response at all', f: { grpc: true, responseCode: 0 }, want: '' },
  { name: 'plain HTTP is empty', f: { grpc: false, responseCode: 503 }, want: '' },
];
for (const c of grpcCases) {
  test(`requestLabels grpc_response_status: ${c.name}`, () => {
    const l = requestLabels({ ...base, ...c.f });
    assert.equal(l.grpc_response_status, c.want);
    assert.equal(l.request_protocol, c.f.grpc ? 'grpc' : 'http');
  });
}

test('serviceLabels: Kubernetes names, other hosts, none', () => {
  assert.deepEqual(serviceLabels('demo/reviews.demo.svc.cluster.local'), { hostname: 'reviews.demo.svc.cluster.local', name: 'reviews', namespace: 'demo' });
  assert.deepEqual(serviceLabels('demo/api.example.com'), { hostname: 'api.example.com', name: 'api.example.com', namespace: 'demo' });
  assert.deepEqual(serviceLabels(undefined), { hostname: 'unknown', name: 'unknown', namespace: 'unknown' });
});

test('formatResponseFlags: Envoy order, comma-joined, - when none', () => {
  assert.equal(formatResponseFlags([]), '-');
  assert.equal(formatResponseFlags([RESPONSE_FLAGS.UPSTREAM_RETRY_LIMIT_EXCEEDED, RESPONSE_FLAGS.UPSTREAM_CONNECTION_FAILURE]), 'UF,URX');
  assert.equal(formatResponseFlags(['FI', 'DI']), 'DI,FI');
  assert.equal(formatResponseFlags(new Set(['NR'] as const)), 'NR');
});

test('record: Istio names, buckets and label values in the exposition', async () => {
  const registry = new Registry();
  const m = requestMetrics(registry);
  m.record(base, { durationMs: 12, requestBytes: 300, responseBytes: 5000 });
  m.record({ ...base }, { durationMs: 700, requestBytes: 300, responseBytes: 5000 });
  const text = await registry.metrics();
  assert.match(text, /# TYPE istio_requests_total counter/);
  assert.match(text, /istio_requests_total\{reporter="waypoint",source_workload="productpage",[^}]*response_code="200"[^}]*\} 2/);
  assert.match(text, /# TYPE istio_request_duration_milliseconds histogram/);
  assert.match(text, /istio_request_duration_milliseconds_bucket\{le="25",reporter="waypoint"[^}]*\} 1/);
  assert.match(text, /istio_request_duration_milliseconds_bucket\{le="1000",reporter="waypoint"[^}]*\} 2/);
  assert.match(text, /istio_request_bytes_bucket\{le="1000",[^}]*\} 2/);
  assert.match(text, /istio_response_bytes_bucket\{le="1000",[^}]*\} 0/);
  assert.match(text, /istio_response_bytes_sum\{[^}]*\} 10000/);
  const dur = await registry.getSingleMetric('istio_request_duration_milliseconds')!.get();
  const les = [...new Set(dur.values.map((v) => v.labels.le).filter((le) => le !== undefined && le !== '+Inf'))].map(Number);
  assert.deepEqual(les, DURATION_BUCKETS_MS);
  const bytes = await registry.getSingleMetric('istio_request_bytes')!.get();
  assert.deepEqual([...new Set(bytes.values.map((v) => v.labels.le).filter((le) => le !== undefined && le !== '+Inf'))].map(Number), BYTES_BUCKETS);
});

test('record: a workload updated by xDS (a new object) gets its new labels; other facts split series', async () => {
  const registry = new Registry();
  const m = requestMetrics(registry);
  m.record(base, { durationMs: 1, requestBytes: 1, responseBytes: 1 });
  m.record({ ...base, dstWorkload: { ...reviews, canonicalRevision: 'v3' } }, { durationMs: 1, requestBytes: 1, responseBytes: 1 });
  m.record({ ...base, responseCode: 503, responseFlags: 'UF' }, { durationMs: 1, requestBytes: 1, responseBytes: 1 });
  m.record({ ...base, responseCode: 503, responseFlags: 'UF' }, { durationMs: 1, requestBytes: 1, responseBytes: 1 });
  const counts = (await registry.getSingleMetric('istio_requests_total')!.get()).values
    .map((v) => `${v.labels.destination_version}/${v.labels.response_code}/${v.labels.response_flags}=${v.value}`).sort();
  assert.deepEqual(counts, ['v2/200/-=1', 'v2/503/UF=2', 'v3/200/-=1']);
});

test('record: the same labels from different facts (a workload object replaced unchanged) add up in one series', async () => {
  const registry = new Registry();
  const m = requestMetrics(registry);
  m.record(base, { durationMs: 3, requestBytes: 1, responseBytes: 1 });
  m.record({ ...base, srcWorkload: { ...productpage } }, { durationMs: 30, requestBytes: 1, responseBytes: 1 });
  const total = (await registry.getSingleMetric('istio_requests_total')!.get()).values;
  assert.equal(total.length, 1);
  assert.equal(total[0]!.value, 2);
  const text = await registry.metrics();
  assert.match(text, /istio_request_duration_milliseconds_sum\{[^}]*\} 33\n/);
  assert.match(text, /istio_request_duration_milliseconds_bucket\{le="5",[^}]*\} 1\n/);
  assert.match(text, /istio_request_duration_milliseconds_bucket\{le="50",[^}]*\} 2\n/);
});

test('record: after the registry resets its metrics, counting starts again from zero', async () => {
  const registry = new Registry();
  const m = requestMetrics(registry);
  m.record(base, { durationMs: 1, requestBytes: 1, responseBytes: 1 });
  registry.resetMetrics();
  assert.equal((await registry.getSingleMetric('istio_requests_total')!.get()).values.length, 0);
  m.record(base, { durationMs: 1, requestBytes: 1, responseBytes: 1 });
  assert.match(await registry.metrics(), /istio_requests_total\{[^}]*\} 1\n/);
});
