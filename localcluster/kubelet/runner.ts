// Default ProcessRunner: a container is a process started (inside its pod's netns via
// `ip netns exec`) as the leader of its own process group, so signals reach everything it spawned.
// stdout and stderr are appended to the container's log file.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { ExitResult, ProcessRunner, RunningProcess, StartProcess } from './types.ts';

/** argv actually executed: `ip netns exec <netns> …` when a netns is given. */
export function runnerArgv(netns: string | undefined, argv: string[]): string[] {
  return netns === undefined ? [...argv] : ['ip', 'netns', 'exec', netns, ...argv];
}

export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  if (pid <= 0) return; // never signal our own group (pid 0) or everything (-1)
  try { process.kill(-pid, signal); } catch { /* already gone */ }
}

export const defaultRunner: ProcessRunner = {
  start(spec: StartProcess): RunningProcess {
    fs.mkdirSync(path.dirname(spec.logFile), { recursive: true });
    const fd = fs.openSync(spec.logFile, 'a');
    const argv = runnerArgv(spec.netns, spec.argv);
    try {
      const child = spawn(argv[0] as string, argv.slice(1), {
        env: spec.env,
        cwd: spec.cwd,
        detached: true,
        stdio: ['ignore', fd, fd],
      });
      const pid = child.pid ?? 0;
      let done = false;
      const exited = new Promise<ExitResult>((resolve) => {
        child.once('error', (err) => {
          if (done) return;
          done = true;
          fs.appendFileSync(spec.logFile, `failed to start ${argv[0]}: ${err.message}\n`);
          resolve({ code: 127, signal: null });
        });
        child.once('exit', (code, signal) => { done = true; resolve({ code, signal }); });
      });
      child.unref();
      return { pid, exited, kill: (signal) => { if (!done) signalGroup(pid, signal); } };
    } finally {
      fs.closeSync(fd);
    }
  },
};
