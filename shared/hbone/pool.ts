// HBONE client: a pool of mutual-TLS HTTP/2 connections, one or more per pool key (source identity, destination
// identity, destination address), each carrying up to maxStreamsPerConnection CONNECT streams.
//
// - Concurrent opens for a key share one dial; latecomers that do not fit choose again (see choose.ts).
// - The server must chain to our roots and present exactly the identity the route expects; we check both
//   ourselves after the handshake (rejectUnauthorized: false + a no-op checkServerIdentity), so the error can name
//   what the peer presented. Nothing is written on the connection before that check passes.
// - A connection leaves the pool on GOAWAY, error or close, and closes itself after idleTimeoutMs without streams.
// - A stream the peer refused unprocessed (REFUSED_STREAM, e.g. one that crossed its GOAWAY) is sent again on
//   another connection, up to MAX_REFUSED times per open.
import http2 from 'node:http2';
import tls from 'node:tls';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { logger, type Logger } from '../log.ts';
import { errorMessage } from '../errors.ts';
import type { SpiffeId } from '../spiffe.ts';
import { chooseConnection } from './choose.ts';
import { HboneConnectError, HbonePoolClosedError, HboneRejectedError, HboneStreamRefusedError, HboneTlsError } from './errors.ts';
import { spiffeIdsOf } from './identity.ts';
import { H2_SETTINGS, MAX_SESSION_MEMORY_MB, SESSION_WINDOW, secureContextOptions, type TlsMaterial } from './tls.ts';

export interface HbonePoolOptions {
  maxStreamsPerConnection?: number;
  idleTimeoutMs?: number;
  /** TLS handshake + HTTP/2 setup deadline for a new connection. */
  handshakeTimeoutMs?: number;
  log?: Logger;
}

export interface HboneOpenRequest {
  /** `source identity|dest identity|dest address` (add the source IP when it is not implied by the identity). */
  poolKey: string;
  /** Raw TCP to <ip>:15008, from the right SocketFactory; called only when the pool needs a new connection. */
  dial: () => Promise<net.Socket>;
  tls: TlsMaterial;
  expectedIdentity: SpiffeId;
  /** `<target ip>:<port>` */
  authority: string;
  /** Extra request headers: forwarded, baggage, traceparent. */
  headers: Record<string, string>;
  signal?: AbortSignal;
}

export interface HboneConnectionInfo {
  key: string;
  peerIdentity: SpiffeId;
  /** host:port of the HBONE peer. */
  peer: string;
  activeStreams: number;
  ageMs: number;
  draining: boolean;
}

interface Conn {
  key: string;
  session: http2.ClientHttp2Session;
  peerIdentity: SpiffeId;
  peer: string;
  createdAt: number;
  active: number;
  draining: boolean;
  idleTimer: NodeJS.Timeout | undefined;
}

const noop = (): void => {};
/** Refused streams sent again per open before the refusal is the caller's. */
const MAX_REFUSED = 3;

export class HbonePool {
  readonly #maxStreams: number;
  readonly #idleTimeoutMs: number;
  readonly #handshakeTimeoutMs: number;
  readonly #log: Logger;
  /** Live connections by pool key, draining ones included until they close (dump shows them). */
  readonly #conns = new Map<string, Conn[]>();
  /** The dial in flight per pool key; settles when its connection is in #conns (or failed). */
  readonly #dials = new Map<string, Promise<void>>();
  #closed = false;

  constructor(o: HbonePoolOptions = {}) {
    this.#maxStreams = o.maxStreamsPerConnection ?? 100;
    this.#idleTimeoutMs = o.idleTimeoutMs ?? 60_000;
    this.#handshakeTimeoutMs = o.handshakeTimeoutMs ?? 10_000;
    this.#log = o.log ?? logger('ztunnel.hbone');
  }

