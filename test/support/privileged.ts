// Gate for tests that need root (network namespaces, nftables). Outside CI a missing privilege
// skips the test; under CI=true it fails, so nothing silently stops being tested.
import type { TestContext } from 'node:test';
import { spawnSync } from 'node:child_process';

export function privilegeProblem(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces and nftables)';
  if (spawnSync('nft', ['--version']).status !== 0) return 'needs nft (run npm run setup)';
  if (spawnSync('ip', ['-V']).status !== 0) return 'needs iproute2 (run npm run setup)';
  return undefined;
}

/** Call at the top of a privileged test. Returns false when the test must stop (skipped). */
export function requirePrivileges(t: TestContext): boolean {
  const problem = privilegeProblem();
  if (!problem) return true;
  if (process.env.CI === 'true') throw new Error(`privileged test cannot run in CI: ${problem}`);
  t.skip(problem);
  return false;
}
