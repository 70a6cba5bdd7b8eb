// kube-proxy's decision, pure: Services + EndpointSlices → one complete nftables script for a node netns.
// The script deletes and recreates the node's own table in one `nft -f` transaction, so every update is atomic.
//   map service-ips:        vip . proto . port → goto svc-<ns>/<name>/<proto>/<port>
//   chain svc-…:            numgen random mod N → goto ep-…   (one chain per ready endpoint)
//   chain ep-…:             mark hairpin (source == endpoint) for masquerade, then DNAT to endpoint ip:port
//   map no-endpoint-services: vip . proto . port → goto noep-… (counted tcp reset / icmp port-unreachable)
// prerouting (pods) and output (host-network processes) DNAT; forward and output filters reject.
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';

export const PROXY_TABLE = 'localcluster-proxy';
/** Packet mark asking postrouting to masquerade (a pod reaching itself through a VIP). */
export const HAIRPIN_MARK = '0x4000';
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export type L4 = 'tcp' | 'udp';
export interface Backend { ip: string; port: number }
/** One Service port as kube-proxy sees it. */
export interface ServicePortRule {
  /** `<ns>/<name>/<proto>/<port>`: stable, unique per table, valid inside an nft chain name. */
  id: string;
  vip: string;
  protocol: L4;
  port: number;
  backends: Backend[];
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function l4(protocol: string | undefined): L4 | undefined {
  const p = (protocol ?? 'TCP').toUpperCase();
  return p === 'TCP' ? 'tcp' : p === 'UDP' ? 'udp' : undefined;
}

function safe(s: string): string {
  return s.replace(/[^a-zA-Z0-9/._-]/g, '_');
}

/** Ready endpoints of one slice (falling back to serving+terminating ones when none is ready, like kube-proxy). */
function usableEndpoints(slices: readonly V1EndpointSlice[]): Array<{ slice: V1EndpointSlice; ip: string }> {
  const ready: Array<{ slice: V1EndpointSlice; ip: string }> = [];
  const terminating: Array<{ slice: V1EndpointSlice; ip: string }> = [];
  for (const slice of slices) {
    for (const ep of slice.endpoints ?? []) {
      const ip = ep.addresses?.[0];
      if (!ip || !IPV4.test(ip)) continue;
      const c = ep.conditions ?? {};
      if (c.ready !== false) ready.push({ slice, ip });
      else if (c.serving === true && c.terminating === true) terminating.push({ slice, ip });
    }
  }
  return ready.length > 0 ? ready : terminating;
}

/** The pure core: which VIP:port goes to which backends. Sorted, deduplicated, deterministic. */
export function planServices(services: readonly V1Service[], slices: readonly V1EndpointSlice[]): ServicePortRule[] {
  const out: ServicePortRule[] = [];
  const sorted = [...services].sort((a, b) => key(a).localeCompare(key(b)));
  for (const svc of sorted) {
    const ns = svc.metadata?.namespace ?? 'default';
    const name = svc.metadata?.name;
    const spec = svc.spec;
    if (!name || !spec || spec.type === 'ExternalName') continue;
    const vip = [spec.clusterIP, ...(spec.clusterIPs ?? [])].find((ip) => ip && ip !== 'None' && IPV4.test(ip));
    if (!vip) continue; // headless (or not yet allocated): DNS, not kube-proxy
    const own = slices.filter((s) =>
      (s.metadata?.namespace ?? 'default') === ns && s.metadata?.labels?.[SERVICE_NAME_LABEL] === name &&
      (s.addressType ?? 'IPv4') === 'IPv4');
    const endpoints = usableEndpoints(own);
    const seen = new Set<string>();
    for (const sp of spec.ports ?? []) {
      const protocol = l4(sp.protocol);
      if (!protocol || !sp.port) continue;
      const id = safe(`${ns}/${name}/${protocol}/${sp.port}`);
      if (seen.has(id)) continue;
      seen.add(id);
      const backends = new Map<string, Backend>();
      for (const { slice, ip } of endpoints) {
        const port = backendPort(slice, sp.name ?? '', protocol, sp.targetPort, sp.port);
        if (port !== undefined) backends.set(`${ip}:${port}`, { ip, port });
      }
      out.push({
        id, vip, protocol, port: sp.port,
        backends: [...backends.values()].sort((a, b) => ipNum(a.ip) - ipNum(b.ip) || a.port - b.port),
      });
    }
  }
  return out;
}

function key(s: V1Service): string {
  return `${s.metadata?.namespace ?? 'default'}/${s.metadata?.name ?? ''}`;
}

function ipNum(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

/**
 * The backend port: the slice port named like the Service port (that is how named targetPorts are resolved,
 * per slice), else a numeric targetPort, else the Service port itself.
 */
function backendPort(slice: V1EndpointSlice, portName: string, protocol: L4, targetPort: unknown, port: number): number | undefined {
  const match = (slice.ports ?? []).find((p) => (p.name ?? '') === portName && l4(p.protocol) === protocol);
  if (match?.port) return match.port;
  if (typeof targetPort === 'number') return targetPort;
  if (typeof targetPort === 'string' && /^\d+$/.test(targetPort)) return Number(targetPort);
  if (targetPort === undefined || targetPort === null) return port;
  return undefined; // a named targetPort the slice does not resolve: no backend on this slice
}

/** Render the complete nftables script for one node (see the header for its shape). */
export function renderProxyRules(services: readonly V1Service[], slices: readonly V1EndpointSlice[]): string {
  return renderPlan(planServices(services, slices));
}

export function renderPlan(rules: readonly ServicePortRule[]): string {
  const withEps = rules.filter((r) => r.backends.length > 0);
  const without = rules.filter((r) => r.backends.length === 0);
  const t = PROXY_TABLE;
  const L: string[] = [
    `table ip ${t}`,
    `delete table ip ${t}`,
    `table ip ${t} {`,
    '  map service-ips {',
    '    type ipv4_addr . inet_proto . inet_service : verdict',
    ...elements(withEps.map((r) => `${r.vip} . ${r.protocol} . ${r.port} : goto svc-${r.id}`)),
    '  }',
    '  map no-endpoint-services {',
    '    type ipv4_addr . inet_proto . inet_service : verdict',
    ...elements(without.map((r) => `${r.vip} . ${r.protocol} . ${r.port} : goto noep-${r.id}`)),
    '  }',
    '  chain services {',
    '    ip daddr . meta l4proto . th dport vmap @service-ips',
    '  }',
    '  chain endpoints-check {',
    '    ip daddr . meta l4proto . th dport vmap @no-endpoint-services',
    '  }',
    '  chain prerouting {',
    '    type nat hook prerouting priority -100; policy accept;',
    '    jump services',
    '  }',
    '  chain output {',
    '    type nat hook output priority -100; policy accept;',
    '    jump services',
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority 100; policy accept;',
    `    meta mark & ${HAIRPIN_MARK} == ${HAIRPIN_MARK} meta mark set meta mark ^ ${HAIRPIN_MARK} masquerade`,
    '  }',
    '  chain filter-forward {',
    '    type filter hook forward priority -110; policy accept;',
    '    ct state new jump endpoints-check',
    '  }',
    '  chain filter-output {',
    '    type filter hook output priority -110; policy accept;',
    '    ct state new jump endpoints-check',
    '  }',
  ];
  for (const r of withEps) {
    const eps = r.backends.map((b) => ({ b, chain: `ep-${r.id}/${b.ip}/${b.port}` }));
    L.push(`  chain svc-${r.id} {`);
    if (eps.length === 1) L.push(`    goto ${eps[0]!.chain}`);
    else L.push(`    numgen random mod ${eps.length} vmap { ${eps.map((e, i) => `${i} : goto ${e.chain}`).join(', ')} }`);
    L.push('  }');
    for (const { b, chain } of eps) {
      L.push(
        `  chain ${chain} {`,
        `    ip saddr ${b.ip} meta mark set meta mark | ${HAIRPIN_MARK}`,
        `    meta l4proto ${r.protocol} dnat to ${b.ip}:${b.port}`,
        '  }',
      );
    }
  }
  for (const r of without) {
    L.push(
      `  chain noep-${r.id} {`,
      r.protocol === 'tcp'
        ? '    meta l4proto tcp counter reject with tcp reset'
        : '    counter reject with icmp type port-unreachable',
      '  }',
    );
  }
  L.push('}', '');
  return L.join('\n');
}

function elements(items: string[]): string[] {
  if (items.length === 0) return [];
  return ['    elements = {', ...items.map((e, i) => `      ${e}${i < items.length - 1 ? ',' : ''}`), '    }'];
}
