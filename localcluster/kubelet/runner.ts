// Default ProcessRunner: a container is a process started (inside its pod's netns via
// `ip netns exec`, or `nsenter` + ENTER_SHIM for an anonymous netns) as the leader of its own process group, so
// signals reach everything it spawned. stdout and stderr are appended to the container's log file.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { ExitResult, NetnsRef, ProcessRunner, RunningProcess, StartProcess } from './types.ts';

/** Tools the shim runs, found whatever PATH the container's env has. */
const SYSTEM_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * What `ip netns exec` does after entering the netns, for an anonymous one entered with nsenter and given a
 * private (slave) mount namespace by `unshare`: sysfs of the new netns on /sys, and each file of the pod's
 * /etc/netns directory (`$1`) bind-mounted over its /etc namesake; then exec the command. As with
 * `ip netns exec`, a failed bind is reported and not fatal.
 */
export const ENTER_SHIM = [
  'd=$1; shift',
  `{ PATH=${SYSTEM_PATH} umount -l /sys && PATH=${SYSTEM_PATH} mount -t sysfs none /sys; } 2>/dev/null`,
  'for f in "$d"/*; do',
  `  [ -e "$f" ] || continue; PATH=${SYSTEM_PATH} mount --bind "$f" "/etc/\${f##*/}" || echo "netns-exec: bind $f failed" >&2`,
  'done',
  'exec "$@"',
].join('\n');

/** argv actually executed: `ip netns exec <name> …` for a named netns, `nsenter --net=<path>` + a private mount
 *  namespace + ENTER_SHIM for an anonymous one, argv unchanged without a netns. The pid stays the command's
 *  (every step execs). Pure. */
export function runnerArgv(netns: NetnsRef | undefined, argv: string[]): string[] {
  if (netns === undefined) return [...argv];
  if (typeof netns === 'string') return ['ip', 'netns', 'exec', netns, ...argv];
  return [
    'nsenter', `--net=${netns.path}`, '--', 'unshare', '--mount', '--propagation', 'slave', '--',
    '/bin/sh', '-c', ENTER_SHIM, 'netns-exec', netns.etcDir, ...argv,
  ];
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
