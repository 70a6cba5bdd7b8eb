import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandVars, planCommand } from './command.ts';
import type { ImageCatalogue } from './types.ts';

const catalogue: ImageCatalogue = {
  resolve: (image) => image.startsWith('echo')
    ? { argv: ['/node', '/apps/echo.ts'], defaultArgs: ['9000', 'hi'], defaultEnv: { PORT: '1' } }
    : undefined,
  known: () => ['echo', 'other'],
};

test('planCommand follows Kubernetes ENTRYPOINT/CMD rules', () => {
  const cases: Array<{ name: string; c: { image: string; command?: string[]; args?: string[] }; argv?: string[]; env?: Record<string, string>; reason?: string }> = [
    { name: 'image defaults', c: { image: 'echo:1' }, argv: ['/node', '/apps/echo.ts', '9000', 'hi'], env: { PORT: '1' } },
    { name: 'args replace CMD', c: { image: 'echo', args: ['1'] }, argv: ['/node', '/apps/echo.ts', '1'], env: { PORT: '1' } },
    { name: 'empty args replace CMD', c: { image: 'echo', args: [] }, argv: ['/node', '/apps/echo.ts'], env: { PORT: '1' } },
    { name: 'command replaces ENTRYPOINT and CMD', c: { image: 'echo', command: ['/bin/sleep'], args: ['5'] }, argv: ['/bin/sleep', '5'], env: { PORT: '1' } },
    { name: 'command with unknown image', c: { image: 'nginx', command: ['/bin/true'] }, argv: ['/bin/true'], env: {} },
    { name: 'unknown image without command', c: { image: 'nginx' }, reason: 'ImageNotInCatalogue' },
  ];
  for (const tc of cases) {
    const got = planCommand(tc.c, catalogue);
    if (tc.reason) {
      assert.equal(got.ok, false, tc.name);
      if (!got.ok) {
        assert.equal(got.reason, tc.reason);
        assert.match(got.message, /known images: echo, other/);
        assert.match(got.message, /nginx/);
      }
      continue;
    }
    assert.ok(got.ok, tc.name);
    if (got.ok) {
      assert.deepEqual(got.argv, tc.argv, tc.name);
      assert.deepEqual(got.imageEnv, tc.env, tc.name);
    }
  }
});

test('expandVars expands $(VAR), keeps unknown references, unescapes $$', () => {
  const env = { A: 'x', B_C: 'y' };
  const cases: Array<[string, string]> = [
    ['$(A)', 'x'],
    ['pre-$(A)-$(B_C)', 'pre-x-y'],
    ['$(MISSING)', '$(MISSING)'],
    ['$$(A)', '$(A)'],
    ['$A', '$A'],
    ['plain', 'plain'],
  ];
  for (const [input, want] of cases) assert.equal(expandVars(input, env), want, input);
});
