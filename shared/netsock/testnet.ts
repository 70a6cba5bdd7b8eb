// Test support for netsock's privileged tests: two fresh network namespaces `t<hex>-a` and `t<hex>-b`
// joined by a veth pair, created with iproute2 and deleted (with their links, routes and nftables
// tables) by the test's t.after. Every address below exists only inside these two namespaces.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';

export interface NetnsPair {
  /** Unique per pair; no other test run uses names starting with it. */
  prefix: string;
  a: string;
  b: string;
  a4: string;
  b4: string;
  a6: string;
  b6: string;
}

/** Runs a command (bounded to 10 s); throws with its stderr when it fails. */
export function run(argv: string[], input?: string): string {
  const [cmd, ...args] = argv;
  const r = spawnSync(cmd!, args, { input, encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return r.stdout;
}

/** Runs a command inside a namespace. */
export function inNetns(ns: string, argv: string[], input?: string): string {
  return run(['ip', 'netns', 'exec', ns, ...argv], input);
}

export function createNetnsPair(t: TestContext): NetnsPair {
  const id = randomBytes(3).toString('hex');
  const prefix = `t${id}-`;
  const pair: NetnsPair = {
    prefix,
    a: `${prefix}a`,
    b: `${prefix}b`,
    a4: '10.77.0.1',
    b4: '10.77.0.2',
    a6: 'fd77::1',
    b6: 'fd77::2',
  };
  const created: string[] = [];
  t.after(() => {
    for (const ns of created) spawnSync('ip', ['netns', 'del', ns], { timeout: 10_000 });
  });
  for (const ns of [pair.a, pair.b]) {
    run(['ip', 'netns', 'add', ns]);
    created.push(ns);
    run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }
  // Created from inside namespace a, with its peer placed straight into b: never in the root namespace.
  const va = `v${id}a`;
  const vb = `v${id}b`;
  run(['ip', '-n', pair.a, 'link', 'add', va, 'type', 'veth', 'peer', 'name', vb, 'netns', pair.b]);
  for (const [ns, dev, v4, v6] of [
    [pair.a, va, pair.a4, pair.a6],
    [pair.b, vb, pair.b4, pair.b6],
  ] as const) {
    run(['ip', '-n', ns, 'addr', 'add', `${v4}/24`, 'dev', dev]);
    run(['ip', '-n', ns, 'addr', 'add', `${v6}/64`, 'dev', dev, 'nodad']);
    run(['ip', '-n', ns, 'link', 'set', dev, 'up']);
  }
  return pair;
}
