// The xDS client against a small scripted delta ADS server (grpc-js + shared/proto's service definition) over
// TLS on loopback: subscription and node, ACK, NACK keeping the last good state, reconnect with the versions held
// (an unchanged resource is not resent, a removed one is reported removed), TLS name checking, close before sync.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import {
  adsServiceDefinition, ADDRESS_TYPE_URL as ADDR, AUTHORIZATION_TYPE_URL as AUTHZ, encodeAddress, encodeAuthorization, ipBytes,
  type Address, type Authorization, type DeltaDiscoveryRequest, type DeltaDiscoveryResponse,
} from '../proto/index.ts';
import { silent } from '../log.ts';
import { eventually } from '../../test/support/eventually.ts';
import { selfSignedServerCert } from '../../test/support/tls.ts';
import { XdsState } from '../state/index.ts';
import type { IpText } from '../state/types.ts';
import { startXdsClient, type XdsClient } from './client.ts';
import { stateSubscriptions } from './state-subscriptions.ts';
import { XdsClosedError } from './errors.ts';

const NAME = 'istiod.istio-system.svc';
const cert = selfSignedServerCert([NAME]);

type Call = grpc.ServerDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;
interface Stream { call: Call; requests: DeltaDiscoveryRequest[]; authorization: string | undefined; ended: boolean }

/** A delta ADS server the test scripts: it records requests and sends exactly what it is told. */
async function fakeAds(t: TestContext, port = 0) {
  const streams: Stream[] = [];
  let nonce = 0;
  const server = new grpc.Server();
  server.addService(adsServiceDefinition, {
    DeltaAggregatedResources: (call: Call) => {
      const s: Stream = { call, requests: [], authorization: call.metadata.get('authorization')[0] as string | undefined, ended: false };
      streams.push(s);
      call.on('data', (r: DeltaDiscoveryRequest) => s.requests.push(r));
      call.on('error', () => (s.ended = true));
      call.on('end', () => (s.ended = true));
      call.on('cancelled', () => (s.ended = true));
    },
  });
  const creds = grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(cert.certPem), private_key: Buffer.from(cert.keyPem) }], false);
  const bound = await new Promise<number>((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, creds, (e, p) => (e ? reject(e) : resolve(p))));
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    server.forceShutdown();
  };
  t.after(stop);
  const latest = () => streams.at(-1)!;
  return {
    port: bound,
    streams,
    latest,
    stop,
    /** Send on the latest stream; returns the nonce. */
    send(typeUrl: string, resources: Array<{ name: string; version: string; value: Uint8Array }>, removed: string[] = []): string {
      const n = `n${++nonce}`;
      latest().call.write({ typeUrl, nonce: n, systemVersionInfo: '', removedResources: removed, resources: resources.map((r) => ({ name: r.name, version: r.version, resource: { typeUrl, value: r.value } })) });
      return n;
    },
    /** The request answering `nonce` on the latest stream. */
    reply: (n: string) => eventually(() => latest().requests.find((r) => r.responseNonce === n), 5000),
  };
}

const workload = (name: string, ip: string): Address => ({ workload: { uid: `Kubernetes//Pod/shop/${name}`, name, namespace: 'shop', node: 'node-1', addresses: [ipBytes(ip)] } });
const wres = (name: string, ip: string, version = 'v1') => ({ name: `Kubernetes//Pod/shop/${name}`, version, value: encodeAddress(workload(name, ip)) });
const service: Address = { service: { name: 'web', namespace: 'shop', hostname: 'web.shop.svc.cluster.local', addresses: [{ network: '', address: ipBytes('10.96.0.5') }] } };
const sres = { name: 'shop/web.shop.svc.cluster.local', version: 's1', value: encodeAddress(service) };
const policy: Authorization = { name: 'allow', namespace: 'shop', scope: 'NAMESPACE' };
const pres = { name: 'shop/allow', version: 'p1', value: encodeAuthorization(policy) };

function client(t: TestContext, port: number, state = new XdsState(), extra: Partial<Parameters<typeof startXdsClient>[0]> = {}): { c: XdsClient; state: XdsState } {
  const c = startXdsClient({
    address: `127.0.0.1:${port}`, servername: NAME, rootCaPem: cert.certPem, token: () => 'tok-1',
    node: { id: 'ztunnel~10.100.0.11~ztunnel-x.istio-system~istio-system.svc.cluster.local', metadata: { NODE_NAME: 'node-1' } },
    subscriptions: stateSubscriptions(state), log: silent, backoff: { initialMs: 50, maxMs: 200 }, ...extra,
  });
  t.after(() => c.close());
  return { c, state };
}

