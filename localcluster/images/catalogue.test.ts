import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imageRepository, resolveImage, knownImages } from './catalogue.ts';

test('imageRepository strips registry, tag and digest', () => {
  const cases: Array<[string, string]> = [
    ['busybox', 'busybox'],
    ['busybox:1.36', 'busybox'],
    ['docker.io/library/busybox:latest', 'busybox'],
    ['docker.io/istio/tcp-echo-server:1.3', 'istio/tcp-echo-server'],
    ['localhost:5000/ambient-mesh/http-echo:dev', 'ambient-mesh/http-echo'],
    ['localhost/ambient-mesh/curl', 'ambient-mesh/curl'],
    ['ghcr.io/mccutchen/go-httpbin@sha256:abcd', 'mccutchen/go-httpbin'],
    ['Kennethreitz/HTTPBIN', 'kennethreitz/httpbin'],
  ];
  for (const [image, want] of cases) assert.equal(imageRepository(image), want, image);
});

test('resolveImage maps known images to their app and defaults', () => {
  const cases: Array<{ image: string; app?: string; argv?: string[]; env?: Record<string, string>; args?: string[] }> = [
    { image: 'ambient-mesh/http-echo:latest', app: 'http-echo.ts' },
    { image: 'docker.io/kennethreitz/httpbin', app: 'http-echo.ts', env: { PORT: '80' } },
    { image: 'mccutchen/go-httpbin:v2', app: 'http-echo.ts' },
    { image: 'docker.io/istio/examples-helloworld-v1:1.0', app: 'versioned.ts', env: { VERSION: 'v1', PORT: '5000' } },
    { image: 'istio/examples-helloworld-v2', app: 'versioned.ts', env: { VERSION: 'v2', PORT: '5000' } },
    { image: 'ambient-mesh/versioned', app: 'versioned.ts' },
    { image: 'istio/tcp-echo-server:1.3', app: 'tcp-echo.ts', args: ['9000', 'hello'] },
    { image: 'curlimages/curl', argv: ['sleep', 'infinity'] },
    { image: 'alpine:3.20', argv: ['sleep', 'infinity'] },
    { image: 'ambient-mesh/curl:dev', argv: ['sleep', 'infinity'] },
    { image: 'nginx' },
    { image: 'example.com/unknown/thing:1' },
  ];
  for (const c of cases) {
    const got = resolveImage(c.image);
    if (c.argv) { assert.deepEqual(got?.argv, c.argv, c.image); continue; }
    if (!c.app) { assert.equal(got, undefined, c.image); continue; }
    assert.ok(got, c.image);
    assert.equal(got.argv[0], process.execPath, c.image);
    assert.ok(got.argv[1]?.endsWith(`/apps/${c.app}`), `${c.image} → ${got.argv[1]}`);
    assert.deepEqual(got.defaultEnv, c.env, c.image);
    assert.deepEqual(got.defaultArgs, c.args, c.image);
  }
});

test('knownImages lists every entry, sorted', () => {
  const names = knownImages();
  assert.ok(names.includes('ambient-mesh/http-echo'));
  assert.deepEqual(names, [...names].sort());
  for (const n of names) assert.ok(resolveImage(n), n);
});

test('the mesh images run this checkout with the repo Node 24; the pod args are appended by planCommand', () => {
  const repo = new URL('../../', import.meta.url).pathname;
  for (const [image, script] of [['ambient-mesh/ambient-mesh:1.0', 'bin/ambient-mesh.ts'], ['ghcr.io/ambient-mesh/ambient-mesh:0.1.0', 'bin/ambient-mesh.ts']] as const) {
    const got = resolveImage(image);
    assert.deepEqual(got?.argv, [`${repo}node_modules/.bin/node`, `${repo}${script}`], image);
    assert.equal(got?.defaultArgs, undefined);
  }
});
