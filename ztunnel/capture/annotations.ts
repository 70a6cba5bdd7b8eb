// Per-pod capture exclusions read from pod annotations (pure; table-tested). Bad config from users
// degrades: a bad entry is reported in `errors` (the caller logs at warn and counts it) and the rest
// is applied.
import { parseCidr, parsePort } from './addr.ts';

export const EXCLUDE_INBOUND_PORTS = 'ambient-mesh.io/exclude-inbound-ports';
export const EXCLUDE_OUTBOUND_PORTS = 'ambient-mesh.io/exclude-outbound-ports';
export const EXCLUDE_OUTBOUND_IP_RANGES = 'ambient-mesh.io/exclude-outbound-ip-ranges';

export interface CaptureExclusions {
  excludeInboundPorts: number[];
  excludeOutboundPorts: number[];
  /** Normalised CIDRs (a bare address becomes /32 or /128; host bits are cleared). */
  excludeOutboundCidrs: string[];
  /** One line per bad entry: `<annotation>: <entry> is not a ...`. */
  errors: string[];
}

function entries(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function ports(key: string, value: string | undefined, errors: string[]): number[] {
  const out = new Set<number>();
  for (const e of entries(value)) {
    const p = parsePort(e);
    if (p === undefined) errors.push(`${key}: ${JSON.stringify(e)} is not a port (1-65535)`);
    else out.add(p);
  }
  return [...out];
}

export function parseCaptureAnnotations(annotations: Record<string, string> | undefined): CaptureExclusions {
  const a = annotations ?? {};
  const errors: string[] = [];
  const excludeInboundPorts = ports(EXCLUDE_INBOUND_PORTS, a[EXCLUDE_INBOUND_PORTS], errors);
  const excludeOutboundPorts = ports(EXCLUDE_OUTBOUND_PORTS, a[EXCLUDE_OUTBOUND_PORTS], errors);
  const cidrs = new Set<string>();
  for (const e of entries(a[EXCLUDE_OUTBOUND_IP_RANGES])) {
    const c = parseCidr(e);
    if (c) cidrs.add(c.text);
    else errors.push(`${EXCLUDE_OUTBOUND_IP_RANGES}: ${JSON.stringify(e)} is not an IP range (e.g. 10.0.0.0/8)`);
  }
  return { excludeInboundPorts, excludeOutboundPorts, excludeOutboundCidrs: [...cidrs], errors };
}
