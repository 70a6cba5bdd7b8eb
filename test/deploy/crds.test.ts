// The CustomResourceDefinitions of deploy/crds: generated files are current, every custom kind the local API server
// serves (and the mesh reads) has one with the same names and versions, the schemas are structural, and an API
// server with them installed accepts the manifests of Istio's own tasks unchanged (nothing pruned) while refusing
// wrong types, unknown enum values and missing required fields with the field's path.
import { after, before, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { generatedCrdFiles } from '../../scripts/gen-crds.ts';
import { kustomize } from '../../localcluster/kustomize.ts';
import { BUILTIN_GROUPS, KINDS } from '../../localcluster/apiserver/kinds.ts';
import { call, startTestServer, tempStateDir } from '../../localcluster/apiserver/testing.ts';
import type { ApiServer } from '../../localcluster/apiserver/index.ts';

const ROOT = resolve(import.meta.dirname, '../..');
type Obj = Record<string, any>;
const crds = kustomize(join(ROOT, 'deploy/crds')) as Obj[];

test('deploy/crds: the generated CRDs match scripts/crds/*.ts (run node scripts/gen-crds.ts after editing those)', () => {
  for (const [rel, content] of generatedCrdFiles()) {
    assert.equal(readFileSync(join(ROOT, 'deploy/crds', rel), 'utf8'), content, `deploy/crds/${rel} is stale`);
  }
});

test('deploy/crds: one CRD per custom kind the mesh reads, with the names, scope and versions the local API server serves', () => {
  // networking.istio.io Gateway and Sidecar are served locally (Istio clients list them) but the mesh implements neither.
  const notImplemented = new Set(['networking.istio.io/Gateway', 'networking.istio.io/Sidecar']);
  const custom = KINDS.filter((k) => !BUILTIN_GROUPS.has(k.group) && !notImplemented.has(`${k.group}/${k.kind}`));
  assert.equal(crds.length, custom.length, crds.map((c) => c.metadata.name).join(' '));
  for (const k of custom) {
    const c = crds.find((x) => x.metadata.name === `${k.plural}.${k.group}`);
    assert.ok(c, `no CRD for ${k.group}/${k.kind}`);
    assert.equal(c.spec.names.kind, k.kind);
    assert.equal(c.spec.scope, k.namespaced ? 'Namespaced' : 'Cluster', k.kind);
    assert.deepEqual(c.spec.versions.map((v: Obj) => v.name).sort(), [...k.versions].sort(), k.kind);
    assert.deepEqual(c.spec.names.shortNames ?? [], k.shortNames ?? [], k.kind);
    assert.equal(c.spec.versions.filter((v: Obj) => v.storage).length, 1, `${k.kind}: exactly one storage version`);
    assert.ok(c.spec.versions.every((v: Obj) => v.served), k.kind);
  }
});

/** Kubernetes' structural-schema rule: every node says its type (or is int-or-string / preserves unknown fields). */
function unstructured(s: Obj, path: string): string[] {
  const out: string[] = [];
  if (!s.type && !s['x-kubernetes-int-or-string'] && !s['x-kubernetes-preserve-unknown-fields']) out.push(path);
  for (const [k, v] of Object.entries(s.properties ?? {})) out.push(...unstructured(v as Obj, `${path}.${k}`));
  if (s.items) out.push(...unstructured(s.items, `${path}[]`));
  if (s.additionalProperties && typeof s.additionalProperties === 'object') out.push(...unstructured(s.additionalProperties, `${path}{}`));
  return out;
}

test('deploy/crds: every schema is structural and has a status subresource where the kind has status', () => {
  for (const c of crds) {
    for (const v of c.spec.versions) {
      const s = v.schema?.openAPIV3Schema;
      assert.ok(s, `${c.metadata.name} ${v.name}: no schema`);
      const metaless = { ...s, properties: { ...s.properties, metadata: { type: 'object' } } };
      assert.deepEqual(unstructured(metaless, c.spec.names.kind), [], `${c.metadata.name} ${v.name}`);
      assert.equal(!!v.subresources?.status, 'status' in s.properties, `${c.metadata.name} ${v.name}: status subresource`);
    }
  }
});

/** The YAML manifests pasted verbatim from Istio's documented tasks into the route compiler's tests. */
function istioTaskManifests(): Obj[] {
  const src = readFileSync(join(ROOT, 'controller/waypoint/routes/istio-tasks.test.ts'), 'utf8');
  const docs = [...src.matchAll(/`(\s*apiVersion:[^`]*)`/g)].filter((m) => !m[1]!.includes('${')).flatMap((m) => parseAllDocuments(m[1]!).map((d) => d.toJS() as Obj | null));
  return docs.filter((d): d is Obj => d !== null && typeof d.kind === 'string');
}

describe('an API server with deploy/crds installed', () => {
  const state = tempStateDir();
  let server: ApiServer;
  const req = (method: string, path: string, body?: unknown, contentType?: string) =>
    call(server, state.dir, method, path, { ...(body !== undefined ? { body } : {}), ...(contentType ? { contentType } : {}) });
  const pathOf = (o: Obj, ns = 'default'): string => {
    const kind = KINDS.find((k) => k.kind === o.kind && o.apiVersion.startsWith(`${k.group}/`))!;
    return `/apis/${o.apiVersion}${kind.namespaced ? `/namespaces/${ns}` : ''}/${kind.plural}`;
  };
  const create = (o: Obj, query = '') => req('POST', pathOf(o) + query, o);

  before(async () => {
    server = await startTestServer(state.dir);
    for (const c of crds) assert.equal((await req('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', c)).status, 201, c.metadata.name);
  });
  after(async () => { await server.close(); state.cleanup(); });

  it('accepts the manifests of Istio\'s traffic-management tasks unchanged', async () => {
    const manifests = istioTaskManifests();
    assert.ok(manifests.length >= 20, `found ${manifests.length}`);
    const kinds = new Set(manifests.map((m) => m.kind));
    for (const k of ['VirtualService', 'DestinationRule', 'HTTPRoute']) assert.ok(kinds.has(k), k);
    let n = 0;
    for (const m of manifests) {
      const o = structuredClone(m);
      o.metadata = { ...o.metadata, name: `${o.metadata.name}-${n++}` };
      const r = await create(o);
      assert.equal(r.status, 201, `${m.kind}/${m.metadata.name}: ${r.text}`);
      assert.deepEqual(r.body.spec, m.spec, `${m.kind}/${m.metadata.name}: the stored spec differs (pruned?)`);
    }
  });

  it('accepts the policies and waypoint objects the README and tests use, keeping every field', async () => {
    const objects: Obj[] = [
      { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'ap' }, spec: {
        selector: { matchLabels: { app: 'db' } }, action: 'DENY',
        rules: [{ from: [{ source: { principals: ['cluster.local/ns/a/sa/b'], notNamespaces: ['x'], ipBlocks: ['10.0.0.0/8'] } }],
          to: [{ operation: { ports: ['5432'], methods: ['GET'], paths: ['/admin*'] } }], when: [{ key: 'request.headers[x]', values: ['y'] }] }] } },
      { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'wp' }, spec: {
        targetRefs: [{ kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'waypoint' }], action: 'ALLOW', rules: [{}] } },
      { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'pa' }, spec: {
        selector: { matchLabels: { app: 'db' } }, mtls: { mode: 'STRICT' }, portLevelMtls: { 8080: { mode: 'PERMISSIVE' } } } },
      { apiVersion: 'security.istio.io/v1', kind: 'RequestAuthentication', metadata: { name: 'ra' }, spec: {
        targetRefs: [{ kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'waypoint' }],
        jwtRules: [{ issuer: 'https://issuer.example', jwks: '{"keys":[]}', fromHeaders: [{ name: 'x-jwt', prefix: 'Bearer ' }] }] } },
      { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 'se' }, spec: {
        hosts: ['db.example'], addresses: ['240.240.0.1'], ports: [{ number: 5432, name: 'tcp', protocol: 'TCP', targetPort: 5433 }],
        location: 'MESH_INTERNAL', resolution: 'STATIC', workloadSelector: { matchLabels: { app: 'vm' } },
        endpoints: [{ address: '10.1.2.3', ports: { tcp: 5433 }, labels: { a: 'b' } }] } },
      { apiVersion: 'networking.istio.io/v1', kind: 'WorkloadEntry', metadata: { name: 'we' }, spec: {
        address: '10.1.2.3', labels: { app: 'vm' }, serviceAccount: 'vm', ports: { http: 8080 } } },
      // Istio's schema has no bound on weights; the controller refuses this one in status (test/waypoint/l7.test.ts).
      { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'neg' }, spec: {
        hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v2' }, weight: -5 }] }] } },
      { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'waypoint' }, spec: {
        gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] } },
      { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GRPCRoute', metadata: { name: 'g' }, spec: {
        parentRefs: [{ group: '', kind: 'Service', name: 'greeter', port: 50051 }],
        rules: [{ matches: [{ method: { service: 'helloworld.Greeter', method: 'SayHello' } }], backendRefs: [{ name: 'greeter-v2', port: 50051 }] }] } },
      { apiVersion: 'gateway.networking.k8s.io/v1alpha2', kind: 'TCPRoute', metadata: { name: 't' }, spec: {
        parentRefs: [{ group: '', kind: 'Service', name: 'db' }], rules: [{ backendRefs: [{ name: 'db-v2', port: 5432 }] }] } },
      { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'h' }, spec: {
        parentRefs: [{ group: '', kind: 'Service', name: 'reviews', port: 9080 }],
        rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [{ name: 'end-user', value: 'jason' }] }],
          filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x', value: 'y' }] } }],
          backendRefs: [{ name: 'reviews-v2', port: 9080, weight: 90 }], timeouts: { request: '500ms' },
          retry: { attempts: 3, codes: [503], backoff: '10ms' } }] } },
      { apiVersion: 'gateway.networking.k8s.io/v1beta1', kind: 'ReferenceGrant', metadata: { name: 'rg' }, spec: {
        from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'other' }], to: [{ group: '', kind: 'Service' }] } },
    ];
    for (const o of objects) {
      const r = await create(o);
      assert.equal(r.status, 201, `${o.kind}/${o.metadata.name}: ${r.text}`);
      assert.deepEqual(r.body.spec, o.spec, `${o.kind}/${o.metadata.name}`);
    }
  });

  it('refuses wrong types, unknown enum values and missing fields with 422 and the field path', async () => {
    const table: Array<[Obj, string, RegExp]> = [
      [{ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', spec: { hosts: 'reviews' } }, 'spec.hosts', /must be of type array/],
      [{ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', spec: { hosts: ['r'], http: [{ route: [{ destination: { host: 'r' }, weight: 'ten' }] }] } },
        'spec.http[0].route[0].weight', /must be of type integer/],
      [{ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', spec: { hosts: ['r'], http: [{ route: [{ weight: 10 }] }] } },
        'spec.http[0].route[0].destination', /Required value/],
      [{ apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', spec: { subsets: [] } }, 'spec.host', /Required value/],
      [{ apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', spec: { host: 'r', trafficPolicy: { loadBalancer: { simple: 'FASTEST' } } } },
        'spec.trafficPolicy.loadBalancer.simple', /Unsupported value: "FASTEST"/],
      [{ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', spec: { action: 'MAYBE' } }, 'spec.action', /Unsupported value: "MAYBE": supported values: "ALLOW", "DENY", "AUDIT", "CUSTOM"/],
      [{ apiVersion: 'security.istio.io/v1beta1', kind: 'AuthorizationPolicy', spec: { selector: { matchLabels: { app: 1 } } } }, 'spec.selector.matchLabels.app', /must be of type string/],
      [{ apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', spec: { mtls: { mode: 'strict' } } }, 'spec.mtls.mode', /Unsupported value: "strict"/],
      [{ apiVersion: 'security.istio.io/v1', kind: 'RequestAuthentication', spec: { jwtRules: [{ jwksUri: 'https://x' }] } }, 'spec.jwtRules[0].issuer', /Required value/],
      [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', spec: { gatewayClassName: 'istio-waypoint' } }, 'spec.listeners', /Required value/],
      [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', spec: { rules: [{ matches: [{ path: { type: 'Glob', value: '/' } }] }] } },
        'spec.rules[0].matches[0].path.type', /Unsupported value: "Glob"/],
      [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', spec: { rules: [{ backendRefs: [{ name: 'b', port: 70000 }] }] } },
        'spec.rules[0].backendRefs[0].port', /less than or equal to 65535/],
      [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', spec: { rules: [{ timeouts: { request: '1 second' } }] } },
        'spec.rules[0].timeouts.request', /should match/],
      [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', spec: {} }, 'spec.controllerName', /Required value/],
    ];
    let n = 0;
    for (const [o, field, message] of table) {
      const r = await create({ ...o, metadata: { name: `bad-${n++}` } });
      assert.equal(r.status, 422, `${o.kind} ${JSON.stringify(o.spec)}: ${r.text}`);
      assert.equal(r.body.reason, 'Invalid');
      const cause = r.body.details.causes.find((c: Obj) => c.field === field);
      assert.ok(cause, `${field} not in ${JSON.stringify(r.body.details.causes)}`);
      assert.match(cause.message, message);
      assert.match(r.body.message, new RegExp(`^${o.kind}\\.[a-z0-9.]+ "bad-\\d+" is invalid: `));
    }
  });

  it('prunes undeclared fields, or refuses them with fieldValidation=Strict; status is validated too', async () => {
    const vs = { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'typo' }, spec: { hosts: ['r'], htpp: [{}] } };
    const strict = await create(vs, '?fieldValidation=Strict');
    assert.equal(strict.status, 400);
    assert.match(strict.body.message, /unknown field "spec\.htpp"/);
    const pruned = await create(vs);
    assert.equal(pruned.status, 201);
    assert.deepEqual(pruned.body.spec, { hosts: ['r'] });

    const route = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'st' }, spec: { parentRefs: [{ name: 'waypoint' }] } };
    assert.equal((await create(route)).status, 201);
    const statusPath = `${pathOf(route)}/st/status`;
    const bad = await req('PATCH', statusPath, { status: { parents: [{ parentRef: { name: 'waypoint' }, controllerName: 'istio.io/mesh-controller', conditions: [{ type: 'Accepted', status: 'Yes' }] }] } }, 'application/merge-patch+json');
    assert.equal(bad.status, 422, bad.text);
    assert.match(bad.text, /status\.parents\[0\]\.conditions\[0\]\.status/);
    const good = await req('PATCH', statusPath, { status: { parents: [{ parentRef: { name: 'waypoint' }, controllerName: 'istio.io/mesh-controller',
      conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: '', lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 1 }] }] } }, 'application/merge-patch+json');
    assert.equal(good.status, 200, good.text);
    assert.equal(good.body.status.parents[0].conditions[0].status, 'True');
  });
});
