import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { accessLogRecord, connectionLogRecord, writeAccessLog, type AccessLogFacts } from './accesslog.ts';

const facts: AccessLogFacts = {
  start: Date.UTC(2025, 0, 2, 3, 4, 5, 678),
  method: 'GET',
  path: '/reviews/0?x=1',
  protocol: 'HTTP/1.1',
  headers: {
    host: 'reviews:9080', 'user-agent': 'curl/8.5', 'x-forwarded-for': ['10.244.1.5', '10.244.2.9'], 'x-request-id': 'from-client',
  },
  requestId: 'from-client',
  responseCode: 200,
  responseFlags: '-',
  responseCodeDetails: 'via_upstream',
  bytesReceived: 0,
  bytesSent: 295,
  durationMs: 12.6,
  upstreamServiceTimeMs: 10.2,
  upstreamHost: '10.244.2.7:9080',
  upstreamCluster: 'demo/reviews.demo.svc.cluster.local#v2',
  routeName: 'HTTPRoute/demo/reviews#0',
  downstreamRemoteAddress: '10.244.1.5:40112',
  downstreamLocalAddress: '10.96.0.20:9080',
  sourcePrincipal: 'spiffe://cluster.local/ns/demo/sa/productpage',
  destinationPrincipal: 'spiffe://cluster.local/ns/demo/sa/reviews',
};

test('accessLogRecord: Istio JSON access-log keys and values', () => {
  assert.deepEqual(accessLogRecord(facts), {
    start_time: '2025-01-02T03:04:05.678Z',
    method: 'GET',
    path: '/reviews/0?x=1',
    protocol: 'HTTP/1.1',
    response_code: 200,
    response_flags: '-',
    response_code_details: 'via_upstream',
    bytes_received: 0,
    bytes_sent: 295,
    duration: 13,
    upstream_service_time: 10,
    x_forwarded_for: '10.244.1.5,10.244.2.9',
    user_agent: 'curl/8.5',
    request_id: 'from-client',
    authority: 'reviews:9080',
    upstream_host: '10.244.2.7:9080',
    upstream_cluster: 'demo/reviews.demo.svc.cluster.local#v2',
    route_name: 'HTTPRoute/demo/reviews#0',
    downstream_remote_address: '10.244.1.5:40112',
    downstream_local_address: '10.96.0.20:9080',
    downstream_peer_uri_san: 'spiffe://cluster.local/ns/demo/sa/productpage',
    upstream_peer_uri_san: 'spiffe://cluster.local/ns/demo/sa/reviews',
  });
});

test('accessLogRecord: a local reply leaves upstream fields out; :authority wins over host; request id from headers', () => {
  const r = accessLogRecord({
    start: new Date(0), method: 'POST', path: '/x', protocol: 'HTTP/2',
    headers: { ':authority': 'a:1', host: 'b:2', 'x-request-id': 'hdr' },
    responseCode: 403, responseFlags: '-', responseCodeDetails: 'rbac_access_denied_matched_policy[demo.deny-all]',
    bytesReceived: 10, bytesSent: 19, durationMs: 0.4,
  });
  assert.equal(r.authority, 'a:1');
  assert.equal(r.request_id, 'hdr');
  assert.equal(r.duration, 0);
  assert.equal(r.response_code_details, 'rbac_access_denied_matched_policy[demo.deny-all]');
  for (const k of ['upstream_host', 'upstream_cluster', 'upstream_service_time', 'user_agent', 'x_forwarded_for', 'route_name']) {
    assert.equal(k in r, false, k);
  }
});

test('connectionLogRecord: a TCP connection with the request record keys that apply, absent ones left out', () => {
  assert.deepEqual(connectionLogRecord({
    start: Date.UTC(2026, 0, 2, 3, 4, 5), durationMs: 12.4, responseFlags: '-', bytesReceived: 10, bytesSent: 20,
    upstreamHost: '10.244.2.4:9000', upstreamCluster: 'demo/tcp.demo.svc.cluster.local|9000|',
    downstreamRemoteAddress: '10.244.1.5', downstreamLocalAddress: '10.96.0.9:9000', sourcePrincipal: 'spiffe://cluster.local/ns/demo/sa/client',
  }), {
    start_time: '2026-01-02T03:04:05.000Z', protocol: 'TCP', response_flags: '-', bytes_received: 10, bytes_sent: 20, duration: 12,
    upstream_host: '10.244.2.4:9000', upstream_cluster: 'demo/tcp.demo.svc.cluster.local|9000|',
    downstream_remote_address: '10.244.1.5', downstream_local_address: '10.96.0.9:9000', downstream_peer_uri_san: 'spiffe://cluster.local/ns/demo/sa/client',
  });
  assert.deepEqual(connectionLogRecord({ start: 0, durationMs: 0, responseFlags: '', bytesReceived: 0, bytesSent: 0, upstreamTransportFailureReason: 'refused' }),
    { start_time: '1970-01-01T00:00:00.000Z', protocol: 'TCP', response_flags: '-', bytes_received: 0, bytes_sent: 0, duration: 0, upstream_transport_failure_reason: 'refused' });
});

test('writeAccessLog: one info line per request', () => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
  writeAccessLog(pino({ level: 'info' }, sink), facts);
  assert.equal(lines.length, 1);
  const rec = JSON.parse(lines[0]!);
  assert.equal(rec.level, 30);
  assert.equal(rec.msg, 'request complete');
  assert.equal(rec.upstream_cluster, 'demo/reviews.demo.svc.cluster.local#v2');
});
