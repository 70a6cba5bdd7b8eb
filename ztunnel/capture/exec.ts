// Runs nft and ip inside a network namespace given as a path (`nsenter --net=<path> …`): the only place
// capture spawns processes. Checks once that the tools exist, so a missing one is a clear error
// rather than nsenter's exit 127.
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { CaptureNetnsMissingError, CaptureToolMissingError } from './errors.ts';
import { procPathCurrent } from './proc-path.ts';

/** A bounded run: nft and ip finish in milliseconds; anything slower is stuck. */
const TIMEOUT_MS = 10_000;

const TOOLS = [
  ['nsenter', 'util-linux'],
  ['nft', 'nftables'],
  ['ip', 'iproute2'],
] as const;

let toolsChecked = false;

function onPath(tool: string): boolean {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return true;
    } catch {}
  }
  return false;
}

/** Throws CaptureToolMissingError for the first of nsenter, nft, ip not on PATH (checked once per process). */
export function ensureTools(): void {
  if (toolsChecked) return;
  for (const [tool, pkg] of TOOLS) if (!onPath(tool)) throw new CaptureToolMissingError(tool, pkg);
  toolsChecked = true;
}

/** Throws CaptureNetnsMissingError unless `path` exists (a pod's netns file vanishes with the pod) and, for a
 *  /proc/<pid>/ns/net path findPodNetns returned, the pid still names the process it named then. */
export function ensureNetns(path: string): void {
  try {
    statSync(path);
  } catch (err) {
    throw new CaptureNetnsMissingError(path, { cause: err });
  }
  if (!procPathCurrent(path)) throw new CaptureNetnsMissingError(path, { cause: new Error('the process that held it exited; its pid was reused') });
}

export interface RunResult { code: number; stdout: string; stderr: string }

/** `nsenter --net=<netnsPath> <argv>`, `input` on stdin. Resolves with the exit code; rejects only
 *  when the process could not run or timed out. */
export function runInNetns(netnsPath: string, argv: readonly string[], input?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('nsenter', [`--net=${netnsPath}`, '--', ...argv], {
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: TIMEOUT_MS,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === null) reject(new Error(`${argv.join(' ')} killed by ${signal ?? 'a signal'} (timeout ${TIMEOUT_MS} ms?)`));
      else resolve({ code, stdout, stderr: stderr.trim() });
    });
    child.stdin.on('error', () => {}); // the exit code reports what went wrong
    child.stdin.end(input ?? '');
  });
}
