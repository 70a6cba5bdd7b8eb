// The install (deploy/) validated offline: every object of the rendered kustomization and of the local overlay
// against the Kubernetes schemas of its API version (schema.ts), the waypoint objects the controller renders too,
// and the properties the install promises (least-privilege RBAC, a proxy on every node during updates, two
// controller replicas with a disruption budget).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { kustomize, LOCAL_OVERLAY, type KObject } from '../../localcluster/kustomize.ts';
import { renderWaypoint } from '../../controller/waypoint/deploy/render.ts';
import { isBuiltIn, unknownFields, validateBuiltIn } from './schema.ts';
import { schemaOf, validateCustomResource } from '../../localcluster/apiserver/crd-schema.ts';

const DEPLOY = resolve(import.meta.dirname, '../../deploy');
const rendered = kustomize(DEPLOY);
const find = (kind: string, name: string): KObject => {
  const o = rendered.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(o, `${kind} ${name} is in deploy/`);
  return o;
};
type Rule = { apiGroups?: string[]; resources?: string[]; verbs?: string[] };
const rules = (kind: string, name: string): Rule[] => find(kind, name).rules as Rule[];

test('every object of deploy/ and of its overlays validates against its API version\'s schema (built-in) or its CRD\'s', () => {
  const overlays = [['deploy/', rendered], ['deploy/overlays/local', kustomize(LOCAL_OVERLAY)], ['deploy/overlays/example', kustomize(resolve(DEPLOY, 'overlays/example'))]] as const;
  for (const [where, objs] of overlays) {
    const builtIns = objs.filter(isBuiltIn);
    assert.ok(builtIns.length >= 14, `${where}: ${builtIns.length} built-in objects`);
    for (const o of builtIns) assert.deepEqual(validateBuiltIn(o), [], `${where}: ${o.kind} ${o.metadata.name}`);
    // Whatever is not built in must be a kind deploy/ defines a CRD for.
    const crdKinds = new Set(objs.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => `${(o.spec as { group: string }).group}/${(o.spec as { names: { kind: string } }).names.kind}`));
    for (const o of objs.filter((x) => !isBuiltIn(x))) {
      assert.ok(crdKinds.has(`${o.apiVersion.split('/')[0]}/${o.kind}`), `${where}: ${o.kind} ${o.metadata.name} has a CRD in deploy/crds`);
      const crd = objs.find((c) => c.kind === 'CustomResourceDefinition' && c.metadata.name.endsWith(`.${o.apiVersion.split('/')[0]}`) &&
        (c.spec as { names: { kind: string } }).names.kind === o.kind)!;
      const r = validateCustomResource(o as Record<string, unknown>, schemaOf(crd as Record<string, unknown>, o.apiVersion.split('/')[1]!)!);
      assert.deepEqual([r.causes, r.unknown], [[], []], `${where}: ${o.kind} ${o.metadata.name}`);
    }
  }
});

test('the validator catches what a strict API server refuses: unknown fields, wrong types, missing required fields', () => {
  const ds = find('DaemonSet', 'ztunnel');
  const rows: [string, (o: Record<string, any>) => void, RegExp][] = [
    ['typo in spec', (o) => (o.spec.updateStrategey = {}), /unknown field "spec\.updateStrategey"/],
    ['typo in a container', (o) => (o.spec.template.spec.containers[0].imagePullpolicy = 'Always'), /unknown field "spec\.template\.spec\.containers\[0\]\.imagePullpolicy"/],
    ['string where an integer goes', (o) => (o.spec.template.spec.terminationGracePeriodSeconds = '30'), /terminationGracePeriodSeconds must be integer/],
    ['missing selector', (o) => delete o.spec.selector, /required property '?selector/],
    ['bad capability list type', (o) => (o.spec.template.spec.containers[0].securityContext.capabilities.add = 'NET_ADMIN'), /add must be array/],
  ];
  for (const [name, mutate, want] of rows) {
    const bad = structuredClone(ds) as Record<string, any>;
    mutate(bad);
    const problems = validateBuiltIn(bad as KObject);
    assert.ok(problems.some((p) => want.test(p)), `${name}: ${problems.join('; ') || 'no problem found'}`);
  }
  // Free-form maps are not mistaken for unknown fields.
  assert.deepEqual(unknownFields({ metadata: { name: 'x', labels: { anything: 'goes' } }, data: { KEY: 'v' } }, 'V1ConfigMap'), []);
});

test('the waypoint objects the controller renders validate too', () => {
  const w = renderWaypoint(
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'waypoint', namespace: 'demo', uid: 'u1' }, spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] } },
    { image: 'ghcr.io/ambient-mesh/ambient-mesh:0.1.0', xdsAddress: 'istiod.istio-system.svc:15012', caAddress: 'istiod.istio-system.svc:15012', trustDomain: 'cluster.local', clusterId: 'Kubernetes', controlPlaneNamespace: 'istio-system' },
  );
  for (const o of [w.serviceAccount, w.deployment, w.service]) {
    assert.deepEqual(validateBuiltIn(o as KObject), [], `${o.kind}`);
  }
});

