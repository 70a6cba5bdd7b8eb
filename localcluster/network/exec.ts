// Runs the system tools the network is built with (ip, nft), feeding scripts on stdin.
// The only place that spawns them, so failures all become NetworkError with the tool's stderr.
import { spawn } from 'node:child_process';
import { netErr } from './errors.ts';

export interface RunResult { stdout: string; stderr: string }

/** Run `cmd args`, optionally writing `input` to stdin; rejects with NET_COMMAND_FAILED on a non-zero exit. */
export function run(cmd: string, args: readonly string[], input?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', (err) => reject(netErr.command(`${cmd} ${args.join(' ')}`, err.message, err)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve({ stdout, stderr });
      else reject(netErr.command(`${cmd} ${args.join(' ')}`, `exit ${code ?? signal}: ${stderr}`));
    });
    child.stdin.on('error', () => {}); // the exit code reports what went wrong
    child.stdin.end(input ?? '');
  });
}

/** `ip [-n netns] -batch -` with one command per line. */
export function ipBatch(lines: readonly string[], netns?: string): Promise<RunResult> {
  const args = netns ? ['-n', netns, '-batch', '-'] : ['-batch', '-'];
  return run('ip', args, lines.join('\n') + '\n');
}
