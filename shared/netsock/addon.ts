// Loads native/build/Release/netsock.node (lazily, once) and types its functions. Nothing outside
// shared/netsock/ loads the addon; a missing build surfaces as NETSOCK_ADDON_MISSING on first use, so
// importing this folder never fails.
import { createRequire } from 'node:module';
import { NetsockAddonMissingError } from './errors.ts';

export type Family = 4 | 6;

/** Arguments of the addon's openSocket; see native/src/addon.c. */
export interface OpenSocketSpec {
  /** Path of a netns file (/var/run/netns/X, /proc/PID/ns/net); absent = the current namespace. */
  netns?: string;
  type: 'tcp' | 'udp';
  family: Family;
  /** Bind address; the socket is bound when address or port is present. */
  address?: string;
  port?: number;
  listen?: boolean;
  backlog?: number;
  transparent?: boolean;
  mark?: number;
  reuseAddr?: boolean;
  /** SO_REUSEPORT: several sockets (of the same user) share the address; the kernel spreads connections. */
  reusePort?: boolean;
  freebind?: boolean;
}

export interface OriginalDst {
  address: string;
  port: number;
  family: Family;
}

export interface NetsockAddon {
  openSocket(spec: OpenSocketSpec): number;
  originalDst(fd: number): OriginalDst;
  setMark(fd: number, mark: number): void;
  getMark(fd: number): number;
  setTransparent(fd: number, family: Family, on: boolean): void;
}

const ADDON_PATH = new URL('../../native/build/Release/netsock.node', import.meta.url);
let loaded: NetsockAddon | undefined;

/** Loads an addon file; any failure (missing, wrong architecture) becomes NETSOCK_ADDON_MISSING. */
export function loadAddon(path: URL): NetsockAddon {
  try {
    return createRequire(import.meta.url)(path.pathname) as NetsockAddon;
  } catch (cause) {
    throw new NetsockAddonMissingError({ cause });
  }
}

export function addon(): NetsockAddon {
  loaded ??= loadAddon(ADDON_PATH);
  return loaded;
}

/** Whether the addon loads; for callers that want to choose a fallback up front. */
export function addonAvailable(): boolean {
  try {
    addon();
    return true;
  } catch {
    return false;
  }
}
