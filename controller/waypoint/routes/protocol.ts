// Owns how a Service port's bytes are read, as Istio decides it (pkg/config/kube ConvertProtocol, "Protocol
// Selection" docs): `appProtocol` when set (it is then the only input, with Kubernetes' standard
// `kubernetes.io/h2c` and `kubernetes.io/ws[s]` names), else the port name `<protocol>[-<suffix>]`, case-insensitive;
// anything unrecognised is sniffed (AUTO). TLS-ish and server-first protocols are opaque TCP to a waypoint.

import type { PortProtocol } from '../../../shared/waypoint/config.ts';
import type { ServicePortInfo } from './types.ts';

const PROTOCOLS: Record<string, PortProtocol> = {
  http: 'HTTP', http_proxy: 'HTTP', 'grpc-web': 'HTTP', http2: 'HTTP2', grpc: 'GRPC',
  tcp: 'TCP', tls: 'TCP', https: 'TCP', mongo: 'TCP', mysql: 'TCP', redis: 'TCP', udp: 'TCP',
};

const STANDARD_APP_PROTOCOLS: Record<string, PortProtocol> = {
  'kubernetes.io/h2c': 'HTTP2',
  'kubernetes.io/ws': 'HTTP',
  'kubernetes.io/wss': 'TCP',
};

export function portProtocol(p: ServicePortInfo): PortProtocol {
  const name = p.appProtocol !== undefined && p.appProtocol !== '' ? p.appProtocol : p.name;
  if (name === undefined || name === '') return 'AUTO';
  const lower = name.toLowerCase();
  if (p.appProtocol && STANDARD_APP_PROTOCOLS[lower]) return STANDARD_APP_PROTOCOLS[lower];
  // grpc-web holds a '-' itself, so it is checked before taking the prefix.
  if (lower.startsWith('grpc-web')) return 'HTTP';
  const dash = lower.indexOf('-');
  return PROTOCOLS[dash >= 0 ? lower.slice(0, dash) : lower] ?? 'AUTO';
}
