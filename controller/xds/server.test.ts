// End-to-end tests of the delta ADS server with a real grpc-js client on 127.0.0.1.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { eventually } from '../../test/support/eventually.ts';
import { silent } from '../../shared/log.ts';
import {
  AdsClient, ADDRESS_TYPE_URL as ADDR, AUTHORIZATION_TYPE_URL as AUTHZ, encodeAddress, encodeAuthorization, decodeAddress,
  type DeltaDiscoveryRequest, type DeltaDiscoveryResponse,
} from '../../shared/proto/index.ts';
import { createDeltaAds, startXdsServer, type DeltaAds, type DeltaAdsOptions } from './index.ts';

const workload = (uid: string, sa = 'default') => ({ name: uid, resource: encodeAddress({ workload: { uid, serviceAccount: sa } }) });
const authz = (name: string, ns = 'ns') => ({ name: `${ns}/${name}`, resource: encodeAuthorization({ name, namespace: ns, action: 'DENY' }) });

const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function setup(opts: DeltaAdsOptions = {}): Promise<{ ads: DeltaAds; address: string; registry: Registry }> {
  const registry = new Registry();
  const ads = createDeltaAds({ log: silent, debounceMs: 20, registry, ...opts });
  const srv = await startXdsServer({ ads, credentials: grpc.ServerCredentials.createInsecure() });
  cleanups.push(() => srv.close());
  return { ads, address: srv.address, registry };
}

interface TestStream {
  got: DeltaDiscoveryResponse[];
  of(typeUrl: string): DeltaDiscoveryResponse[];
  send(r: Partial<DeltaDiscoveryRequest>): void;
  ack(r: DeltaDiscoveryResponse): void;
  nth(typeUrl: string, n: number): Promise<DeltaDiscoveryResponse>;
  error: grpc.ServiceError | undefined;
  end(): void;
}

function connect(address: string, metadata = new grpc.Metadata()): TestStream {
  const client = new AdsClient(address, grpc.credentials.createInsecure());
  const call = client.DeltaAggregatedResources(metadata);
  const s: TestStream = {
    got: [],
    error: undefined,
    of: (t) => s.got.filter((r) => r.typeUrl === t),
    send: (r) => call.write({ node: { id: 'test-node' }, ...r }),
    ack: (r) => call.write({ typeUrl: r.typeUrl, responseNonce: r.nonce }),
    nth: (t, n) => eventually(() => s.of(t)[n]),
    end: () => {
      call.end();
      client.close();
    },
  };
  call.on('data', (r: DeltaDiscoveryResponse) => s.got.push(r));
  call.on('error', (e: grpc.ServiceError) => {
    s.error = e;
  });
  cleanups.push(() => s.end());
  return s;
}

const names = (r: DeltaDiscoveryResponse): string[] => r.resources.map((x) => x.name).sort();

test('wildcard subscribe, ACK, incremental update, removal, metrics', async () => {
  const { ads, address, registry } = await setup();
  ads.update(ADDR, [workload('a'), workload('b')], []);
  const c = connect(address);
  c.send({ typeUrl: ADDR });
  const first = await c.nth(ADDR, 0);
  assert.deepStrictEqual(names(first), ['a', 'b']);
  assert.deepStrictEqual(decodeAddress(first.resources.find((r) => r.name === 'a')!.resource!.value), { workload: { uid: 'a', serviceAccount: 'default' } });
  assert.ok(first.nonce);
  c.ack(first);

  ads.update(ADDR, [workload('a', 'changed'), workload('b')], []);
  const second = await c.nth(ADDR, 1);
  assert.deepStrictEqual(names(second), ['a']);
  assert.deepStrictEqual(second.removedResources, []);
  c.ack(second);

  ads.update(ADDR, [], ['b']);
  const third = await c.nth(ADDR, 2);
  assert.deepStrictEqual(third.resources, []);
  assert.deepStrictEqual(third.removedResources, ['b']);
  c.ack(third);

  await eventually(() => ads.connectedClients()[0]?.types[ADDR]?.inFlightNonce === undefined);
  assert.equal(ads.connectedClients()[0]?.types[ADDR]?.known, 1);
  const metrics = await registry.metrics();
  assert.match(metrics, /pilot_xds 1/);
  assert.match(metrics, /pilot_xds_pushes\{type="wds"\} 3/);
  assert.match(metrics, /pilot_proxy_convergence_time_count 2/);
});

