// Pure decisions of netsock: which namespace file a name means, which IP family an address has, and
// the exact addon openSocket spec each public call asks for. No I/O here; table-tested in
// options.test.ts.
import { isIP } from 'node:net';
import type { Family, OpenSocketSpec } from './addon.ts';
import { NetsockBadAddressError, NetsockBadNetnsError, NetsockFamilyMismatchError } from './errors.ts';

export const NETNS_DIR = '/var/run/netns';
/** Node's default listen backlog. */
export const DEFAULT_BACKLOG = 511;

/** A bare name (as `ip netns add` creates) maps to /var/run/netns/<name>; an absolute path is used as is. */
export function netnsPath(nameOrPath: string): string {
  if (nameOrPath.startsWith('/')) return nameOrPath;
  if (nameOrPath === '' || nameOrPath === '.' || nameOrPath === '..' || nameOrPath.includes('/')) {
    throw new NetsockBadNetnsError(nameOrPath);
  }
  return `${NETNS_DIR}/${nameOrPath}`;
}

/** The IP family of an address literal; names are refused (see NetsockBadAddressError). */
export function ipFamily(address: string, what: string): Family {
  const v = isIP(address);
  if (v === 0) throw new NetsockBadAddressError(what, address);
  return v as Family;
}

/** Spec fields shared by every call: the namespace, only when asked for. */
function inNetns(netns: string | undefined): { netns?: string } {
  return netns === undefined ? {} : { netns: netnsPath(netns) };
}

/** Copies only the options that are set, so the addon sees absent rather than undefined-valued keys. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export interface ListenSpecInput {
  netns?: string;
  host: string;
  port: number;
  backlog?: number;
  transparent?: boolean;
  mark?: number;
  /** Share the port with other listeners that ask for it too (a proxy handing over to its successor). */
  reusePort?: boolean;
}

export function listenSpec(o: ListenSpecInput): OpenSocketSpec {
  return defined({
    ...inNetns(o.netns),
    type: 'tcp',
    family: ipFamily(o.host, 'listen host'),
    address: o.host,
    port: o.port,
    listen: true,
    backlog: o.backlog ?? DEFAULT_BACKLOG,
    // As Node does for its own listeners: a restarted proxy can rebind while old connections linger.
    reuseAddr: true,
    reusePort: o.reusePort,
    transparent: o.transparent,
    mark: o.mark,
  });
}

export interface ConnectSpecInput {
  netns?: string;
  host: string;
  port: number;
  localAddress?: string;
  localPort?: number;
  transparent?: boolean;
  mark?: number;
}

/** The unconnected socket a connect starts from: bound only when a local address or port is asked for. */
export function connectSpec(o: ConnectSpecInput): OpenSocketSpec {
  const family = ipFamily(o.host, 'connect host');
  if (o.localAddress !== undefined && ipFamily(o.localAddress, 'local address') !== family) {
    throw new NetsockFamilyMismatchError(`local address ${o.localAddress}`, `destination ${o.host}`);
  }
  return defined({
    ...inNetns(o.netns),
    type: 'tcp',
    family,
    address: o.localAddress,
    port: o.localPort,
    transparent: o.transparent,
    mark: o.mark,
  });
}

export interface UdpSpecInput {
  netns?: string;
  host?: string;
  port: number;
  family?: Family;
  transparent?: boolean;
  mark?: number;
  reusePort?: boolean;
}

/** A bound UDP socket; without a host it binds the wildcard address of `family` (default 4). */
export function udpSpec(o: UdpSpecInput): OpenSocketSpec {
  const family = o.host === undefined ? (o.family ?? 4) : ipFamily(o.host, 'bind host');
  if (o.family !== undefined && o.family !== family) {
    throw new NetsockFamilyMismatchError(`bind host ${o.host}`, `family ${o.family}`);
  }
  return defined({
    ...inNetns(o.netns),
    type: 'udp',
    family,
    address: o.host ?? (family === 4 ? '0.0.0.0' : '::'),
    port: o.port,
    reusePort: o.reusePort,
    transparent: o.transparent,
    mark: o.mark,
  });
}
