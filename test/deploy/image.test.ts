// The Dockerfile cannot be built here (no container engine on these machines), so what can go wrong in it is
// checked statically: the final stage copies every file the three components import (the import closure of the
// entry point, followed through relative and dynamic imports), every package they import is a production
// dependency (the build stage prunes dev dependencies), test files stay out, and the Node major matches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string>; engines: { node: string } };
const finalStage = dockerfile.split(/^FROM /m).at(-1)!;
const copied = [...finalStage.matchAll(/^COPY (?!--from)(\S+) /gm)].map((m) => m[1]!.replace(/\/$/, ''));
const entry = /^ENTRYPOINT \["node", "\/app\/([^"]+)"\]/m.exec(finalStage)?.[1];

/** Relative and package imports of one file: static `from '…'`, side-effect `import '…'`, and `import('…')` of literals. */
function importsOf(file: string, runtimeOnly = false): string[] {
  let src = readFileSync(file, 'utf8').replace(/^\s*\/\/.*$/gm, '');
  // Type-only imports and re-exports are erased by type stripping: they load nothing.
  if (runtimeOnly) src = src.replace(/^(?:import|export) type\b[^;]*?from\s+'[^']+';?/gms, '');
  const specs = [...src.matchAll(/(?:^|[\s}])from\s+'([^']+)'|\bimport\s*\(\s*'([^']+)'\s*\)|^import\s+'([^']+)'/gm)].map((m) => (m[1] ?? m[2] ?? m[3])!);
  // bin/ambient-mesh.ts loads the components through a table of paths.
  const table = [...src.matchAll(/:\s*'(\.\.?\/[^']+\.ts)'/g)].map((m) => m[1]!);
  return [...specs, ...table];
}

function closure(start: string, runtimeOnly = false): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = [start];
  while (queue.length) {
    const f = queue.pop()!;
    if (files.has(f)) continue;
    files.add(f);
    for (const spec of importsOf(f, runtimeOnly)) {
      if (spec.startsWith('.')) {
        const target = resolve(dirname(f), spec);
        assert.ok(existsSync(target), `${relative(ROOT, f)} imports ${spec}, which does not exist`);
        if (target.endsWith('.ts')) queue.push(target);
      } else if (!spec.startsWith('node:') && !builtinModules.includes(spec)) {
        packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
      }
    }
  }
  return { files, packages };
}

test('the image copies everything the components import, and nothing they import is a dev dependency', () => {
  assert.equal(entry, 'bin/ambient-mesh.ts');
  assert.ok(copied.includes('bin/ambient-mesh.ts'));
  for (const src of copied) assert.ok(existsSync(join(ROOT, src)), `COPY ${src}: exists in the repository`);
  const { files, packages } = closure(join(ROOT, entry!));
  for (const component of ['controller/main.ts', 'ztunnel/main.ts', 'waypoint/main.ts']) assert.ok(files.has(join(ROOT, component)), `${component} is reached`);
  assert.ok(files.size > 100, `${files.size} files in the closure`);
  for (const f of files) {
    const rel = relative(ROOT, f);
    assert.ok(copied.some((c) => rel === c || rel.startsWith(`${c}/`)), `${rel} is imported at run time but the image does not copy it`);
    assert.ok(!rel.endsWith('.test.ts'), `${rel}: a test file in the run-time closure`);
  }
  for (const p of packages) {
    assert.ok(p in pkg.dependencies, `${p} is imported at run time but is ${p in pkg.devDependencies ? 'a dev dependency (pruned from the image)' : 'not a dependency'}`);
  }
});

test('the image: Node 24 in both stages, the native addon built and copied, the capture tools installed', () => {
  assert.match(dockerfile, /^ARG NODE_VERSION=24$/m);
  assert.equal([...dockerfile.matchAll(/^FROM node:\$\{NODE_VERSION\}-/gm)].length, 2);
  assert.match(pkg.engines.node, />=24/);
  assert.match(finalStage, /COPY --from=build \/app\/native\/build\/Release\/netsock\.node/);
  for (const tool of ['nftables', 'iproute2', 'util-linux']) assert.match(finalStage, new RegExp(`apt-get install[^\\n]*\\b${tool}\\b`));
  const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8');
  assert.match(ignore, /^\*\*\/\*\.test\.ts$/m);
});

test('the image warms the compile cache for every component after copying the sources, and points Node at it', () => {
  const env = /^ENV NODE_COMPILE_CACHE=(\S+)$/m.exec(finalStage)?.[1];
  assert.ok(env, 'ENV NODE_COMPILE_CACHE in the final stage');
  const warm = /^RUN for c in ([^;]+); do MESH_WARM_COMPILE_CACHE=1 node \/app\/bin\/ambient-mesh\.ts "\$c"/m.exec(finalStage);
  assert.ok(warm, 'a RUN step warming the cache through the entry point');
  assert.deepEqual(warm[1]!.trim().split(/\s+/).sort(), ['controller', 'waypoint', 'ztunnel']);
  const lastCopy = Math.max(...[...finalStage.matchAll(/^COPY /gm)].map((m) => m.index!));
  assert.ok(warm.index! > lastCopy, 'the cache is warmed after every source is copied (a later COPY would change what it covers)');
  assert.match(finalStage, new RegExp(`chmod -R a\\+rX ${env!.replace(/\//g, '\\/')}`), 'readable by the non-root waypoint and controller');
});

test('no component loads @kubernetes/client-node at run time (its generated API costs ~85 MB RSS; shared/kube is the client)', () => {
  for (const component of ['controller/main.ts', 'ztunnel/main.ts', 'waypoint/main.ts']) {
    const { files, packages } = closure(join(ROOT, component), true);
    assert.ok(files.size > 20, `${component}: ${files.size} files`);
    assert.ok(files.has(join(ROOT, 'shared/log.ts')), `${component} reaches shared/log.ts`);
    assert.ok(!packages.has('@kubernetes/client-node'), `${component} imports @kubernetes/client-node at run time (use \`import type\` or shared/kube)`);
  }
  // The check sees through type-only imports but not through real ones.
  assert.ok(closure(join(ROOT, 'localcluster/daemon.ts'), true).packages.has('@kubernetes/client-node'));
});

test('the image sets the environment the binaries would otherwise re-exec themselves for (shared/runtime.ts)', async () => {
  const { RUNTIME_ENV } = await import('../../shared/runtime.ts');
  const env = Object.fromEntries([...finalStage.matchAll(/^ENV (\w+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
  assert.ok(env.NODE_COMPILE_CACHE, 'NODE_COMPILE_CACHE');
  for (const [k, v] of Object.entries(RUNTIME_ENV)) assert.equal(env[k], v, `ENV ${k}=${v} in the final stage`);
});
