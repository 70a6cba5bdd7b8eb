// What a waypoint Gateway renders to, and which listeners a waypoint accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Container } from '@kubernetes/client-node';
import { checkWaypointListeners, portName, renderHash, renderWaypoint, RENDER_HASH, type WaypointGateway, type WaypointRenderOptions } from './render.ts';

const opts: WaypointRenderOptions = {
  image: 'ambient-mesh/ambient-mesh:dev', xdsAddress: 'istiod.istio-system.svc:15012', caAddress: 'istiod.istio-system.svc:15012',
  trustDomain: 'cluster.local', clusterId: 'Kubernetes', controlPlaneNamespace: 'istio-system',
};

const gateway = (over: Partial<WaypointGateway['spec']> = {}, meta: Record<string, unknown> = {}): WaypointGateway => ({
  apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway',
  metadata: { name: 'waypoint', namespace: 'demo', uid: 'uid-1', generation: 1, ...meta },
  spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }], ...over },
});

const container = (gw = gateway(), o = opts): V1Container => renderWaypoint(gw, o).deployment.spec!.template.spec!.containers[0]!;

test('every object is named after the Gateway, carries Istio\'s managed labels and is owned by the Gateway', () => {
  const r = renderWaypoint(gateway(), opts);
  for (const obj of [r.serviceAccount, r.deployment, r.service]) {
    assert.equal(obj.metadata?.name, 'waypoint');
    assert.equal(obj.metadata?.namespace, 'demo');
    assert.deepEqual(
      { ...obj.metadata?.labels },
      {
        'gateway.networking.k8s.io/gateway-name': 'waypoint', 'istio.io/gateway-name': 'waypoint',
        'gateway.networking.k8s.io/gateway-class-name': 'istio-waypoint', 'gateway.istio.io/managed': 'istio.io-mesh-controller',
      },
    );
    assert.deepEqual(obj.metadata?.ownerReferences, [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', name: 'waypoint', uid: 'uid-1', controller: true }]);
    assert.match(obj.metadata?.annotations?.[RENDER_HASH] ?? '', /^[0-9a-f]{16}$/);
  }
});

test('the Deployment: one replica, selected by gateway name, pod template out of ztunnel capture', () => {
  const d = renderWaypoint(gateway(), opts).deployment;
  assert.equal(d.spec?.replicas, 1);
  assert.deepEqual(d.spec?.selector, { matchLabels: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' } });
  const t = d.spec!.template;
  assert.equal(t.metadata?.labels?.['istio.io/dataplane-mode'], 'none');
  assert.equal(t.metadata?.labels?.['gateway.networking.k8s.io/gateway-name'], 'waypoint');
  assert.equal(t.metadata?.labels?.['sidecar.istio.io/inject'], 'false');
  assert.equal(t.metadata?.annotations?.['istio.io/rev'], 'default');
  assert.equal(t.spec?.serviceAccountName, 'waypoint');
});

test('the container: image, ports, readiness on 15021, token and root-cert mounts like ztunnel', () => {
  const c = container();
  assert.equal(c.image, 'ambient-mesh/ambient-mesh:dev');
  assert.deepEqual(c.args, ['waypoint'], 'the one image runs the component named by its first argument');
  assert.deepEqual(c.ports?.map((p) => [p.name, p.containerPort]), [['hbone', 15008], ['status-port', 15021], ['metrics', 15020]]);
  assert.deepEqual(c.readinessProbe?.httpGet, { path: '/healthz/ready', port: 15021, scheme: 'HTTP' });
  assert.deepEqual(c.volumeMounts?.map((m) => [m.name, m.mountPath]), [['istio-token', '/var/run/secrets/tokens'], ['istiod-ca-cert', '/var/run/secrets/istio']]);
  const vols = renderWaypoint(gateway(), opts).deployment.spec!.template.spec!.volumes!;
  assert.deepEqual(vols[0]?.projected?.sources?.[0]?.serviceAccountToken, { audience: 'istio-ca', expirationSeconds: 43200, path: 'istio-token' });
  assert.deepEqual(vols[1]?.configMap, { name: 'istio-ca-root-cert' });
  assert.ok(c.resources?.requests?.cpu);
});

const envCases: Array<[string, string]> = [
  ['POD_NAME', 'field:metadata.name'],
  ['POD_NAMESPACE', 'field:metadata.namespace'],
  ['INSTANCE_IP', 'field:status.podIP'],
  ['SERVICE_ACCOUNT', 'field:spec.serviceAccountName'],
  ['GATEWAY_NAME', 'waypoint'],
  ['XDS_ADDRESS', 'istiod.istio-system.svc:15012'],
  ['CA_ADDRESS', 'istiod.istio-system.svc:15012'],
  ['CONTROL_PLANE_NAME', 'istiod.istio-system.svc'],
  ['TRUST_DOMAIN', 'cluster.local'],
  ['CLUSTER_ID', 'Kubernetes'],
  ['TOKEN_FILE', '/var/run/secrets/tokens/istio-token'],
  ['ROOT_CA_FILE', '/var/run/secrets/istio/root-cert.pem'],
];
for (const [name, want] of envCases) {
  test(`env ${name}`, () => {
    const e = container().env?.find((x) => x.name === name);
    assert.ok(e, `${name} missing`);
    assert.equal(e.value ?? `field:${e.valueFrom?.fieldRef?.fieldPath}`, want);
  });
}

test('the Service: ClusterIP, status-port 15021/tcp and mesh 15008/hbone, selecting the waypoint pods', () => {
  const s = renderWaypoint(gateway(), opts).service;
  assert.equal(s.spec?.type, 'ClusterIP');
  assert.deepEqual(s.spec?.selector, { 'gateway.networking.k8s.io/gateway-name': 'waypoint' });
  assert.deepEqual(s.spec?.ports, [
    { name: 'status-port', port: 15021, protocol: 'TCP', appProtocol: 'tcp' },
    { name: 'mesh', port: 15008, protocol: 'TCP', appProtocol: 'hbone' },
  ]);
  assert.equal(s.metadata?.annotations?.['networking.istio.io/traffic-distribution'], 'PreferClose');
});

test('infrastructure labels and annotations reach the pods and objects; the gateway-name label cannot be overridden', () => {
  const gw = gateway({
    infrastructure: {
      labels: { team: 'a', 'istio.io/dataplane-mode': 'ambient', 'gateway.networking.k8s.io/gateway-name': 'other' },
      annotations: { note: 'x', 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
    },
  });
  const r = renderWaypoint(gw, opts);
  const t = r.deployment.spec!.template.metadata!;
  assert.equal(t.labels?.team, 'a');
  assert.equal(t.labels?.['istio.io/dataplane-mode'], 'ambient');
  assert.equal(t.labels?.['gateway.networking.k8s.io/gateway-name'], 'waypoint');
  assert.equal(t.annotations?.note, 'x');
  assert.equal(t.annotations?.['kubectl.kubernetes.io/last-applied-configuration'], undefined);
  assert.equal(r.service.metadata?.labels?.team, 'a');
  assert.equal(r.deployment.metadata?.annotations?.note, 'x');
});

test('a revision goes to the pods\' istio.io/rev', () => {
  assert.equal(renderWaypoint(gateway(), { ...opts, revision: 'canary' }).deployment.spec!.template.metadata!.annotations!['istio.io/rev'], 'canary');
});

test('the rendered hash is stable across renders and map order, and follows what changes', () => {
  const a = renderWaypoint(gateway({ infrastructure: { labels: { a: '1', b: '2' } } }), opts).deployment;
  const b = renderWaypoint(gateway({ infrastructure: { labels: { b: '2', a: '1' } } }), opts).deployment;
  assert.equal(a.metadata?.annotations?.[RENDER_HASH], b.metadata?.annotations?.[RENDER_HASH]);
  assert.equal(renderHash(a), a.metadata?.annotations?.[RENDER_HASH]);
  const img = renderWaypoint(gateway(), { ...opts, image: 'ambient-mesh/ambient-mesh:v2' }).deployment;
  assert.notEqual(img.metadata?.annotations?.[RENDER_HASH], renderWaypoint(gateway(), opts).deployment.metadata?.annotations?.[RENDER_HASH]);
  const newOwner = renderWaypoint(gateway({}, { uid: 'uid-2' }), opts).service;
  assert.notEqual(newOwner.metadata?.annotations?.[RENDER_HASH], renderWaypoint(gateway(), opts).service.metadata?.annotations?.[RENDER_HASH]);
});

const listenerCases: Array<[string, WaypointGateway['spec'], RegExp | null]> = [
  ['istioctl\'s listener', { listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] }, null],
  ['allowedRoutes defaulted by the CRD', { listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE', allowedRoutes: { namespaces: { from: 'Same' } } }] }, null],
  ['no listeners', { listeners: [] }, /^spec\.listeners: empty/],
  ['HTTP protocol', { listeners: [{ name: 'mesh', port: 15008, protocol: 'HTTP' }] }, /^spec\.listeners\[0\]\.protocol: "HTTP" is not supported/],
  ['another port', { listeners: [{ name: 'mesh', port: 80, protocol: 'HBONE' }] }, /^spec\.listeners\[0\]\.port: a waypoint listens on 15008 \(got 80\)/],
  ['TLS settings', { listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE', tls: { mode: 'Terminate' } }] }, /^spec\.listeners\[0\]\.tls:/],
  ['two listeners', { listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }, { name: 'http', port: 80, protocol: 'HTTP' }] }, /^spec\.listeners\[1\]: a waypoint takes a single listener/],
];
for (const [name, spec, want] of listenerCases) {
  test(`listeners: ${name}`, () => {
    const v = checkWaypointListeners(gateway(spec));
    if (want === null) assert.equal(v.ok, true);
    else {
      assert.equal(v.ok, false);
      if (!v.ok) assert.match(v.message, want);
    }
  });
}

const portNames: Array<[string | undefined, string]> = [['mesh', 'mesh'], ['Mesh.HBONE', 'mesh-hbone'], [undefined, 'mesh'], ['...', 'mesh'], ['x'.repeat(80), 'x'.repeat(63)]];
for (const [given, want] of portNames) test(`port name from listener ${String(given).slice(0, 12)}`, () => assert.equal(portName(given), want));