  /** A CONNECT stream the peer accepted with 200. Errors on it never crash the process; listen for them. */
  async open(req: HboneOpenRequest): Promise<Duplex> {
    // Waiting on other opens' dials is unbounded (under contention each dial serves maxStreams waiters, the rest
    // choose again); our own dials are bounded, in case connections keep closing as soon as they open.
    for (let ownDials = 0, refused = 0; ownDials < 3;) {
      if (this.#closed) throw new HbonePoolClosedError();
      req.signal?.throwIfAborted();
      const list = this.#conns.get(req.poolKey) ?? [];
      const choice = chooseConnection(list.map((c) => this.#view(c)), this.#dials.has(req.poolKey));
      if ('use' in choice) {
        const conn = list[choice.use]!;
        try {
          return await this.#request(conn, req);
        } catch (err) {
          if (!(err instanceof HboneStreamRefusedError) || ++refused > MAX_REFUSED) throw err;
          // Unprocessed by the peer, so safe to send again; this connection takes no more (its GOAWAY may still be
          // on the way).
          this.#log.debug({ poolKey: req.poolKey, peer: conn.peer }, 'hbone stream refused; opening it again');
          conn.draining = true;
          continue;
        }
      }
      let dial = this.#dials.get(req.poolKey);
      if (!dial) {
        ownDials++;
        dial = this.#dial(req);
        this.#dials.set(req.poolKey, dial);
        const forget = (): void => {
          if (this.#dials.get(req.poolKey) === dial) this.#dials.delete(req.poolKey);
        };
        dial.then(forget, forget);
      }
      await abortable(dial, req.signal);
    }
    throw new HboneConnectError(`could not get a usable hbone connection for ${req.authority}; connections keep closing as they open`);
  }

  dump(): HboneConnectionInfo[] {
    const now = Date.now();
    return [...this.#conns.values()].flat().map((c) => ({
      key: c.key, peerIdentity: c.peerIdentity, peer: c.peer, activeStreams: c.active, ageMs: now - c.createdAt, draining: c.draining,
    }));
  }

  /** Refuse new opens, let streams finish for up to graceMs, then destroy what is left. */
  async close(graceMs = 5_000): Promise<void> {
    this.#closed = true;
    const all = [...this.#conns.values()].flat();
    await Promise.all(all.map((c) => new Promise<void>((resolve) => {
      if (c.session.destroyed) return resolve();
      c.session.once('close', () => resolve());
      clearTimeout(c.idleTimer);
      c.draining = true;
      c.session.close();
      setTimeout(() => c.session.destroy(), graceMs).unref();
    })));
  }

  #view(c: Conn): { active: number; maxStreams: number; draining: boolean } {
    const peerMax = c.session.remoteSettings?.maxConcurrentStreams ?? Infinity;
    return { active: c.active, maxStreams: Math.min(this.#maxStreams, peerMax), draining: c.draining || c.session.closed || c.session.destroyed };
  }

  async #dial(req: HboneOpenRequest): Promise<void> {
    const raw = await req.dial();
    const peer = `${raw.remoteAddress}:${raw.remotePort}`;
    const log = this.#log.child({ hbonePeer: peer, poolKey: req.poolKey });
    // Destroying the TLS socket also fails the session built on it, with this error.
    const timer = setTimeout(() => {
      socket.destroy(new HboneTlsError(`tls or http/2 handshake with ${peer} (${req.expectedIdentity}) timed out after ${this.#handshakeTimeoutMs} ms`));
    }, this.#handshakeTimeoutMs);
    // TLS and HTTP/2 have no TCP half-close: a peer's FIN must end the session (the factory's sockets are half-open
    // for splicing, and a TLSSocket inherits that from the socket it wraps).
    raw.allowHalfOpen = false;
    const socket = tls.connect({
      socket: raw,
      ...secureContextOptions(req.tls),
      ALPNProtocols: ['h2'],
      // Verified below, with errors that say what the peer presented.
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('secureConnect', () => {
          socket.off('error', reject);
          resolve();
        });
        socket.once('error', reject);
      });
    } catch (err) {
      clearTimeout(timer);
      socket.destroy();
      throw err instanceof HboneTlsError ? err : new HboneTlsError(`tls handshake with ${peer} (${req.expectedIdentity}) failed: ${errorMessage(err)}`, err);
    }
    const ids = spiffeIdsOf(socket.getPeerCertificate()?.subjectaltname);
    const presented = ids.length ? ids.join(', ') : 'no spiffe identity';
    let refusal: string | undefined;
    if (!socket.authorized) {
      refusal = `${peer} presented ${presented} with a certificate our roots do not trust (${String(socket.authorizationError)}); do both sides share the mesh root?`;
    } else if (!ids.includes(req.expectedIdentity)) {
      refusal = `${peer} presented ${presented}, expected ${req.expectedIdentity}; the destination is not the workload the route names`;
    } else if (socket.alpnProtocol !== 'h2') {
      refusal = `${peer} (${presented}) did not negotiate http/2 (alpn ${String(socket.alpnProtocol)}); is port 15008 an hbone server?`;
    }
    if (refusal) {
      clearTimeout(timer);
      socket.destroy();
      throw new HboneTlsError(refusal);
    }
    const s = http2.connect(`https://${peer}`, {
      createConnection: () => socket,
      settings: H2_SETTINGS,
      maxSessionMemory: MAX_SESSION_MEMORY_MB,
    });
    // Up once the server's first SETTINGS arrived: it proves the server accepted our certificate (TLS 1.3 checks it
    // after our side of the handshake completed; a refusing Node server just closes), and it carries the peer's
    // stream limit, which the pool needs before it packs streams onto the connection. Costs one round trip per
    // new connection, not per stream.
    try {
      await new Promise<void>((resolve, reject) => {
        const cleanup = (): void => {
          s.off('remoteSettings', onSettings);
          s.off('error', onError);
          s.off('close', onClose);
        };
        const onSettings = (): void => {
          cleanup();
          resolve();
        };
        const onError = (err: Error): void => {
          cleanup();
          reject(err);
        };
        const onClose = (): void => {
          cleanup();
          reject(new HboneTlsError(`${peer} (${presented}) closed the connection before speaking http/2; it most likely refused our certificate: is it signed by a root the peer trusts?`));
        };
        s.once('remoteSettings', onSettings);
        s.once('error', onError);
        s.once('close', onClose);
      });
    } catch (err) {
      s.destroy();
      throw err instanceof HboneTlsError ? err : mapStreamError(err, peer, req.expectedIdentity);
    } finally {
      clearTimeout(timer);
    }
    s.setLocalWindowSize(SESSION_WINDOW);
    const conn: Conn = {
      key: req.poolKey, session: s, peerIdentity: req.expectedIdentity, peer,
      createdAt: Date.now(), active: 0, draining: false, idleTimer: undefined,
    };
    const list = this.#conns.get(req.poolKey) ?? [];
    list.push(conn);
    this.#conns.set(req.poolKey, list);
    s.on('goaway', (code: number) => {
      log.debug({ code }, 'hbone connection got goaway; no new streams on it');
      conn.draining = true;
    });
    s.on('error', (err: Error) => {
      log.debug({ err: errorMessage(err) }, 'hbone connection failed');
      conn.draining = true;
    });
    s.once('close', () => {
      clearTimeout(conn.idleTimer);
      const l = this.#conns.get(conn.key);
      const i = l?.indexOf(conn) ?? -1;
      if (l && i >= 0) l.splice(i, 1);
      if (l?.length === 0) this.#conns.delete(conn.key);
    });
    log.debug({ peerIdentity: conn.peerIdentity }, 'hbone connection up');
    this.#armIdle(conn);
  }

  #armIdle(conn: Conn): void {
    clearTimeout(conn.idleTimer);
    if (conn.active > 0) return;
    conn.idleTimer = setTimeout(() => {
      if (conn.active > 0) return;
      conn.draining = true;
      conn.session.close();
    }, this.#idleTimeoutMs);
    conn.idleTimer.unref();
  }

  #request(conn: Conn, req: HboneOpenRequest): Promise<Duplex> {
    conn.active++;
    clearTimeout(conn.idleTimer);
    let stream: http2.ClientHttp2Stream;
    try {
      stream = conn.session.request(
        { ...req.headers, ':method': 'CONNECT', ':authority': req.authority },
        { endStream: false },
      );
    } catch (err) {
      // e.g. ERR_HTTP2_OUT_OF_STREAMS (stream ids exhausted) or a session that just closed.
      conn.active--;
      conn.draining = true;
      this.#armIdle(conn);
      return Promise.reject(new HboneConnectError(`cannot open a stream to ${conn.peer}: ${errorMessage(err)}`, err));
    }
    stream.on('error', noop); // the caller listens too once it has the stream; this keeps an early error from crashing
    stream.once('close', () => {
      conn.active--;
      this.#armIdle(conn);
    });
    return new Promise<Duplex>((resolve, reject) => {
      const cleanup = (): void => {
        stream.off('response', onResponse);
        stream.off('error', onError);
        stream.off('close', onClose);
        req.signal?.removeEventListener('abort', onAbort);
      };
      const onResponse = (headers: http2.IncomingHttpHeaders): void => {
        cleanup();
        const status = Number(headers[':status']);
        if (status === 200) return resolve(stream);
        stream.close(http2.constants.NGHTTP2_CANCEL);
        reject(new HboneRejectedError(req.authority, status));
      };
      const onError = (err: Error): void => {
        cleanup();
        reject(stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM
          ? new HboneStreamRefusedError(`hbone stream to ${req.authority} was refused by ${conn.peer} (REFUSED_STREAM)`, err)
          : mapStreamError(err, conn.peer, conn.peerIdentity));
      };
      const onClose = (): void => {
        cleanup();
        const message = `hbone stream to ${req.authority} via ${conn.peer} closed before a response (rst code ${stream.rstCode})`;
        reject(stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM ? new HboneStreamRefusedError(message) : new HboneConnectError(message));
      };
      const onAbort = (): void => {
        cleanup();
        stream.close(http2.constants.NGHTTP2_CANCEL);
        reject(req.signal?.reason);
      };
      stream.once('response', onResponse);
      stream.once('error', onError);
      stream.once('close', onClose);
      req.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** TLS alerts arrive after our handshake completed (TLS 1.3 checks the client certificate late): name them. */
function mapStreamError(err: unknown, peer: string, identity: SpiffeId): Error {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && code.startsWith('ERR_SSL_')) {
    return new HboneTlsError(`${peer} (${identity}) refused our certificate: ${errorMessage(err)}; do both sides share the mesh root?`, err);
  }
  return new HboneConnectError(`hbone connection to ${peer} (${identity}) failed: ${errorMessage(err)}`, err);
}

function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
