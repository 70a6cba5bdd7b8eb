// Table tests of the pure protocol pieces: node id and Struct metadata, requests, response decoding, backoff.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ADDRESS_TYPE_URL as ADDR, AUTHORIZATION_TYPE_URL as AUTHZ, decodeDeltaRequest, encodeAddress, encodeAuthorization, encodeDeltaRequest, ipBytes,
  type DeltaDiscoveryResponse,
} from '../proto/index.ts';
import { ackRequest, backoffDelay, decodeResponse, initialRequest, nackRequest, ztunnelNodeId } from './protocol.ts';
import { XdsInvalidResponseError } from './errors.ts';

test('ztunnelNodeId: Istio ztunnel format', () => {
  assert.equal(ztunnelNodeId({ ip: '10.100.0.11', podName: 'ztunnel-abc', namespace: 'istio-system' }), 'ztunnel~10.100.0.11~ztunnel-abc.istio-system~istio-system.svc.cluster.local');
  assert.equal(ztunnelNodeId({ ip: 'fd00::1', podName: 'z', namespace: 'kube-system', domain: 'corp.local' }), 'ztunnel~fd00::1~z.kube-system~kube-system.svc.corp.local');
});

test('requests survive the wire: initial (wildcard, versions, node + metadata Struct), ACK, NACK', () => {
  const node = { id: 'ztunnel~1.2.3.4~z.istio-system~istio-system.svc.cluster.local', metadata: { NODE_NAME: 'node-1', CLUSTER_ID: 'Kubernetes' } };
  const init = decodeDeltaRequest(encodeDeltaRequest(initialRequest(ADDR, node, { a: 'v1' })));
  assert.equal(init.typeUrl, ADDR);
  assert.deepEqual(init.resourceNamesSubscribe, ['*']);
  assert.deepEqual(init.initialResourceVersions, { a: 'v1' });
  assert.equal(init.node?.id, node.id);
  assert.deepEqual(init.node?.metadata, { fields: { NODE_NAME: { stringValue: 'node-1' }, CLUSTER_ID: { stringValue: 'Kubernetes' } } });
  const ack = decodeDeltaRequest(encodeDeltaRequest(ackRequest(AUTHZ, 'n1')));
  assert.equal(ack.responseNonce, 'n1');
  assert.equal(ack.errorDetail, undefined);
  const nack = decodeDeltaRequest(encodeDeltaRequest(nackRequest(AUTHZ, 'n2', 'bad')));
  assert.deepEqual([nack.responseNonce, nack.errorDetail?.code, nack.errorDetail?.message], ['n2', 3, 'bad']);
});

const res = (name: string, typeUrl: string, value: Uint8Array) => ({ name, version: `v-${name}`, resource: { typeUrl, value } });
const resp = (typeUrl: string, resources: DeltaDiscoveryResponse['resources'], removedResources: string[] = []): DeltaDiscoveryResponse =>
  ({ typeUrl, nonce: 'n', resources, removedResources, systemVersionInfo: '' });

test('decodeResponse: good responses become store deltas; anything undecodable is one error', () => {
  const w = encodeAddress({ workload: { uid: 'u1', addresses: [ipBytes('10.0.0.1')] } });
  const p = encodeAuthorization({ name: 'p', namespace: 'shop', action: 'DENY' });
  const a = decodeResponse(resp(ADDR, [res('u1', ADDR, w)], ['gone']));
  assert.equal(a.typeUrl, ADDR);
  assert.deepEqual(a.removed, ['gone']);
  assert.deepEqual(a.upserts.map((u) => [u.name, u.version]), [['u1', 'v-u1']]);
  const z = decodeResponse(resp(AUTHZ, [res('shop/p', AUTHZ, p)]));
  assert.equal(z.typeUrl === AUTHZ && z.upserts[0]!.authorization.action, 'DENY');

  const bad: Array<[string, DeltaDiscoveryResponse, RegExp]> = [
    ['unsubscribed type', resp('type.googleapis.com/envoy.config.cluster.v3.Cluster', []), /did not subscribe/],
    ['garbage bytes', resp(ADDR, [res('u1', ADDR, Buffer.from([0xff, 0xff, 0xff]))]), /cannot decode .* u1/],
    ['wrong inner type', resp(ADDR, [res('u1', AUTHZ, p)]), /is a .*Authorization in a .*Address response/],
    ['no body', resp(ADDR, [{ name: 'u1', version: '1' }]), /no body/],
    ['no name', resp(AUTHZ, [res('', AUTHZ, p)]), /no name/],
  ];
  for (const [name, r, want] of bad) {
    assert.throws(() => decodeResponse(r), (e: unknown) => e instanceof XdsInvalidResponseError && e.code === 'ZT_XDS_INVALID_RESPONSE' && want.test(e.message), name);
  }
});

test('backoffDelay: doubles, caps, and jitters within [ceiling/2, ceiling]', () => {
  const b = { initialMs: 100, maxMs: 1000 };
  const cases: Array<[number, number, number]> = [
    // attempt, random, want
    [0, 0, 50], [0, 1, 100], [1, 0, 100], [1, 1, 200], [2, 0.5, 300], [3, 1, 800], [4, 1, 1000], [4, 0, 500], [60, 1, 1000],
  ];
  for (const [attempt, r, want] of cases) assert.equal(backoffDelay(attempt, b, () => r), want, `attempt ${attempt}, random ${r}`);
});
