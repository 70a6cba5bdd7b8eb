// Default Prober. Without a netns the probe runs in-process; with one, HTTP/TCP probes run in a
// short-lived helper process entered into that netns (`ip netns exec`), exec probes run the
// command there. The daemon may swap in a native-socket prober (shared/netsock) instead.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { httpGet, tcpConnect } from './probe-direct.ts';
import { runnerArgv, signalGroup } from './runner.ts';
import { KubeletError, probeTimeout } from './errors.ts';
import type { Prober } from './types.ts';

const helper = fileURLToPath(new URL('./probe-helper.ts', import.meta.url));
const helperStartupMs = 3000;

interface RunResult { code: number; stdout: string }

function run(argv: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), { detached: true, stdio: ['ignore', 'pipe', 'ignore'], env: { PATH: process.env.PATH ?? '' } });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    const timer = setTimeout(() => { signalGroup(child.pid ?? 0, 'SIGKILL'); reject(probeTimeout('exec', timeoutMs)); }, timeoutMs);
    child.once('error', (err) => { clearTimeout(timer); reject(new KubeletError('KUBELET_PROBE_SPAWN', `cannot run probe ${argv[0]}: ${err.message}`, { cause: err })); });
    child.once('close', (code) => { clearTimeout(timer); resolve({ code: code ?? 1, stdout }); });
  });
}

export const defaultProber: Prober = {
  async http(spec) {
    if (spec.netns === undefined) return httpGet(spec);
    const { netns: _n, ...rest } = spec;
    const r = await run(runnerArgv(spec.netns, [process.execPath, helper, 'http', JSON.stringify(rest)]), spec.timeoutMs + helperStartupMs);
    if (r.code !== 0) throw new KubeletError('KUBELET_PROBE_FAILED', `http probe to ${spec.host}:${spec.port} failed`);
    return Number(r.stdout.trim());
  },
  async tcp(spec) {
    if (spec.netns === undefined) return tcpConnect(spec);
    const { netns: _n, ...rest } = spec;
    const r = await run(runnerArgv(spec.netns, [process.execPath, helper, 'tcp', JSON.stringify(rest)]), spec.timeoutMs + helperStartupMs);
    if (r.code !== 0) throw new KubeletError('KUBELET_PROBE_FAILED', `tcp probe to ${spec.host}:${spec.port} failed`);
  },
  async exec(spec) {
    return (await run(runnerArgv(spec.netns, spec.argv), spec.timeoutMs)).code;
  },
};