test('unchanged resources produce no push', async () => {
  const { ads, address } = await setup();
  ads.update(ADDR, [workload('a')], []);
  const c = connect(address);
  c.send({ typeUrl: ADDR });
  c.send({ typeUrl: AUTHZ });
  c.ack(await c.nth(ADDR, 0));
  c.ack(await c.nth(AUTHZ, 0));
  assert.deepStrictEqual(ads.update(ADDR, [workload('a')], []), []);
  ads.update(AUTHZ, [authz('sentinel')], []); // a later push on another type proves the first produced nothing
  await c.nth(AUTHZ, 1);
  assert.equal(c.of(ADDR).length, 1);
});

test('NACK: logged and counted, no resend loop, acknowledged state kept', async () => {
  const { ads, address, registry } = await setup();
  ads.update(ADDR, [workload('a')], []);
  const c = connect(address);
  c.send({ typeUrl: ADDR });
  c.send({ typeUrl: AUTHZ });
  c.ack(await c.nth(ADDR, 0));
  c.ack(await c.nth(AUTHZ, 0));

  ads.update(ADDR, [workload('a', 'bad')], []);
  const bad = await c.nth(ADDR, 1);
  c.send({ typeUrl: ADDR, responseNonce: bad.nonce, errorDetail: { code: 3, message: 'cannot parse' } });
  await eventually(async () => /pilot_total_xds_rejects\{type="wds"\} 1/.test(await registry.metrics()));

  ads.update(AUTHZ, [authz('sentinel')], []);
  c.ack(await c.nth(AUTHZ, 1));
  ads.update(AUTHZ, [authz('sentinel2')], []);
  await c.nth(AUTHZ, 2);
  assert.equal(c.of(ADDR).length, 2, 'the rejected resource is not resent');
  const st = ads.connectedClients()[0]!.types[ADDR]!;
  assert.equal(st.rejected, 1);
  assert.equal(st.inFlightNonce, undefined);

  ads.update(ADDR, [workload('a', 'fixed')], []);
  const fixed = await c.nth(ADDR, 2);
  assert.deepStrictEqual(decodeAddress(fixed.resources[0]!.resource!.value), { workload: { uid: 'a', serviceAccount: 'fixed' } });
});

test('reconnect with initial_resource_versions gets only changed resources and removals', async () => {
  const { ads, address } = await setup();
  ads.update(ADDR, [workload('a'), workload('b'), workload('c')], []);
  const c1 = connect(address);
  c1.send({ typeUrl: ADDR });
  const first = await c1.nth(ADDR, 0);
  c1.ack(first);
  const versions = Object.fromEntries(first.resources.map((r) => [r.name, r.version]));
  c1.end();
  await eventually(() => ads.connectedClients().length === 0);

  ads.update(ADDR, [workload('b', 'changed'), workload('d')], ['c']);
  const c2 = connect(address);
  c2.send({ typeUrl: ADDR, initialResourceVersions: versions });
  const resumed = await c2.nth(ADDR, 0);
  assert.deepStrictEqual(names(resumed), ['b', 'd']);
  assert.deepStrictEqual(resumed.removedResources, ['c']);
});

