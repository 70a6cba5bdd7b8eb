// What every listener of a captured pod shares: the pod it serves, its socket factory (sockets inside the pod's
// network namespace, marked so the pod's capture rules skip them), the node-wide state, certificates, HBONE pool and
// telemetry, and the set of live connections (for drain).
import type { Logger } from 'pino';
import type { Duplex } from 'node:stream';
import type { StateView, IpText, SpiffeId } from '../types.ts';
import type { SocketFactory } from '../../shared/socket/index.ts';
import type { HbonePool } from '../../shared/hbone/index.ts';
import type { CertificateManager } from '../../shared/identity/index.ts';
import type { ConnectionMetrics } from '../telemetry/index.ts';

export const HBONE_PORT = 15008;
export const OUTBOUND_PORT = 15001;
export const INBOUND_PLAIN_PORT = 15006;
export const DNS_PORT = 15053;
/** SO_MARK on every socket ztunnel opens in a pod; the pod's nftables rules let marked traffic pass uncaptured. */
export const PROXY_MARK = 0x539;

/** A captured pod, as the node agent found it. */
export interface CapturedPod {
  uid: string;
  name: string;
  namespace: string;
  ip: IpText;
  serviceAccount: string;
  /** Path of the pod's network namespace (/var/run/netns/<name> or /proc/<pid>/ns/net). */
  netns: string;
}

export interface NodeServices {
  state: StateView;
  certs: CertificateManager;
  pool: HbonePool;
  metrics: ConnectionMetrics;
  trustDomain: string;
  /** Cluster DNS server the in-pod DNS proxy forwards to. */
  dnsUpstream: string;
  captureDns: boolean;
  /** Root logger; each listener and connection gets a child. */
  log: Logger;
  /** The access log (one record per connection). */
  accessLog: Logger;
}

export interface PodContext extends NodeServices {
  pod: CapturedPod;
  identity: SpiffeId;
  factory: SocketFactory;
  /** Live connections of this pod, both directions, destroyed when a drain deadline passes. */
  live: Set<Duplex>;
}

/** Track a socket/stream as live until it closes. */
export function track(ctx: PodContext, s: Duplex): void {
  ctx.live.add(s);
  s.once('close', () => ctx.live.delete(s));
}

/** `ip:port`, bracketing IPv6. */
export function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}
