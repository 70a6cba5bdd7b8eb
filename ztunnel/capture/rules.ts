// The in-pod capture rules as one nft script (pure; table-tested in rules.test.ts). Applied inside the
// pod's network namespace, the script replaces the table `inet ztunnel` atomically (the add-then-delete
// prologue makes the same transaction work whether or not the table exists), so re-applying is exact
// and releasing is one `delete table`. The policy routing that goes with it lives in routing.ts.
//
// Life of a packet (ztunnel's sockets in the pod carry `mark`, 0x539 in Istio):
// - the app connects out: nat output REDIRECTs it to 127.0.0.1:<outboundPort> (SO_ORIGINAL_DST keeps the
//   real destination); DNS (udp/tcp 53) goes to <dnsPort> instead when captureDns.
// - a client connects in on a non-loopback interface: nat prerouting REDIRECTs it to <pod IP>:<inboundPlainPort>,
//   except HBONE (<hbonePort>, for ztunnel's own listener), excluded ports and probes from the node.
//   REDIRECT rather than TPROXY: the destination is always the pod's own address, so TPROXY would buy
//   nothing and would need transparent listeners plus a second policy-routing rule for the redirected SYN.
// - ztunnel delivers to the app from the client's IP (IP_TRANSPARENT, marked): the packet loops through lo,
//   where prerouting stamps the connection with CONN_MARK; the app's replies (addressed to that non-local
//   client IP) get CONN_MARK back as packet mark in a route-type output chain, which makes the kernel route
//   them again: `fwmark CONN_MARK lookup ROUTE_TABLE` → `local default dev lo` hands them to ztunnel's socket.
//   Only reply-direction packets are restored, so ztunnel's own packets keep their mark.
import { isIP } from 'node:net';
import { isPort, parseCidr } from './addr.ts';
import { CaptureBadConfigError } from './errors.ts';

/** The nft table (family inet: one table for IPv4 and IPv6) that holds every capture rule. */
export const TABLE_FAMILY = 'inet';
export const TABLE_NAME = 'ztunnel';
/** The mark bits ztunnel owns: both its socket mark and CONN_MARK are compared under this mask. */
export const MARK_MASK = 0xfff;
/** Conntrack / packet mark of connections ztunnel delivered transparently (Istio's 0x111). */
export const CONN_MARK = 0x111;
/** Policy-routing table that routes CONN_MARK packets to lo (Istio's 133). */
export const ROUTE_TABLE = 133;
/** Priority of the `ip rule` (Istio's 32764, just before main at 32766). */
export const RULE_PRIORITY = 32764;

export interface PodRulesOptions {
  /** SO_MARK of every socket ztunnel opens in the pod (0x539); must fit MARK_MASK. */
  mark: number;
  outboundPort: number;
  inboundPlainPort: number;
  hbonePort: number;
  dnsPort: number;
  captureDns: boolean;
  /** Sources whose TCP reaches the app directly: the node's IPs (kubelet probes start in the node's netns). */
  probeSources: string[];
  excludeInboundPorts: number[];
  /** Bypass (tcp and udp, DNS included) to these destination ports. */
  excludeOutboundPorts: number[];
  /** Bypass (tcp and udp, DNS included) to these destination ranges; IPv4 and IPv6 mixed. */
  excludeOutboundCidrs: string[];
}

const hex = (n: number): string => `0x${n.toString(16)}`;

function set(items: readonly (string | number)[]): string {
  return items.length === 1 ? String(items[0]) : `{ ${items.join(', ')} }`;
}

