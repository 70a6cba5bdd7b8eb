import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseManifests, readManifests, ManifestError } from './manifests.ts';

const ns = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n';
const svc = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: demo\nspec:\n  ports: [{port: 80}]\n';

test('multi-document YAML, empty documents skipped', () => {
  const objs = parseManifests(`---\n${ns}---\n${svc}---\n`, 'x.yaml');
  assert.deepEqual(objs.map((o) => `${o.kind}/${o.metadata.name}`), ['Namespace/demo', 'Service/web']);
});

test('JSON and kind: List are flattened', () => {
  const list = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } }] });
  assert.deepEqual(parseManifests(list, 'l.json').map((o) => o.kind), ['ConfigMap']);
});

const bad: Array<[string, string, RegExp]> = [
  ['malformed yaml', 'kind: [unclosed', /cannot parse x \(document 1\)/],
  ['scalar document', 'just a string', /document 1\) is not an object/],
  ['no kind', 'apiVersion: v1\nmetadata: {name: a}', /kind is missing/],
  ['no apiVersion', 'kind: Pod\nmetadata: {name: a}', /apiVersion is missing/],
  ['no name', 'apiVersion: v1\nkind: Pod\nmetadata: {}', /metadata.name is missing/],
];
for (const [name, text, re] of bad) {
  test(`rejects ${name} with a message naming the document`, () => {
    assert.throws(() => parseManifests(text, 'x'), (e: unknown) => e instanceof ManifestError && re.test(e.message));
  });
}

test('a directory is read in name order; stdin with -', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'manifests-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'b.yaml'), svc);
  writeFileSync(join(dir, 'a.yaml'), ns);
  writeFileSync(join(dir, 'notes.txt'), 'ignored');
  assert.deepEqual(readManifests(dir).map((o) => o.kind), ['Namespace', 'Service']);
  assert.deepEqual(readManifests('-', () => ns).map((o) => o.kind), ['Namespace']);
  assert.throws(() => readManifests(join(dir, 'nope.yaml')), /does not exist/);
});
