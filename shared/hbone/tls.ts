// TLS and HTTP/2 settings both ends of an HBONE tunnel use: TLS 1.3 only, ALPN h2, certificates on both sides,
// trust only in the mesh roots, and large flow-control windows (the Node default of 64 KiB per stream caps a
// tunnel at a few MB/s once latency exceeds a millisecond).
import type { SecureContextOptions } from 'node:tls';
import type { Settings } from 'node:http2';

export interface TlsMaterial {
  /** Leaf first, then intermediates. */
  chainPem: string;
  keyPem: string;
  /** One or more trusted roots, concatenated (several during a root rotation). */
  rootsPem: string;
}

/** Per-stream window we advertise (SETTINGS_INITIAL_WINDOW_SIZE). */
export const STREAM_WINDOW = 4 * 1024 * 1024;
/** Connection-level window, set with session.setLocalWindowSize once the session is up. */
export const SESSION_WINDOW = 16 * 1024 * 1024;
/** nghttp2 refuses new streams (ENHANCE_YOUR_CALM) past this much buffered memory, in MB; Node's default is 10. */
export const MAX_SESSION_MEMORY_MB = 256;

/**
 * Largest DATA frame we accept (SETTINGS_MAX_FRAME_SIZE; 16 KiB unless raised, 16 MiB - 1 at most). A 64 KiB read
 * from a pod's socket then crosses the tunnel as one frame instead of four.
 */
export const MAX_FRAME_SIZE = 2 ** 24 - 1;

export const H2_SETTINGS: Settings = {
  initialWindowSize: STREAM_WINDOW,
  maxFrameSize: MAX_FRAME_SIZE,
  enablePush: false,
};

export function secureContextOptions(m: TlsMaterial): SecureContextOptions {
  return { cert: m.chainPem, key: m.keyPem, ca: m.rootsPem, minVersion: 'TLSv1.3' };
}