test('a burst of updates within the debounce window coalesces into one response', async () => {
  const { ads, address } = await setup({ debounceMs: 200 });
  const c = connect(address);
  c.send({ typeUrl: ADDR });
  c.send({ typeUrl: AUTHZ });
  c.ack(await c.nth(ADDR, 0));
  c.ack(await c.nth(AUTHZ, 0));
  for (let i = 0; i < 5; i++) ads.update(ADDR, [workload(`w${i}`), workload('x', `v${i}`)], []);
  const burst = await c.nth(ADDR, 1);
  assert.deepStrictEqual(names(burst), ['w0', 'w1', 'w2', 'w3', 'w4', 'x']);
  assert.deepStrictEqual(decodeAddress(burst.resources.find((r) => r.name === 'x')!.resource!.value), { workload: { uid: 'x', serviceAccount: 'v4' } });
  c.ack(burst);
  ads.update(AUTHZ, [authz('sentinel')], []);
  await c.nth(AUTHZ, 1);
  assert.equal(c.of(ADDR).length, 2);
});

test('two type URLs on one stream are independent', async () => {
  const { ads, address } = await setup();
  ads.update(ADDR, [workload('a')], []);
  ads.update(AUTHZ, [authz('p1'), authz('p2')], []);
  const c = connect(address);
  c.send({ typeUrl: ADDR });
  c.send({ typeUrl: AUTHZ });
  const a0 = await c.nth(ADDR, 0);
  const z0 = await c.nth(AUTHZ, 0);
  assert.deepStrictEqual(names(a0), ['a']);
  assert.deepStrictEqual(names(z0), ['ns/p1', 'ns/p2']);
  assert.equal(z0.resources[0]!.resource!.typeUrl, AUTHZ);
  c.ack(a0);
  c.ack(z0);
  ads.update(AUTHZ, [], ['ns/p1']);
  const z1 = await c.nth(AUTHZ, 1);
  assert.deepStrictEqual(z1.removedResources, ['ns/p1']);
  assert.equal(c.of(ADDR).length, 1);
});

test('a client that never ACKs gets no second response for that type until it does', async () => {
  const { ads, address } = await setup();
  ads.update(ADDR, [workload('a')], []);
  const c = connect(address);
  c.send({ typeUrl: ADDR });
  c.send({ typeUrl: AUTHZ });
  const a0 = await c.nth(ADDR, 0); // never ACKed (yet)
  c.ack(await c.nth(AUTHZ, 0));
  ads.update(ADDR, [workload('b')], []);
  ads.update(AUTHZ, [authz('sentinel')], []);
  c.ack(await c.nth(AUTHZ, 1));
  ads.update(AUTHZ, [authz('sentinel2')], []);
  await c.nth(AUTHZ, 2);
  assert.equal(c.of(ADDR).length, 1);
  c.ack(a0);
  const a1 = await c.nth(ADDR, 1);
  assert.deepStrictEqual(names(a1), ['b']);
});

test('authenticate hook: identity used by the filter; refusal ends the stream UNAUTHENTICATED', async () => {
  const { ads, address } = await setup({
    authenticate: async (call) => {
      const node = call.metadata.get('x-node')[0];
      if (!node) throw new Error('missing x-node');
      return { id: String(node) };
    },
    filter: (client, _t, name) => name.startsWith(client.id),
  });
  ads.update(ADDR, [workload('n1-a'), workload('n2-a')], []);
  const md = new grpc.Metadata();
  md.set('x-node', 'n1');
  const ok = connect(address, md);
  ok.send({ typeUrl: ADDR });
  assert.deepStrictEqual(names(await ok.nth(ADDR, 0)), ['n1-a']);
  assert.equal(ads.connectedClients()[0]?.id, 'n1');
  assert.equal(ads.connectedClients()[0]?.nodeId, 'test-node');

  const refused = connect(address);
  refused.send({ typeUrl: ADDR });
  const err = await eventually(() => refused.error);
  assert.equal(err.code, grpc.status.UNAUTHENTICATED);
  assert.match(err.details, /missing x-node/);
  assert.equal(refused.got.length, 0);
});
