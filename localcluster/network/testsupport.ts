// Helpers for this folder's privileged tests: a throwaway cluster (unique id, temp state dir, torn down in
// t.after) and processes started inside its namespaces. Not part of the folder's face.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { ClusterNetwork } from './cluster-network.ts';
import { cleanupFromRecord } from './record.ts';

export const whoamiServer = join(dirname(fileURLToPath(import.meta.url)), 'testdata/whoami_server.py');

export function randomClusterId(): string {
  return `t${randomBytes(3).toString('hex')}`;
}

/** A state dir whose recorded namespaces are cleaned up, then removed, after the test (also on failure). */
export function tempStateDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'lcnet-'));
  t.after(async () => {
    await cleanupFromRecord(dir);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** A cluster torn down after the test (also when it fails): cleanup from the record, then the state dir. */
export async function testCluster(t: TestContext, nodeCount: number): Promise<ClusterNetwork> {
  const stateDir = tempStateDir(t);
  const clusterId = randomClusterId();
  return await ClusterNetwork.create({ clusterId, stateDir, nodeCount });
}

/** Start `args` inside `netns` in its own process group; killed after the test. */
export function startIn(t: TestContext, netns: string, args: string[]): ChildProcess {
  const child = spawn('ip', ['netns', 'exec', netns, ...args], { detached: true, stdio: 'ignore' });
  t.after(() => {
    try { process.kill(-child.pid!, 'SIGKILL'); } catch {}
  });
  return child;
}

/** Run a command inside `netns`; resolves with its exit code and stdout. */
export function execIn(netns: string, args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', netns, ...args], { timeout: 10_000 }, (err, stdout) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout: String(stdout) });
    });
  });
}

/** GET http://<ip>:<port>/ from inside `netns` with curl (3 s limit). */
export function curlFrom(netns: string, ip: string, port: number): Promise<{ code: number; stdout: string }> {
  return execIn(netns, ['curl', '-s', '--max-time', '3', `http://${ip}:${port}/`]);
}
