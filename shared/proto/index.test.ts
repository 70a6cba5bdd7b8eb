// Round-trip and wire-format tests for shared/proto: encode → decode is identity, and field
// numbers on the wire are Istio's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  encodeAddress, decodeAddress, encodeAuthorization, decodeAuthorization, encodeMessage, decodeMessage,
  encodeDeltaRequest, decodeDeltaRequest, encodeDeltaResponse, decodeDeltaResponse, ipBytes, ipString, InvalidIpError, ADDRESS_TYPE_URL,
  type Address, type Authorization,
} from './index.ts';

const addresses: Array<[string, Address]> = [
  ['minimal workload', { workload: { uid: 'Kubernetes//Pod/default/a' } }],
  ['full pod workload', {
    workload: {
      uid: 'Kubernetes//Pod/ns1/web-1', name: 'web-1', namespace: 'ns1', addresses: [ipBytes('10.244.1.5'), ipBytes('fd00::5')],
      network: 'net1', tunnelProtocol: 'HBONE', trustDomain: 'cluster.local', serviceAccount: 'web',
      waypoint: { address: { network: 'net1', address: ipBytes('10.96.0.20') }, hboneMtlsPort: 15008 },
      networkGateway: { hostname: { namespace: 'istio-system', hostname: 'eastwest.example.com' }, hboneMtlsPort: 15008 },
      node: 'node-a', canonicalName: 'web', canonicalRevision: 'v1', workloadType: 'POD', workloadName: 'web',
      nativeTunnel: true, applicationTunnel: { protocol: 'PROXY', port: 15088 },
      services: { 'ns1/web.ns1.svc.cluster.local': { ports: [{ servicePort: 80, targetPort: 8080 }] } },
      authorizationPolicies: ['ns1/allow-web'], status: 'UNHEALTHY', clusterId: 'Kubernetes',
      locality: { region: 'r', zone: 'z', subzone: 's' }, networkMode: 'HOST_NETWORK', capacity: { value: 3 },
    },
  }],
  ['service', {
    service: {
      name: 'web', namespace: 'ns1', hostname: 'web.ns1.svc.cluster.local',
      addresses: [{ network: 'net1', address: ipBytes('10.96.0.10') }], ports: [{ servicePort: 80, targetPort: 8080 }, { servicePort: 443 }],
      subjectAltNames: ['spiffe://cluster.local/ns/ns1/sa/web'],
      waypoint: { hostname: { namespace: 'ns1', hostname: 'waypoint.ns1.svc.cluster.local' }, hboneMtlsPort: 15008 },
      loadBalancing: { routingPreference: ['NETWORK', 'ZONE'], mode: 'FAILOVER', healthPolicy: 'ALLOW_ALL' }, ipFamilies: 'DUAL', canonical: true,
    },
  }],
];

for (const [name, addr] of addresses) {
  test(`Address round-trip: ${name}`, () => {
    assert.deepStrictEqual(decodeAddress(encodeAddress(addr)), addr);
  });
}

const authorizations: Array<[string, Authorization]> = [
  ['empty allow', { name: 'allow-nothing', namespace: 'ns1' }],
  ['deny with every match kind', {
    name: 'deny-some', namespace: 'ns1', scope: 'WORKLOAD_SELECTOR', action: 'DENY',
    rules: [{
      clauses: [
        { matches: [{ namespaces: [{ exact: 'ns2' }], notNamespaces: [{ prefix: 'kube-' }], principals: [{ suffix: '/sa/web' }], notPrincipals: [{ presence: {} }] }] },
        { matches: [{ sourceIps: [{ address: ipBytes('10.0.0.0'), length: 8 }], notSourceIps: [{ address: ipBytes('fd00::'), length: 64 }],
          destinationIps: [{ address: ipBytes('10.96.0.1'), length: 32 }], notDestinationIps: [{ address: ipBytes('1.2.3.4'), length: 32 }],
          destinationPorts: [80, 443], notDestinationPorts: [15008] }] },
      ],
    }],
  }],
  ['namespace scope', { name: 'ns-wide', namespace: 'ns3', scope: 'NAMESPACE', action: 'ALLOW', rules: [{ clauses: [] }, { clauses: [{ matches: [{}] }] }] }],
];

for (const [name, authz] of authorizations) {
  test(`Authorization round-trip: ${name}`, () => {
    const decoded = decodeAuthorization(encodeAuthorization(authz));
    // empty repeated fields are indistinguishable from absent on the wire
    const norm = (a: Authorization): unknown => JSON.parse(JSON.stringify(a, (_k, v) => (Array.isArray(v) && v.length === 0 ? undefined : v)));
    assert.deepStrictEqual(norm(decoded), norm(authz));
    assert.deepStrictEqual(encodeAuthorization(decoded), encodeAuthorization(authz));
  });
}

