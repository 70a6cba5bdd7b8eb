// HBONE server: the HTTP/2-over-mutual-TLS listener end of the tunnel (ztunnel's :15008). It authenticates the
// peer (its certificate must chain to our roots; its identity is the SPIFFE URI SAN), refuses anything but a
// CONNECT to `ip:port`, and hands accepted streams to onConnect, which answers with respondConnect (200) once its
// upstream is connected, or rejectConnect(status).
//
// Certificate rotation: `tls()` is asked before every new connection's handshake, and a changed answer replaces
// the server's secure context (setSecureContext), so existing connections keep their certificate and new ones get
// the current one. Keep tls() cheap (return the cached material).
import http2 from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { logger, type Logger } from '../log.ts';
import { errorMessage } from '../errors.ts';
import type { SpiffeId } from '../spiffe.ts';
import { parseAuthority, spiffeIdsOf } from './identity.ts';
import { H2_SETTINGS, MAX_SESSION_MEMORY_MB, SESSION_WINDOW, secureContextOptions, type TlsMaterial } from './tls.ts';

export interface HboneConnectInfo {
  peerIdentity: SpiffeId;
  /** The CONNECT target, `ip:port` as sent. */
  authority: string;
  /** Parsed authority. */
  target: { host: string; port: number };
  headers: http2.IncomingHttpHeaders;
  /** Address of the HBONE peer (the source node's or pod's IP), not the original client. */
  remoteAddress: string;
}

export interface HboneServerOptions {
  tls: () => TlsMaterial;
  onConnect: (stream: http2.ServerHttp2Stream, info: HboneConnectInfo) => void;
  log?: Logger;
}

const sameMaterial = (a: TlsMaterial, b: TlsMaterial): boolean =>
  a === b || (a.chainPem === b.chainPem && a.keyPem === b.keyPem && a.rootsPem === b.rootsPem);

/**
 * The HBONE listener's server. refreshTls() applies tls()'s current answer now rather than at the next accept.
 * goAway() sends a GOAWAY on every open session: peers open no new streams on it (they dial again, reaching a
 * successor listening on the same port) while the streams it carries finish. Call it with close() to drain.
 */
export type HboneServer = http2.Http2SecureServer & { refreshTls(): void; goAway(): void };

/** Not listening yet: pass it to SocketFactory.listen({ server }). */
export function createHboneServer(o: HboneServerOptions): HboneServer {
  const log = o.log ?? logger('ztunnel.hbone');
  let current = o.tls();
  const server = http2.createSecureServer({
    ...secureContextOptions(current),
    requestCert: true,
    rejectUnauthorized: true,
    ALPNProtocols: ['h2'],
    allowHTTP1: false,
    settings: H2_SETTINGS,
    maxSessionMemory: MAX_SESSION_MEMORY_MB,
  });
  const refreshTls = (): void => {
    let next: TlsMaterial;
    try {
      next = o.tls();
    } catch (err) {
      log.warn({ err: errorMessage(err) }, 'hbone certificate source failed; keeping the previous certificate');
      return;
    }
    if (sameMaterial(next, current)) return;
    try {
      server.setSecureContext(secureContextOptions(next));
      current = next;
      log.info('hbone server certificate replaced');
    } catch (err) {
      log.warn({ err: errorMessage(err) }, 'new hbone certificate unusable; keeping the previous one');
    }
  };
  // Runs before the TLS server's own 'connection' listener, which captures the secure context for the handshake.
  server.prependListener('connection', refreshTls);
  const identities = new WeakMap<http2.Http2Session, SpiffeId | null>();
  const sessions = new Set<http2.ServerHttp2Session>();
  const goAway = (): void => {
    for (const s of sessions) if (!s.closed && !s.destroyed) s.close();
  };
  server.on('session', (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    session.on('error', (err) => log.debug({ err: errorMessage(err) }, 'hbone session failed'));
    try {
      session.setLocalWindowSize(SESSION_WINDOW);
    } catch (err) {
      log.debug({ err: errorMessage(err) }, 'could not widen hbone session window');
    }
  });
  server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
    log.debug({ err: errorMessage(err), remote: socket.remoteAddress }, 'hbone tls handshake failed');
  });
  server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    stream.on('error', (err) => log.debug({ err: errorMessage(err) }, 'hbone stream failed'));
    const session = stream.session;
    if (!session) return;
    if (headers[':method'] !== 'CONNECT') return rejectConnect(stream, 405);
    const authority = headers[':authority'];
    const target = parseAuthority(authority);
    if (!target || !authority) return rejectConnect(stream, 400);
    let peerIdentity = identities.get(session);
    if (peerIdentity === undefined) {
      const socket = session.socket as TLSSocket;
      peerIdentity = spiffeIdsOf(socket.getPeerCertificate()?.subjectaltname)[0] ?? null;
      identities.set(session, peerIdentity);
    }
    if (!peerIdentity) {
      log.warn({ remote: session.socket?.remoteAddress }, 'hbone peer certificate has no spiffe identity; refused');
      return rejectConnect(stream, 401);
    }
    o.onConnect(stream, { peerIdentity, authority, target, headers, remoteAddress: session.socket?.remoteAddress ?? '' });
  });
  return Object.assign(server, { refreshTls, goAway });
}

/** Accept the tunnel: bytes flow both ways from now on. */
export function respondConnect(stream: http2.ServerHttp2Stream): void {
  if (!stream.destroyed && !stream.headersSent) stream.respond({ ':status': 200 });
}

/** Refuse the tunnel with `status` (403 denied by policy, 503 upstream unreachable, ...). */
export function rejectConnect(stream: http2.ServerHttp2Stream, status: number): void {
  if (!stream.destroyed && !stream.headersSent) stream.respond({ ':status': status }, { endStream: true });
  else stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
}