test('RBAC is least privilege: ztunnel reads pods, namespaces and its DaemonSet only; the controller writes only what it manages', () => {
  const zt = rules('ClusterRole', 'ztunnel');
  assert.deepEqual(zt.flatMap((r) => r.verbs), ['get', 'list', 'watch'], 'ztunnel has no write verb');
  assert.deepEqual(zt.flatMap((r) => r.resources).sort(), ['namespaces', 'pods']);
  const ztNs = find('Role', 'ztunnel');
  assert.equal(ztNs.metadata.namespace, 'istio-system');
  assert.deepEqual(ztNs.rules, [{ apiGroups: ['apps'], resources: ['daemonsets'], verbs: ['get'] }], 'reads its own DaemonSet (uninstall or upgrade?)');
  const all = [...rules('ClusterRole', 'ambient-mesh-controller'), ...rules('Role', 'ambient-mesh-controller')];
  for (const r of all) {
    assert.ok(!r.verbs?.includes('*') && !r.resources?.includes('*') && !r.apiGroups?.includes('*'), `no wildcards: ${JSON.stringify(r)}`);
    assert.ok(!r.verbs?.includes('escalate') && !r.verbs?.includes('bind') && !r.verbs?.includes('impersonate'), JSON.stringify(r));
  }
  const cluster = rules('ClusterRole', 'ambient-mesh-controller');
  assert.ok(!cluster.some((r) => r.resources?.includes('secrets')), 'secrets only in its own namespace (Role), never cluster-wide');
  assert.ok(!cluster.some((r) => r.resources?.some((x) => /roles|rolebindings/.test(x))), 'cannot change RBAC');
  const writes = new Set(cluster.filter((r) => r.verbs?.some((v) => ['create', 'update', 'patch', 'delete'].includes(v))).flatMap((r) => r.resources ?? []));
  assert.deepEqual([...writes].sort(), ['*/status', 'configmaps', 'deployments', 'gatewayclasses', 'serviceaccounts', 'services', 'tokenreviews']);
  const role = find('Role', 'ambient-mesh-controller');
  assert.equal(role.metadata.namespace, 'istio-system');
  assert.deepEqual((role.rules as Rule[]).flatMap((r) => r.resources).sort(), ['leases', 'secrets']);
});

test('ztunnel: every node keeps a proxy during updates, runs node-critical, finds pod namespaces through /proc, CA-audience token', () => {
  const ds = find('DaemonSet', 'ztunnel') as any;
  assert.deepEqual(ds.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  const pod = ds.spec.template.spec;
  assert.equal(pod.priorityClassName, 'system-node-critical');
  // Its own pod namespace: a surging new ztunnel must not collide with the old one's ports on the node.
  assert.equal(pod.hostNetwork ?? false, false);
  assert.equal(pod.hostPID, true);
  assert.deepEqual(pod.containers[0].securityContext.capabilities, { drop: ['ALL'], add: ['NET_ADMIN', 'SYS_ADMIN', 'NET_RAW'] });
  assert.equal(pod.containers[0].securityContext.privileged, false);
  const token = pod.volumes.find((v: any) => v.projected)?.projected.sources[0].serviceAccountToken;
  assert.equal(token.audience, 'istio-ca');
  assert.deepEqual(pod.containers[0].args, ['ztunnel']);
});

test('controller: two replicas with a disruption budget, probes, resources, a bound projected API token', () => {
  const d = find('Deployment', 'istiod') as any;
  assert.equal(d.spec.replicas, 2);
  assert.deepEqual(d.spec.strategy.rollingUpdate, { maxSurge: 1, maxUnavailable: 0 });
  const pdb = find('PodDisruptionBudget', 'istiod') as any;
  assert.deepEqual(pdb.spec.selector.matchLabels, d.spec.selector.matchLabels);
  assert.equal(pdb.spec.minAvailable, 1);
  const pod = d.spec.template.spec;
  const c = pod.containers[0];
  assert.deepEqual(c.args, ['controller']);
  assert.ok(c.readinessProbe.httpGet && c.livenessProbe, 'probes');
  assert.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.memory, 'resources');
  assert.equal(pod.automountServiceAccountToken, false, 'no legacy automount');
  const sources = pod.volumes.find((v: any) => v.name === 'kube-api-access').projected.sources;
  assert.ok(sources[0].serviceAccountToken.expirationSeconds <= 3607, 'a bound, expiring token');
  const svc = find('Service', 'istiod') as any;
  assert.deepEqual(svc.spec.selector, d.spec.selector.matchLabels);
  assert.ok(svc.spec.ports.some((p: any) => p.port === 15012));
  // Both components and the waypoints run the one image.
  const images = new Set(rendered.flatMap((o: any) => o.spec?.template?.spec?.containers?.map((x: any) => x.image) ?? []));
  assert.deepEqual([...images], ['ghcr.io/ambient-mesh/ambient-mesh:0.1.0']);
});
