// Table tests for merge patch, JSON patch and the simplified strategic merge patch.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.ts';

describe('merge patch (RFC 7386)', () => {
  const cases: [string, unknown, unknown, unknown][] = [
    ['adds a key', { a: 1 }, { b: 2 }, { a: 1, b: 2 }],
    ['null deletes', { a: 1, b: 2 }, { a: null }, { b: 2 }],
    ['nested merge', { m: { x: 1, y: 2 } }, { m: { y: 3 } }, { m: { x: 1, y: 3 } }],
    ['lists replace', { l: [1, 2] }, { l: [3] }, { l: [3] }],
    ['non-object patch replaces', { a: 1 }, 'x', 'x'],
  ];
  for (const [name, target, patch, want] of cases) it(name, () => assert.deepEqual(mergePatch(target, patch), want));
  it('does not mutate the target', () => {
    const t = { m: { x: 1 } };
    mergePatch(t, { m: { x: 2 } });
    assert.deepEqual(t, { m: { x: 1 } });
  });
});

describe('JSON patch (RFC 6902)', () => {
  const doc = { a: { b: 1 }, l: [1, 2, 3] };
  const cases: [string, unknown[], unknown][] = [
    ['add', [{ op: 'add', path: '/a/c', value: 2 }], { a: { b: 1, c: 2 }, l: [1, 2, 3] }],
    ['add to array end', [{ op: 'add', path: '/l/-', value: 4 }], { a: { b: 1 }, l: [1, 2, 3, 4] }],
    ['insert in array', [{ op: 'add', path: '/l/0', value: 0 }], { a: { b: 1 }, l: [0, 1, 2, 3] }],
    ['remove', [{ op: 'remove', path: '/l/1' }], { a: { b: 1 }, l: [1, 3] }],
    ['replace', [{ op: 'replace', path: '/a/b', value: 9 }], { a: { b: 9 }, l: [1, 2, 3] }],
    ['move', [{ op: 'move', from: '/a/b', path: '/x' }], { a: {}, l: [1, 2, 3], x: 1 }],
    ['copy', [{ op: 'copy', from: '/a', path: '/c' }], { a: { b: 1 }, c: { b: 1 }, l: [1, 2, 3] }],
    ['test passes', [{ op: 'test', path: '/a/b', value: 1 }], doc],
    ['escaped path', [{ op: 'add', path: '/a/x~1y', value: 1 }], { a: { b: 1, 'x/y': 1 }, l: [1, 2, 3] }],
  ];
  for (const [name, ops, want] of cases) it(name, () => assert.deepEqual(jsonPatch(doc, ops), want));
  for (const [name, ops] of [
    ['failed test', [{ op: 'test', path: '/a/b', value: 2 }]],
    ['missing path', [{ op: 'replace', path: '/nope/x', value: 1 }]],
    ['unknown op', [{ op: 'frob', path: '/a' }]],
  ] as [string, unknown[]][]) {
    it(`rejects ${name}`, () => assert.throws(() => jsonPatch(doc, ops)));
  }
  it('rejects a non-array', () => assert.throws(() => jsonPatch(doc, { op: 'add' })));
});

describe('strategic merge patch (simplified)', () => {
  const pod = {
    spec: {
      containers: [{ name: 'a', image: 'a:1', env: [{ name: 'X', value: '1' }, { name: 'Y', value: '2' }] }, { name: 'b', image: 'b:1' }],
      volumes: [{ name: 'v', emptyDir: {} }],
    },
  };
  it('merges containers by name and env by name', () => {
    const out = strategicMergePatch(pod, { spec: { containers: [{ name: 'a', env: [{ name: 'Y', value: '3' }] }] } });
    assert.deepEqual(out.spec.containers[0].env, [{ name: 'X', value: '1' }, { name: 'Y', value: '3' }]);
    assert.equal(out.spec.containers[0].image, 'a:1');
    assert.equal(out.spec.containers.length, 2);
  });
  it('appends new list items and honours $patch: delete', () => {
    const out = strategicMergePatch(pod, { spec: { containers: [{ name: 'c', image: 'c:1' }, { name: 'b', $patch: 'delete' }] } });
    assert.deepEqual(out.spec.containers.map((c: { name: string }) => c.name), ['a', 'c']);
  });
  it('ignores $setElementOrder and applies $deleteFromPrimitiveList', () => {
    const out = strategicMergePatch({ metadata: { finalizers: ['x', 'y'] } }, { metadata: { '$deleteFromPrimitiveList/finalizers': ['x'] }, '$setElementOrder/containers': [{ name: 'a' }] });
    assert.deepEqual(out, { metadata: { finalizers: ['y'] } });
  });
  it('merges service ports by port and container ports by containerPort', () => {
    const svc = strategicMergePatch({ spec: { ports: [{ port: 80, name: 'http' }] } }, { spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443 }] } });
    assert.deepEqual(svc.spec.ports, [{ port: 80, name: 'http', targetPort: 8080 }, { port: 443 }]);
    const c = strategicMergePatch(pod, { spec: { containers: [{ name: 'b', ports: [{ containerPort: 80 }] }] } });
    assert.deepEqual(c.spec.containers[1].ports, [{ containerPort: 80 }]);
  });
  it('$patch: replace on a map replaces it', () => {
    assert.deepEqual(strategicMergePatch({ m: { a: 1, b: 2 } }, { m: { $patch: 'replace', c: 3 } }), { m: { c: 3 } });
  });
  it('null deletes like merge patch', () => {
    assert.deepEqual(strategicMergePatch({ a: 1, b: 2 }, { a: null }), { b: 2 });
  });
});