test('Workload field numbers are Istio\'s (uid=20, trust_domain=6, service_account=7, addresses=3)', () => {
  const cases: Array<[object, number[]]> = [
    [{ uid: 'u' }, [0xa2, 0x01, 0x01, 0x75]], // field 20, wire type 2 → varint 162
    [{ trustDomain: 'td' }, [0x32, 0x02, 0x74, 0x64]],
    [{ serviceAccount: 'sa' }, [0x3a, 0x02, 0x73, 0x61]],
    [{ addresses: [ipBytes('10.0.0.1')] }, [0x1a, 0x04, 10, 0, 0, 1]],
    [{ tunnelProtocol: 'HBONE' }, [0x28, 0x01]],
  ];
  for (const [obj, bytes] of cases) assert.deepStrictEqual([...encodeMessage('istio.workload.Workload', obj)], bytes, JSON.stringify(obj));
  // Address.workload is field 1, Address.service is field 2
  assert.deepStrictEqual([...encodeAddress({ workload: { uid: 'u' } })], [0x0a, 0x04, 0xa2, 0x01, 0x01, 0x75]);
  const svc = encodeAddress({ service: { name: 'n', namespace: 'ns', hostname: 'h' } });
  assert.equal(svc[0], 0x12);
  assert.deepStrictEqual([...svc.subarray(2, 5)], [0x0a, 0x01, 0x6e]); // Service.name = 1
  // hand-encoded bytes decode to the named fields
  assert.deepStrictEqual(decodeMessage('istio.workload.Workload', Buffer.from([0x3a, 0x02, 0x73, 0x61, 0x32, 0x02, 0x74, 0x64])), { serviceAccount: 'sa', trustDomain: 'td' });
});

test('Address encoding is canonical for services map order', () => {
  const ports = { ports: [{ servicePort: 80 }] };
  const a = encodeAddress({ workload: { uid: 'x', services: { 'a/a': ports, 'b/b': ports } } });
  const b = encodeAddress({ workload: { uid: 'x', services: { 'b/b': ports, 'a/a': ports } } });
  assert.deepStrictEqual(a, b);
});

test('DeltaDiscoveryRequest field numbers and dense decode', () => {
  const buf = encodeDeltaRequest({ typeUrl: 't', responseNonce: 'n', initialResourceVersions: { a: '1' } });
  // type_url=2, initial_resource_versions=5 (map entry), response_nonce=6
  assert.deepStrictEqual([...buf.subarray(0, 3)], [0x12, 0x01, 0x74]);
  const req = decodeDeltaRequest(buf);
  assert.deepStrictEqual(req.resourceNamesSubscribe, []);
  assert.deepStrictEqual(req.initialResourceVersions, { a: '1' });
  assert.equal(req.responseNonce, 'n');
  const nack = decodeDeltaRequest(encodeDeltaRequest({ typeUrl: 't', errorDetail: { code: 3, message: 'bad' } }));
  assert.equal(nack.errorDetail?.code, 3);
  assert.equal(nack.errorDetail?.message, 'bad');
});

test('ipBytes / ipString', () => {
  const table: Array<[string, number[], string]> = [
    ['10.244.1.5', [10, 244, 1, 5], '10.244.1.5'],
    ['::1', [...Array(15).fill(0), 1], '::1'],
    ['fd00:0:0::a', [0xfd, 0, ...Array(13).fill(0), 0x0a], 'fd00::a'],
    ['::ffff:10.0.0.1', [...Array(10).fill(0), 0xff, 0xff, 10, 0, 0, 1], '::ffff:a00:1'],
    ['2001:db8:1:2:3:4:5:6', [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6], '2001:db8:1:2:3:4:5:6'],
  ];
  for (const [ip, bytes, back] of table) {
    assert.deepStrictEqual([...ipBytes(ip)], bytes, ip);
    assert.equal(ipString(ipBytes(ip)), back);
  }
  assert.throws(() => ipBytes('10.0.0.1:80'), InvalidIpError);
  assert.throws(() => ipString(new Uint8Array(5)), InvalidIpError);
});

test('DeltaDiscoveryResponse carries google.protobuf.Any with its type_url on the wire', () => {
  const value = encodeAddress({ workload: { uid: 'u' } });
  const buf = encodeDeltaResponse({ typeUrl: ADDRESS_TYPE_URL, nonce: 'n', resources: [{ name: 'u', version: 'v', resource: { typeUrl: ADDRESS_TYPE_URL, value } }], removedResources: ['gone'] });
  // Any.type_url = field 1 inside Resource.resource = field 2
  const anyStart = buf.indexOf(Buffer.concat([Buffer.from([0x0a, ADDRESS_TYPE_URL.length]), Buffer.from(ADDRESS_TYPE_URL)]));
  assert.ok(anyStart > 0);
  const back = decodeDeltaResponse(buf);
  assert.equal(back.resources[0]?.resource?.typeUrl, ADDRESS_TYPE_URL);
  assert.deepStrictEqual(back.resources[0]?.resource?.value, value);
  assert.deepStrictEqual(back.removedResources, ['gone']);
  assert.equal(back.typeUrl, ADDRESS_TYPE_URL);
});
