import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultRunner, ENTER_SHIM, runnerArgv } from './runner.ts';
import { eventually } from '../../test/support/eventually.ts';

const alive = (pid: number): boolean => { try { process.kill(pid, 0); return true; } catch { return false; } };

test('runnerArgv enters the netns only when one is given', () => {
  assert.deepEqual(runnerArgv(undefined, ['a', 'b']), ['a', 'b']);
  assert.deepEqual(runnerArgv('pod-1', ['a', 'b']), ['ip', 'netns', 'exec', 'pod-1', 'a', 'b']);
});

test('runnerArgv enters an anonymous netns by path, in a private mount namespace, with the pod\'s /etc files', () => {
  const argv = runnerArgv({ path: '/proc/77/ns/net', etcDir: '/etc/netns/c-pod-1' }, ['a', 'b']);
  assert.deepEqual(argv.slice(0, 9), ['nsenter', '--net=/proc/77/ns/net', '--', 'unshare', '--mount', '--propagation', 'slave', '--', '/bin/sh']);
  assert.deepEqual(argv.slice(-4), ['netns-exec', '/etc/netns/c-pod-1', 'a', 'b']);
  assert.equal(argv[9], '-c');
  assert.equal(argv[10], ENTER_SHIM);
  assert.match(ENTER_SHIM, /mount --bind "\$f" "\/etc\/\$\{f##\*\/\}"/);
  assert.match(ENTER_SHIM, /exec "\$@"$/);
});

test('defaultRunner appends output to the log file and kill signals the whole process group', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const logFile = path.join(dir, 'sub', 'c.log');
  fs.mkdirSync(path.dirname(logFile));
  fs.writeFileSync(logFile, 'earlier\n');
  // The container spawns a grandchild; both must die when the group is signalled.
  const script = `
    const { spawn } = require('node:child_process');
    const g = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)'], { stdio: 'ignore' });
    console.log('grandchild ' + g.pid + ' ' + process.env.GREETING);
    console.error('to stderr');
    setInterval(() => {}, 1e6);`;
  const proc = defaultRunner.start({ netns: undefined, argv: [process.execPath, '-e', script], env: { GREETING: 'hello', PATH: process.env.PATH ?? '' }, logFile });
  const pids: number[] = [proc.pid];
  t.after(() => { for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } } });
  const grandchild = await eventually(() => Number(/grandchild (\d+) hello/.exec(fs.readFileSync(logFile, 'utf8'))?.[1]) || undefined);
  pids.push(grandchild);
  await eventually(() => fs.readFileSync(logFile, 'utf8').includes('to stderr'));
  assert.ok(fs.readFileSync(logFile, 'utf8').startsWith('earlier\n'), 'appends');
  assert.ok(alive(grandchild));
  proc.kill('SIGTERM');
  const exit = await proc.exited;
  assert.equal(exit.signal, 'SIGTERM');
  await eventually(() => !alive(grandchild));
});

test('defaultRunner reports a command that cannot start as exit 127', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const logFile = path.join(dir, 'c.log');
  const proc = defaultRunner.start({ netns: undefined, argv: ['/nonexistent/binary'], env: {}, logFile });
  assert.deepEqual(await proc.exited, { code: 127, signal: null });
  assert.match(fs.readFileSync(logFile, 'utf8'), /failed to start \/nonexistent\/binary/);
  proc.kill('SIGTERM'); // harmless once exited
});
