// The netsock error catalogue. System-call failures are not wrapped: they arrive from the addon (or
// from Node itself) as Node-shaped system errors ({ code: 'EADDRINUSE', errno, syscall, address?,
// port?, path? }), so callers handle them exactly as errors of net/dgram.
import { MeshError } from '../errors.ts';

/** The addon is not built (or failed to load). */
export class NetsockAddonMissingError extends MeshError {
  constructor(options?: { cause?: unknown }) {
    super('NETSOCK_ADDON_MISSING', 'native addon not built; run npm run setup', options);
  }
}

/** A host that is not an IP literal: netsock never resolves names (the root namespace's resolver is
 * the wrong one for a socket inside a pod). */
export class NetsockBadAddressError extends MeshError {
  constructor(what: string, value: string) {
    super('NETSOCK_BAD_ADDRESS', `${what} ${JSON.stringify(value)} is not an IP address; resolve names first`);
  }
}

export class NetsockBadNetnsError extends MeshError {
  constructor(value: string) {
    super(
      'NETSOCK_BAD_NETNS',
      `netns ${JSON.stringify(value)} is neither a namespace name nor an absolute path (e.g. /proc/<pid>/ns/net)`,
    );
  }
}

export class NetsockFamilyMismatchError extends MeshError {
  constructor(a: string, b: string) {
    super('NETSOCK_FAMILY_MISMATCH', `${a} and ${b} are of different IP families`);
  }
}

export class NetsockConnectTimeoutError extends MeshError {
  constructor(host: string, port: number, timeoutMs: number) {
    super('NETSOCK_CONNECT_TIMEOUT', `connect to ${host}:${port} timed out after ${timeoutMs} ms; is the destination reachable from this namespace?`);
  }
}

/** The socket has no usable file descriptor (closed, not yet opened, or not a TCP socket). */
export class NetsockNoFdError extends MeshError {
  constructor(op: string) {
    super('NETSOCK_NO_FD', `${op}: socket has no file descriptor; is it closed or not a plain TCP socket?`);
  }
}
