// Applies and removes the in-pod capture: the `inet ztunnel` table (rules.ts renders it) and the policy
// routing (routing.ts plans it), inside the network namespace at a given path. Everything is idempotent:
// capture replaces, release of an uncaptured or vanished namespace is a no-op. No sysctl is needed: the
// outbound REDIRECT goes to 127.0.0.1 from a local source (no route_localnet), and the looped packets of
// transparent delivery keep their local route over lo, so rp_filter never sees them.
import { errorMessage, MeshError } from '../../shared/errors.ts';
import { logger } from '../../shared/log.ts';
import type { Family } from './addr.ts';
import {
  CaptureFailedError, CaptureInspectFailedError, CaptureReleaseFailedError,
} from './errors.ts';
import { ensureNetns, ensureTools, runInNetns, type RunResult } from './exec.ts';
import { hasRoutingRule, routingReleaseLines, routingSetupLines } from './routing.ts';
import { ROUTE_TABLE, TABLE_FAMILY, TABLE_NAME } from './rules.ts';

const log = logger('capture');

const FAMILIES: readonly Family[] = [4, 6];

/** Thrown inside this module with the detail the public error will carry. */
function failed(what: string, r: RunResult): Error {
  return new Error(`${what} exited ${r.code}: ${r.stderr || r.stdout || 'no output'}`);
}

/** `nft` reports a missing table as ENOENT; anything else is a real failure. */
function isNoSuchTable(r: RunResult): boolean {
  return /No such file or directory/.test(r.stderr);
}

/** `ip -j <args>` parsed; a table that does not exist yet lists as empty. Undefined when the family is
 *  unsupported here (a kernel or namespace without IPv6). */
async function ipJson(netnsPath: string, family: Family, args: string[]): Promise<unknown[] | undefined> {
  const r = await runInNetns(netnsPath, ['ip', `-${family}`, '-j', ...args]);
  if (r.code !== 0) {
    if (/FIB table does not exist/.test(r.stderr)) return [];
    if (family === 6 && /not supported|No such file or directory/i.test(r.stderr)) return undefined;
    throw failed(`ip -${family} ${args.join(' ')}`, r);
  }
  const parsed: unknown = JSON.parse(r.stdout.trim() || '[]');
  return Array.isArray(parsed) ? parsed : [];
}

async function ipBatch(netnsPath: string, family: Family, lines: string[]): Promise<void> {
  if (lines.length === 0) return;
  const r = await runInNetns(netnsPath, ['ip', `-${family}`, '-batch', '-'], lines.join('\n') + '\n');
  if (r.code !== 0) throw failed(`ip -${family} -batch (${lines.join('; ')})`, r);
}

/** Our own errors pass through; anything else becomes the operation's error with its message. */
function wrap(err: unknown, make: (detail: string) => MeshError): MeshError {
  return err instanceof MeshError ? err : make(errorMessage(err));
}

/** Installs (or replaces) the capture in the namespace at `netnsPath`; `script` comes from renderPodRules.
 *  The routing goes first, so by the time the table marks a packet its route exists. */
export async function capturePod(netnsPath: string, script: string): Promise<void> {
  ensureTools();
  ensureNetns(netnsPath);
  const started = performance.now();
  try {
    for (const family of FAMILIES) {
      const rules = await ipJson(netnsPath, family, ['rule', 'show']);
      if (rules === undefined) {
        log.warn({ netns: netnsPath }, 'no IPv6 in this namespace; IPv6 transparent delivery will not route back');
        continue;
      }
      await ipBatch(netnsPath, family, routingSetupLines(family, rules));
    }
    const r = await runInNetns(netnsPath, ['nft', '-f', '-'], script);
    if (r.code !== 0) throw failed('nft -f -', r);
  } catch (err) {
    throw wrap(err, (detail) => new CaptureFailedError(netnsPath, detail, { cause: err }));
  }
  log.debug({ netns: netnsPath, ms: Math.round(performance.now() - started) }, 'captured');
}

/** Removes the table, the rule and the route capturePod adds, and nothing else. A namespace that is
 *  gone took them with it, so that is not an error. */
export async function releasePod(netnsPath: string): Promise<void> {
  ensureTools();
  try {
    ensureNetns(netnsPath);
  } catch {
    return;
  }
  try {
    const r = await runInNetns(netnsPath, ['nft', 'delete', 'table', TABLE_FAMILY, TABLE_NAME]);
    if (r.code !== 0 && !isNoSuchTable(r)) throw failed('nft delete table', r);
    for (const family of FAMILIES) {
      const rules = await ipJson(netnsPath, family, ['rule', 'show']);
      if (rules === undefined) continue;
      const routes = await ipJson(netnsPath, family, ['route', 'show', 'table', String(ROUTE_TABLE)]);
      await ipBatch(netnsPath, family, routingReleaseLines(family, rules, routes ?? []));
    }
  } catch (err) {
    throw wrap(err, (detail) => new CaptureReleaseFailedError(netnsPath, detail, { cause: err }));
  }
  log.debug({ netns: netnsPath }, 'released');
}

/** True when the namespace holds the `inet ztunnel` table and the IPv4 policy-routing rule; false for a
 *  namespace that is gone. */
export async function isCaptured(netnsPath: string): Promise<boolean> {
  ensureTools();
  try {
    ensureNetns(netnsPath);
  } catch {
    return false;
  }
  try {
    const r = await runInNetns(netnsPath, ['nft', '-t', 'list', 'table', TABLE_FAMILY, TABLE_NAME]);
    if (r.code !== 0) {
      if (isNoSuchTable(r)) return false;
      throw failed('nft list table', r);
    }
    return hasRoutingRule(await ipJson(netnsPath, 4, ['rule', 'show']));
  } catch (err) {
    throw wrap(err, (detail) => new CaptureInspectFailedError(netnsPath, detail, { cause: err }));
  }
}