function uniqueSorted<T extends string | number>(items: readonly T[]): T[] {
  return [...new Set(items)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function checkPort(name: string, value: unknown): void {
  if (!isPort(value)) throw new CaptureBadConfigError(`${name} must be a port number 1-65535, got ${String(value)}`);
}

export function renderPodRules(opts: PodRulesOptions): string {
  const { mark } = opts;
  if (!Number.isInteger(mark) || mark <= 0 || (mark & ~MARK_MASK) !== 0 || mark === CONN_MARK) {
    throw new CaptureBadConfigError(`mark must be 1-${hex(MARK_MASK)} and not ${hex(CONN_MARK)}, got ${String(mark)}`);
  }
  for (const k of ['outboundPort', 'inboundPlainPort', 'hbonePort', 'dnsPort'] as const) checkPort(k, opts[k]);
  for (const p of opts.excludeInboundPorts) checkPort('excludeInboundPorts entry', p);
  for (const p of opts.excludeOutboundPorts) checkPort('excludeOutboundPorts entry', p);
  const probes4: string[] = [];
  const probes6: string[] = [];
  for (const ip of opts.probeSources) {
    const v = isIP(ip);
    if (v === 4) probes4.push(ip);
    else if (v === 6) probes6.push(ip.toLowerCase());
    else throw new CaptureBadConfigError(`probe source ${JSON.stringify(ip)} is not an IP address`);
  }
  const cidrs4: string[] = [];
  const cidrs6: string[] = [];
  for (const c of opts.excludeOutboundCidrs) {
    const parsed = parseCidr(c);
    if (!parsed) throw new CaptureBadConfigError(`excluded range ${JSON.stringify(c)} is not a CIDR`);
    (parsed.family === 4 ? cidrs4 : cidrs6).push(parsed.text);
  }

  const marked = `meta mark & ${hex(MARK_MASK)} == ${hex(mark)}`;
  const keep = `ct mark & ${hex(~MARK_MASK >>> 0)} | ${hex(CONN_MARK)}`;
  const keepPkt = `meta mark & ${hex(~MARK_MASK >>> 0)} | ${hex(CONN_MARK)}`;
  const inboundBypass = uniqueSorted([opts.hbonePort, ...opts.excludeInboundPorts]);
  const outboundPorts = uniqueSorted(opts.excludeOutboundPorts);

  const lines: string[] = [
    `table ${TABLE_FAMILY} ${TABLE_NAME} {}`,
    `delete table ${TABLE_FAMILY} ${TABLE_NAME}`,
    `table ${TABLE_FAMILY} ${TABLE_NAME} {`,
    '  chain prerouting_mangle {',
    '    type filter hook prerouting priority mangle; policy accept;',
    '    # ztunnel\'s transparent delivery to the app loops through lo: remember the connection',
    `    iifname "lo" ${marked} ct mark set ${keep}`,
    '  }',
    '  chain output_route {',
    '    type route hook output priority mangle; policy accept;',
    '    # the app\'s replies to a transparently delivered connection: re-route them to lo (routing table ' +
      `${ROUTE_TABLE})`,
    `    ct direction reply ct mark & ${hex(MARK_MASK)} == ${hex(CONN_MARK)} meta mark set ${keepPkt}`,
    '  }',
    '  chain prerouting_nat {',
    '    type nat hook prerouting priority dstnat; policy accept;',
    '    iifname "lo" accept',
    `    ${marked} accept`,
    '    meta l4proto != tcp accept',
  ];
  if (probes4.length) lines.push(`    ip saddr ${set(uniqueSorted(probes4))} accept`);
  if (probes6.length) lines.push(`    ip6 saddr ${set(uniqueSorted(probes6))} accept`);
  lines.push(
    `    tcp dport ${set(inboundBypass)} accept`,
    `    meta l4proto tcp redirect to :${opts.inboundPlainPort}`,
    '  }',
    '  chain output_nat {',
    '    type nat hook output priority -100; policy accept;',
    `    ${marked} accept`,
    '    oifname "lo" accept',
  );
  if (outboundPorts.length) lines.push(`    meta l4proto { tcp, udp } th dport ${set(outboundPorts)} accept`);
  if (cidrs4.length) lines.push(`    ip daddr ${set(uniqueSorted(cidrs4))} accept`);
  if (cidrs6.length) lines.push(`    ip6 daddr ${set(uniqueSorted(cidrs6))} accept`);
  if (opts.captureDns) lines.push(`    meta l4proto { tcp, udp } th dport 53 redirect to :${opts.dnsPort}`);
  lines.push(`    meta l4proto tcp redirect to :${opts.outboundPort}`, '  }', '}', '');
  return lines.join('\n');
}