test('xds client: subscribes wildcard with node and token, applies, ACKs, resolves synced', { timeout: 30_000 }, async (t) => {
  const ads = await fakeAds(t);
  const { c, state } = client(t, ads.port);
  const s = await eventually(() => ads.streams[0]?.requests.length === 2 && ads.streams[0], 5000);
  assert.equal(s.authorization, 'Bearer tok-1');
  assert.deepEqual(s.requests.map((r) => r.typeUrl), [ADDR, AUTHZ]);
  for (const r of s.requests) {
    assert.deepEqual(r.resourceNamesSubscribe, ['*']);
    assert.deepEqual(r.initialResourceVersions, {});
    assert.equal(r.node?.id, 'ztunnel~10.100.0.11~ztunnel-x.istio-system~istio-system.svc.cluster.local');
  }
  let synced = false;
  void c.synced.then(() => (synced = true));
  const n1 = ads.send(ADDR, [wres('web-1', '10.244.1.5'), sres]);
  const ack1 = await ads.reply(n1);
  assert.equal(ack1.errorDetail, undefined);
  assert.equal(ack1.typeUrl, ADDR);
  assert.equal(state.workloadByIp('10.244.1.5' as IpText)?.name, 'web-1');
  assert.equal(synced, false, 'not synced until both types arrived');
  const n2 = ads.send(AUTHZ, [pres]);
  await ads.reply(n2);
  await c.synced;
  assert.ok(c.connected());
  assert.equal(state.policiesFor(workload('web-1', '10.244.1.5').workload!).length, 1);
  const d = c.dump();
  assert.equal(d.types[ADDR]!.lastAck?.nonce, n1);
  assert.deepEqual(d.types[ADDR]!.versions, { 'Kubernetes//Pod/shop/web-1': 'v1', 'shop/web.shop.svc.cluster.local': 's1' });
  assert.equal(d.types[AUTHZ]!.resources, 1);
  assert.equal(d.synced, true);
  JSON.stringify(d);
});

test('xds client: NACKs what does not decode or validate and keeps the last good state', { timeout: 30_000 }, async (t) => {
  const ads = await fakeAds(t);
  const { c, state } = client(t, ads.port);
  await eventually(() => ads.streams[0]?.requests.length === 2, 5000);
  await ads.reply(ads.send(ADDR, [wres('web-1', '10.244.1.5')]));
  const cases: Array<[string, Array<{ name: string; version: string; value: Uint8Array }>, string[], RegExp]> = [
    ['undecodable bytes', [wres('web-2', '10.244.1.6'), { name: 'Kubernetes//Pod/shop/x', version: 'x', value: Buffer.from([0xff, 0xff, 0xff]) }], [], /cannot decode/],
    ['name is not the uid', [{ ...wres('web-3', '10.244.1.7'), name: 'other' }], ['Kubernetes//Pod/shop/web-1'], /must be the uid/],
  ];
  for (const [name, resources, removed, want] of cases) {
    const n = ads.send(ADDR, resources, removed);
    const nack = await ads.reply(n);
    assert.equal(nack.errorDetail?.code, grpc.status.INVALID_ARGUMENT, name);
    assert.match(nack.errorDetail?.message ?? '', want, name);
    assert.deepEqual([...state.allWorkloads()].map((w) => w.name), ['web-1'], `${name}: nothing of the batch applied, nothing removed`);
    assert.equal(c.dump().types[ADDR]!.lastNack?.nonce, n);
  }
  const good = await ads.reply(ads.send(ADDR, [wres('web-2', '10.244.1.6')]));
  assert.equal(good.errorDetail, undefined, 'a good response after a NACK is ACKed');
  assert.equal(state.workloadByIp('10.244.1.6' as IpText)?.name, 'web-2');
  assert.ok(c.connected(), 'a NACK does not drop the stream');
});

