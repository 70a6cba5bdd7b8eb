// Drive meshctl as a user would: a child process on the project's Node 24, with its own
// MESHCTL_HOME so every test cluster is separate. Used by the cross-component tests.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../localcluster/paths.ts';

export interface Result { code: number; stdout: string; stderr: string }

export class Meshctl {
  readonly home: string;
  constructor(home = mkdtempSync(join(tmpdir(), 'meshctl-test-'))) {
    this.home = home;
  }

  get env(): NodeJS.ProcessEnv {
    return { ...process.env, MESHCTL_HOME: this.home, KUBECONFIG: '' };
  }

  get kubeconfig(): string {
    return join(this.home, 'cluster/apiserver/kubeconfig');
  }

  get clusterId(): string {
    return (JSON.parse(readFileSync(join(this.home, 'cluster/config.json'), 'utf8')) as { clusterId: string }).clusterId;
  }

  /** Run meshctl to completion (bounded by timeoutMs). */
  async run(args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<Result> {
    const child = spawn(join(repoRoot, 'bin/meshctl'), args, { env: this.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end(opts.input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    const code = await new Promise<number>((resolve) => child.once('exit', (c, s) => resolve(c ?? (s ? 137 : 1))));
    clearTimeout(timer);
    return { code, stdout, stderr };
  }

  async ok(args: string[], opts?: { timeoutMs?: number; input?: string }): Promise<string> {
    const r = await this.run(args, opts);
    if (r.code !== 0) throw new Error(`meshctl ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r.stdout;
  }

  kubectl(args: string[], input?: string): Result {
    const r = spawnSync('kubectl', args, { env: { ...process.env, KUBECONFIG: this.kubeconfig }, input, encoding: 'utf8', timeout: 60_000 });
    return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
  }
}

/** Names of the network namespaces that exist now and belong to the given cluster id. */
export function netnsOf(clusterId: string): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return r.stdout.split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(`${clusterId}-`));
}
