// The built-in renderer against kubectl's kustomize: deploy/, the local overlay, and an overlay using every
// supported feature must render to the same objects in the same order. kubectl is required in CI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { kustomize, strategicMerge, KustomizeError, LOCAL_OVERLAY } from './kustomize.ts';

const DEPLOY = resolve(import.meta.dirname, '../deploy');
const EXAMPLE = resolve(DEPLOY, 'overlays/example');
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;

function kubectlKustomize(dir: string): unknown[] {
  const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  return parseAllDocuments(r.stdout).map((d) => d.toJS()).filter(Boolean);
}

function needKubectl(t: { skip: (m: string) => void }): boolean {
  if (hasKubectl) return true;
  if (process.env.CI === 'true') assert.fail('kubectl is required for the kustomize differential test under CI=true');
  t.skip('kubectl not installed');
  return false;
}

function overlayFixture(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kustomize-'));
  mkdirSync(join(dir, 'component'));
  writeFileSync(join(dir, 'component', 'kustomization.yaml'), [
    'apiVersion: kustomize.config.k8s.io/v1alpha1', 'kind: Component',
    'patches:', '  - target: { kind: ConfigMap, name: ambient-mesh }',
    '    patch: |-', '      - op: replace', '        path: /data/LOG_LEVEL', '        value: debug',
  ].join('\n'));
  writeFileSync(join(dir, 'resources.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: istio-system\ndata: { a: "1" }\n');
  writeFileSync(join(dir, 'kustomization.yaml'), [
    'apiVersion: kustomize.config.k8s.io/v1beta1', 'kind: Kustomization',
    `resources: [${relative(dir, DEPLOY)}, resources.yaml]`,
    'components: [component]',
    'images:', '  - name: ghcr.io/ambient-mesh/ambient-mesh', '    newName: registry.example/mesh', '    newTag: "9.9"',
    'replicas:', '  - { name: istiod, count: 3 }',
    'patches:',
    '  - target: { kind: ConfigMap, name: ambient-mesh }',
    '    patch: \'[{"op":"replace","path":"/data/TRUST_DOMAIN","value":"example.org"}]\'',
    '  - patch: |-', '      apiVersion: apps/v1', '      kind: DaemonSet', '      metadata: { name: ztunnel, namespace: istio-system }',
    '      spec:', '        template:', '          spec:', '            containers:', '              - name: ztunnel',
    '                env: [{ name: DRAIN_SECONDS, value: "20" }, { name: EXTRA, value: "x" }]',
    '                resources: { limits: { memory: 2Gi } }',
  ].join('\n'));
  return dir;
}

test('deploy/, its overlays and a feature overlay render exactly as `kubectl kustomize` does', (t) => {
  if (!needKubectl(t)) return;
  const fixture = overlayFixture();
  t.after(() => rmSync(fixture, { recursive: true, force: true }));
  for (const dir of [DEPLOY, LOCAL_OVERLAY, EXAMPLE, fixture]) {
    const ours = kustomize(dir);
    assert.ok(ours.length > 5, dir);
    assert.deepEqual(ours, kubectlKustomize(dir), dir);
  }
  const rendered = kustomize(fixture);
  const ds = rendered.find((o) => o.kind === 'DaemonSet') as unknown as { spec: { template: { spec: { containers: { image: string; env: { name: string; value?: string }[] }[] } } } };
  assert.equal(ds.spec.template.spec.containers[0]!.image, 'registry.example/mesh:9.9');
  assert.equal(ds.spec.template.spec.containers[0]!.env.find((e) => e.name === 'DRAIN_SECONDS')?.value, '20');
});

test('the example overlay (README: settings) changes exactly the documented settings', () => {
  type Any = Record<string, any>;
  const base = kustomize(DEPLOY) as Any[];
  const ex = kustomize(EXAMPLE) as Any[];
  assert.equal(ex.length, base.length);
  const find = (objs: Any[], kind: string, name: string): Any => objs.find((o) => o.kind === kind && o.metadata.name === name)!;
  assert.deepEqual(find(ex, 'ConfigMap', 'ambient-mesh').data, { TRUST_DOMAIN: 'example.org', CLUSTER_ID: 'prod-eu-1', LOG_LEVEL: 'debug' });
  const ctrl = find(ex, 'Deployment', 'istiod');
  assert.equal(ctrl.spec.replicas, 3);
  assert.equal(ctrl.spec.template.spec.containers[0].image, 'registry.example.com/mesh/ambient-mesh:0.1.0');
  assert.deepEqual(ctrl.spec.template.spec.containers[0].resources.requests, { cpu: '500m', memory: '512Mi' });
  const zt = find(ex, 'DaemonSet', 'ztunnel').spec.template.spec.containers[0];
  assert.equal(zt.image, 'registry.example.com/mesh/ambient-mesh:0.1.0');
  assert.deepEqual(zt.resources, { requests: { cpu: '500m', memory: '256Mi' }, limits: { memory: '2Gi' } });
  // Everything else is the base unchanged.
  const strip = (o: Any): Any => {
    const c = structuredClone(o);
    if (c.kind === 'ConfigMap' && c.metadata.name === 'ambient-mesh') delete c.data;
    if (c.kind === 'Deployment' || c.kind === 'DaemonSet') {
      delete c.spec.replicas;
      for (const k of c.spec.template.spec.containers) { delete k.image; delete k.resources; }
    }
    return c;
  };
  assert.deepEqual(ex.map(strip), base.map(strip));
});

test('the local overlay runs one controller replica; deploy/ runs two', () => {
  const replicas = (dir: string): unknown => (kustomize(dir).find((o) => o.kind === 'Deployment' && o.metadata.name === 'istiod')?.spec as { replicas?: number }).replicas;
  assert.equal(replicas(DEPLOY), 2);
  assert.equal(replicas(LOCAL_OVERLAY), 1);
});

test('unsupported kustomization fields are refused with a code, not ignored', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kustomize-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'kustomization.yaml'), 'namePrefix: x-\nresources: []\n');
  assert.throws(() => kustomize(dir), (e: unknown) => e instanceof KustomizeError && e.code === 'KUSTOMIZE_UNSUPPORTED' && /namePrefix/.test(e.message));
});

test('strategicMerge: maps merge, named lists merge by key, null deletes, $patch: delete removes', () => {
  const rows: [unknown, unknown, unknown][] = [
    [{ a: 1, b: { c: 2 } }, { b: { d: 3 } }, { a: 1, b: { c: 2, d: 3 } }],
    [{ a: 1, b: 2 }, { b: null }, { a: 1 }],
    [{ containers: [{ name: 'x', image: 'a' }, { name: 'y' }] }, { containers: [{ name: 'y', image: 'b' }] }, { containers: [{ name: 'y', image: 'b' }, { name: 'x', image: 'a' }] }],
    [{ containers: [{ name: 'x' }, { name: 'y' }] }, { containers: [{ name: 'y', $patch: 'delete' }] }, { containers: [{ name: 'x' }] }],
    [{ args: ['a', 'b'] }, { args: ['c'] }, { args: ['c'] }],
    [{ env: [{ name: 'A', value: '1' }] }, { env: [{ name: 'B', value: '2' }] }, { env: [{ name: 'B', value: '2' }, { name: 'A', value: '1' }] }],
  ];
  for (const [base, patch, want] of rows) assert.deepEqual(strategicMerge(base, patch), want, JSON.stringify(patch));
});