test('xds client: reconnects with backoff, reports versions held, applies removals; serves while down', { timeout: 30_000 }, async (t) => {
  const ads = await fakeAds(t);
  const port = ads.port;
  let tokens = 0;
  const { c, state } = client(t, port, new XdsState(), { token: () => `tok-${++tokens}` });
  await eventually(() => ads.streams[0]?.requests.length === 2, 5000);
  await ads.reply(ads.send(ADDR, [wres('web-1', '10.244.1.5'), wres('web-2', '10.244.1.6'), sres]));
  await ads.reply(ads.send(AUTHZ, [pres]));
  await c.synced;

  // 1. The server ends the stream with an error: the client comes back on a new stream with what it holds.
  ads.latest().call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'going away' });
  await eventually(() => !c.connected(), 5000);
  assert.equal(state.workloadByIp('10.244.1.5' as IpText)?.name, 'web-1', 'state served while disconnected');
  const s2 = await eventually(() => ads.streams.length === 2 && ads.streams[1]!.requests.length === 2 && ads.streams[1], 5000);
  assert.equal(s2.authorization, 'Bearer tok-2', 'the token is read again for every stream');
  assert.deepEqual(s2.requests[0]!.initialResourceVersions, { 'Kubernetes//Pod/shop/web-1': 'v1', 'Kubernetes//Pod/shop/web-2': 'v1', 'shop/web.shop.svc.cluster.local': 's1' });
  assert.deepEqual(s2.requests[1]!.initialResourceVersions, { 'shop/allow': 'p1' });
  // The server, like the controller, answers with only the differences: web-2 was deleted meanwhile.
  await ads.reply(ads.send(ADDR, [], ['Kubernetes//Pod/shop/web-2']));
  assert.equal(state.workloadByUid('Kubernetes//Pod/shop/web-2'), undefined);
  assert.equal(state.workloadByUid('Kubernetes//Pod/shop/web-1')?.name, 'web-1', 'unchanged resources stay');
  assert.ok(c.connected());

  // 2. The whole server goes away and comes back on the same port: retried until it is there again.
  ads.stop();
  await eventually(() => !c.connected(), 5000);
  await eventually(() => c.dump().failedAttempts >= 2, 5000);
  assert.ok(c.dump().lastError?.message);
  assert.equal([...state.allWorkloads()].length, 1, 'state served while the server is down');
  const again = await fakeAds(t, port);
  const s3 = await eventually(() => again.streams[0]?.requests.length === 2 && again.streams[0], 10_000);
  assert.deepEqual(s3.requests[0]!.initialResourceVersions, { 'Kubernetes//Pod/shop/web-1': 'v1', 'shop/web.shop.svc.cluster.local': 's1' });
  await again.reply(again.send(ADDR, [wres('web-1', '10.244.1.9', 'v2')], ['shop/web.shop.svc.cluster.local']));
  assert.equal(state.workloadByIp('10.244.1.9' as IpText)?.name, 'web-1');
  assert.equal(state.serviceByVip('10.96.0.5' as IpText), undefined);
  assert.equal(c.dump().failedAttempts, 0, 'a response resets the backoff');
});

test('xds client: refuses a server whose certificate does not carry the expected name', { timeout: 30_000 }, async (t) => {
  const ads = await fakeAds(t);
  const { c } = client(t, ads.port, new XdsState(), { servername: 'istiod.elsewhere.svc' });
  await eventually(() => c.dump().failedAttempts >= 1, 5000);
  assert.equal(c.connected(), false);
  assert.equal(ads.streams.length, 0, 'no stream reached the server');
});

test('xds client: close before the first state rejects synced; close is idempotent', { timeout: 30_000 }, async (t) => {
  const ads = await fakeAds(t);
  const { c } = client(t, ads.port);
  await eventually(() => ads.streams[0]?.requests.length === 2, 5000);
  await c.close();
  await assert.rejects(c.synced, XdsClosedError);
  await c.close();
  await eventually(() => ads.streams[0]!.ended, 5000);
  assert.equal(c.connected(), false);
});

test('xds client: a stream that stays silent is abandoned and a new one opened', { timeout: 30_000 }, async (t) => {
  const ads = await fakeAds(t);
  const { c } = client(t, ads.port, new XdsState(), { firstResponseTimeoutMs: 1500 });
  // The server accepts the stream and never answers (a controller still starting, a stuck connection).
  await eventually(() => ads.streams.length >= 2, 5000);
  assert.ok(ads.streams[0]!.ended, 'the silent stream was cancelled');
  assert.match(c.dump().lastError?.message ?? '', /no response within 1500 ms/);
  assert.equal(c.connected(), false);
  // A server that answers keeps the stream: no further streams once a response arrived.
  await eventually(() => ads.latest().requests.length === 2, 5000);
  const answered = ads.streams.length;
  await ads.reply(ads.send(ADDR, [wres('web-1', '10.244.1.5')]));
  await ads.reply(ads.send(AUTHZ, [pres]));
  await c.synced;
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(ads.streams.length, answered, 'an answered stream is kept');
  assert.ok(c.connected());
});
