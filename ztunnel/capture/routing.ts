// The policy routing that goes with the capture rules (pure; table-tested): `ip rule fwmark CONN_MARK/MARK_MASK
// lookup ROUTE_TABLE` and `local default dev lo table ROUTE_TABLE`, for IPv4 and IPv6. The planners take
// what `ip -j rule show` / `ip -j route show table N` printed and return `ip -batch` lines, so adding is
// idempotent (`ip rule add` would happily add a duplicate) and release removes only what capture adds.
import type { Family } from './addr.ts';
import { CONN_MARK, MARK_MASK, ROUTE_TABLE, RULE_PRIORITY } from './rules.ts';

/** The fields of one `ip -j rule show` entry that matter here. */
interface IpRule { priority?: number; fwmark?: string; fwmask?: string; table?: string }
/** The fields of one `ip -j route show table N` entry that matter here. */
interface IpRoute { type?: string; dst?: string; dev?: string }

const hex = (n: number): string => `0x${n.toString(16)}`;
const RULE_SPEC = `fwmark ${hex(CONN_MARK)}/${hex(MARK_MASK)} lookup ${ROUTE_TABLE}`;

function asArray<T>(json: unknown): T[] {
  return Array.isArray(json) ? (json as T[]) : [];
}

function isOurRule(r: IpRule): boolean {
  return Number(r.fwmark) === CONN_MARK && Number(r.fwmask ?? '0xffffffff') === MARK_MASK && r.table === String(ROUTE_TABLE);
}

function isOurRoute(r: IpRoute): boolean {
  return r.type === 'local' && r.dst === 'default' && r.dev === 'lo';
}

/** Lines for `ip -<family> -batch -` that make the rule and the route exist exactly once. */
export function routingSetupLines(family: Family, rulesJson: unknown): string[] {
  const dst = family === 4 ? '0.0.0.0/0' : '::/0';
  const lines = [`route replace local ${dst} dev lo table ${ROUTE_TABLE}`];
  if (!asArray<IpRule>(rulesJson).some(isOurRule)) lines.push(`rule add ${RULE_SPEC} priority ${RULE_PRIORITY}`);
  return lines;
}

/** Lines for `ip -<family> -batch -` that remove every copy of our rule and our route; none when absent. */
export function routingReleaseLines(family: Family, rulesJson: unknown, routesJson: unknown): string[] {
  const dst = family === 4 ? '0.0.0.0/0' : '::/0';
  const lines = asArray<IpRule>(rulesJson)
    .filter(isOurRule)
    .map((r) => `rule del ${RULE_SPEC}${r.priority === undefined ? '' : ` priority ${r.priority}`}`);
  if (asArray<IpRoute>(routesJson).some(isOurRoute)) lines.push(`route del local ${dst} dev lo table ${ROUTE_TABLE}`);
  return lines;
}

/** Whether the listing shows our rule (used by isCaptured together with the table). */
export function hasRoutingRule(rulesJson: unknown): boolean {
  return asArray<IpRule>(rulesJson).some(isOurRule);
}
