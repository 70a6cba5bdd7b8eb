// Sends HTTP requests to endpoints over tunnel streams. HTTP/1.1: one undici Pool per (endpoint, pool settings),
// whose connector calls the proxy's `connect(endpoint)` and hands undici the Duplex it returns (never a socket
// undici dials itself: the bytes must go through the HBONE tunnel). HTTP/2 with prior knowledge (gRPC): h2c.ts, on
// node:http2, because undici 8.12's HTTP/2 client loses response DATA that arrives together with the trailers.
//
// Why undici works on a plain Duplex: its HTTP/1 client only reads, writes, corks and listens on its socket;
// ref/unref/setTypeOfService are called only when present.
//
// - Uses the low-level `dispatch` API: response bodies are Readables fed with backpressure (the handler pauses
//   undici when push() returns false), trailers arrive, request bodies stream in.
// - The caller's request body is piped, not handed over: undici destroys its body stream when a request fails,
//   and the caller's (the downstream request) must survive an upstream failure to be answered with a 503.
// - Failures are typed (errors.ts): connect failure, reset, refused stream, timeout, protocol error, cancelled.
//   Before response headers `request()` rejects with them; after, the body stream errors and `trailers` rejects.
// - undici's own timeouts are off (long gRPC streams, slow bodies); `timeoutMs` bounds the wait for headers.
// - HTTP/2 ignores maxRequestsPerConnection and maxConnections (one multiplexed session per endpoint).
import { PassThrough, Readable, type Duplex } from 'node:stream';
import { Pool, type buildConnector, type Dispatcher } from 'undici';
import type { Logger } from '../../shared/log.ts';
import { silent } from '../../shared/log.ts';
import {
  UpstreamCancelledError, UpstreamConnectError, UpstreamError, UpstreamProtocolError, UpstreamRefusedStreamError,
  UpstreamRequestInvalidError, UpstreamResetError, UpstreamTimeoutError,
} from './errors.ts';
import type { EndpointRef, UpstreamProtocol } from './types.ts';
import { createH2cUpstreams } from './h2c.ts';

/** Opens a plaintext byte stream to the app behind `endpoint` (an HBONE tunnel stream). */
export type ConnectFn = (endpoint: EndpointRef, opts: { signal: AbortSignal }) => Promise<Duplex>;

export interface UpstreamsOptions {
  connect: ConnectFn;
  log?: Logger;
  /** Default connect timeout (Istio's mesh default: 10 s). */
  connectTimeoutMs?: number;
  /** A pool unused for this long is closed (endpoints come and go). Default 5 min. */
  evictIdleMs?: number;
}

export interface UpstreamRequest {
  /** Upper-case. */
  method: string;
  /** Path with query. */
  path: string;
  /** Lower-case names; `host` becomes :authority on HTTP/2. Hop-by-hop and pseudo headers are dropped here. */
  headers: Record<string, string | string[] | undefined>;
  body: Readable | null;
  signal?: AbortSignal;
  /** Time allowed until response headers (per-try timeout); absent: none. */
  timeoutMs?: number;
  maxRequestsPerConnection?: number;
  maxConnections?: number;
  connectTimeoutMs?: number;
  /** Upstream idle connection timeout (ConnectionPool.idleTimeoutMs); default undici's keep-alive handling. */
  idleTimeoutMs?: number;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[]>;
  /** Must be consumed or destroyed; destroying it early resets the upstream request. */
  body: Readable;
  /** Resolves when the body ended ({} without trailers); rejects with the body's error. */
  trailers: Promise<Record<string, string>>;
}

export interface Upstreams {
  request(endpoint: EndpointRef, protocol: UpstreamProtocol, opts: UpstreamRequest): Promise<UpstreamResponse>;
  /** Requests in flight to an endpoint (for LEAST_REQUEST). */
  active(endpointId: string): number;
  /** Closes every pool: in-flight requests get `graceMs` to finish, then are reset. */
  close(graceMs?: number): Promise<void>;
}

/** Never forwarded: connection-specific (RFC 9110 §7.6.1) or rebuilt by the client. */
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings', 'expect',
]);
const NGHTTP2_REFUSED_STREAM = 7;

interface PoolEntry {
  pool: Pool;
  inflight: number;
  lastUsed: number;
}

export function createUpstreams(options: UpstreamsOptions): Upstreams {
  const log = options.log ?? silent;
  const pools = new Map<string, PoolEntry>();
  const activeByEndpoint = new Map<string, number>();
  let closed = false;
  const evictIdleMs = options.evictIdleMs ?? 300_000;

  const sweeper = setInterval(() => {
    const cutoff = Date.now() - evictIdleMs;
    for (const [key, e] of pools) {
      if (e.inflight > 0 || e.lastUsed > cutoff) continue;
      pools.delete(key);
      e.pool.close().catch(() => {});
    }
  }, Math.max(1000, Math.min(60_000, evictIdleMs))).unref();

  function connector(endpoint: EndpointRef, protocol: UpstreamProtocol, timeoutMs: number): buildConnector.connector {
    return (_opts, callback) => {
      const ac = new AbortController();
      let settled = false;
      const finish = (err: Error | null, stream?: Duplex): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) (callback as (e: Error, s: null) => void)(err, null);
        else (callback as (e: null, s: unknown) => void)(null, stream);
      };
      const timer = setTimeout(() => {
        const err = new UpstreamConnectError(endpoint.id, true);
        ac.abort(err);
        finish(err);
      }, timeoutMs);
      options.connect(endpoint, { signal: ac.signal }).then(
        (stream) => {
          if (settled) {
            stream.destroy();
            return;
          }
          finish(null, stream);
        },
        (cause: unknown) => finish(cause instanceof UpstreamConnectError ? cause : new UpstreamConnectError(endpoint.id, false, { cause })),
      );
    };
  }

  function poolFor(endpoint: EndpointRef, protocol: UpstreamProtocol, o: UpstreamRequest): PoolEntry {
    const connectTimeoutMs = o.connectTimeoutMs ?? options.connectTimeoutMs ?? 10_000;
    const key = [protocol, endpoint.id, o.maxConnections ?? '', o.maxRequestsPerConnection ?? '', connectTimeoutMs, o.idleTimeoutMs ?? ''].join('|');
    let e = pools.get(key);
    if (!e) {
      const origin = `http://${endpoint.ip.includes(':') ? `[${endpoint.ip}]` : endpoint.ip}:${endpoint.port}`;
      const pool = new Pool(origin, {
        connect: connector(endpoint, protocol, connectTimeoutMs),
        connections: o.maxConnections && o.maxConnections > 0 ? o.maxConnections : null,
        headersTimeout: 0,
        bodyTimeout: 0,
        ...(o.maxRequestsPerConnection ? { maxRequestsPerClient: o.maxRequestsPerConnection } : {}),
        ...(o.idleTimeoutMs ? { keepAliveTimeout: o.idleTimeoutMs, keepAliveMaxTimeout: o.idleTimeoutMs } : {}),
        allowH2: false,
      });
      const plog = log.child({ endpoint: endpoint.id, protocol });
      pool.on('connect', () => plog.debug('upstream connection up'));
      pool.on('disconnect', (_o, _t, err) => plog.debug({ err: err?.message }, 'upstream connection closed'));
      pool.on('connectionError', (_o, _t, err) => plog.debug({ err: err?.message }, 'upstream connection failed'));
      e = { pool, inflight: 0, lastUsed: Date.now() };
      pools.set(key, e);
    }
    return e;
  }

  const h2c = createH2cUpstreams({ connect: options.connect, connectTimeoutMs: options.connectTimeoutMs ?? 10_000, classify, cancelError, log });

  function request(endpoint: EndpointRef, protocol: UpstreamProtocol, o: UpstreamRequest): Promise<UpstreamResponse> {
    if (closed) return Promise.reject(new UpstreamCancelledError(endpoint.id, { cause: new Error('upstreams closed') }));
    if (o.signal?.aborted) return Promise.reject(cancelError(endpoint.id, o.signal.reason, o.timeoutMs));
    if (protocol === 'h2c') {
      return h2c.request(endpoint, {
        method: o.method, path: o.path, headers: forwardHeaders(o.headers, 'h2c'), body: o.body,
        ...(o.signal ? { signal: o.signal } : {}), ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
      });
    }
    const entry = poolFor(endpoint, protocol, o);
    entry.inflight++;
    entry.lastUsed = Date.now();
    activeByEndpoint.set(endpoint.id, (activeByEndpoint.get(endpoint.id) ?? 0) + 1);

    return new Promise<UpstreamResponse>((resolve, reject) => {
      let controller: Dispatcher.DispatchController | undefined;
      let body: Readable | undefined;
      /** Set once the exchange is decided from our side (abort, timeout, body failure). */
      let failure: UpstreamError | undefined;
      let done = false;
      let resolveTrailers!: (t: Record<string, string>) => void;
      let rejectTrailers!: (e: Error) => void;
      const trailers = new Promise<Record<string, string>>((res, rej) => {
        resolveTrailers = res;
        rejectTrailers = rej;
      });
      trailers.catch(() => {}); // a caller that ignores trailers must not crash the process

      const upload = o.body ? new PassThrough({ highWaterMark: 64 * 1024 }) : null;
      const onBodyError = (err: Error): void => fail(new UpstreamCancelledError(endpoint.id, { cause: err }));
      if (o.body && upload) {
        o.body.on('error', onBodyError);
        o.body.pipe(upload);
      }

      const timer = o.timeoutMs !== undefined && o.timeoutMs > 0
        ? setTimeout(() => fail(new UpstreamTimeoutError(endpoint.id, o.timeoutMs)), o.timeoutMs)
        : undefined;
      const onAbort = (): void => fail(cancelError(endpoint.id, o.signal!.reason, o.timeoutMs));
      o.signal?.addEventListener('abort', onAbort, { once: true });

      function cleanup(): void {
        if (done) return;
        done = true;
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
        if (o.body && upload) {
          o.body.unpipe(upload);
          o.body.off('error', onBodyError);
          // Answered before the whole body was sent: end undici's body writer, which would wait for more.
          if (!upload.writableFinished) upload.destroy();
        }
        entry.inflight--;
        entry.lastUsed = Date.now();
        const n = (activeByEndpoint.get(endpoint.id) ?? 1) - 1;
        if (n > 0) activeByEndpoint.set(endpoint.id, n);
        else activeByEndpoint.delete(endpoint.id);
      }

      /** Ends the exchange with `err` from our side; undici then reports it through onResponseError. */
      function fail(err: UpstreamError): void {
        if (done || failure) return;
        failure = err;
        if (controller) controller.abort(err);
        // Not started yet (connecting or queued in the pool): answer now; onRequestStart aborts it later.
        if (!body) reject(err);
      }

      const handler: Dispatcher.DispatchHandler = {
        onRequestStart(c) {
          controller = c;
          if (failure) c.abort(failure);
        },
        onResponseStart(c, status, headers) {
          if (status < 200) return; // 1xx: informational, not forwarded
          clearTimeout(timer);
          body = new Readable({
            highWaterMark: 64 * 1024,
            read() {
              c.resume();
            },
            destroy(err, cb) {
              // The consumer gave up before the end: reset the upstream request.
              if (!done) fail(err instanceof UpstreamError ? err : new UpstreamCancelledError(endpoint.id, { cause: err ?? undefined }));
              cb(err);
            },
          });
          resolve({ status, headers: headerRecord(headers), body, trailers });
        },
        onResponseData(c, chunk) {
          if (body && !body.push(chunk)) c.pause();
        },
        onResponseEnd(_c, raw) {
          cleanup();
          resolveTrailers(trailerRecord(raw));
          body?.push(null);
        },
        onResponseError(_c, err) {
          cleanup();
          const e = failure ?? classify(endpoint.id, err);
          if (!body) {
            upload?.destroy();
            reject(e);
            return;
          }
          rejectTrailers(e);
          if (!body.destroyed) body.destroy(e);
        },
      };

      try {
        entry.pool.dispatch({
          path: o.path,
          method: o.method as Dispatcher.HttpMethod,
          headers: forwardHeaders(o.headers, protocol),
          body: upload,
          headersTimeout: 0,
          bodyTimeout: 0,
        }, handler);
      } catch (err) {
        cleanup();
        upload?.destroy();
        reject(new UpstreamRequestInvalidError(endpoint.id, { cause: err }));
      }
    });
  }

  return {
    request,
    active: (id) => (activeByEndpoint.get(id) ?? 0) + h2c.active(id),
    async close(graceMs = 5000) {
      closed = true;
      await h2c.close(graceMs);
      clearInterval(sweeper);
      const all = [...pools.values()];
      pools.clear();
      await Promise.all(all.map(async ({ pool }) => {
        let t: NodeJS.Timeout | undefined;
        const grace = new Promise<'late'>((res) => { t = setTimeout(res, graceMs, 'late'); });
        const r = await Promise.race([pool.close().then(() => 'closed' as const, () => 'closed' as const), grace]);
        clearTimeout(t);
        if (r === 'late') await pool.destroy().catch(() => {});
      }));
    },
  };
}

function forwardHeaders(h: UpstreamRequest['headers'], protocol: UpstreamProtocol): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  // Headers named by Connection are hop-by-hop too.
  const conn = h.connection;
  let named: Set<string> | undefined;
  if (conn) {
    named = new Set();
    for (const v of Array.isArray(conn) ? conn : [conn]) for (const t of v.split(',')) named.add(t.trim().toLowerCase());
  }
  for (const k in h) {
    const v = h[k];
    if (v === undefined || k.charCodeAt(0) === 58 /* : */) continue;
    const name = k.toLowerCase();
    if (HOP_BY_HOP.has(name) || named?.has(name)) continue;
    // HTTP/2 allows only `te: trailers` (gRPC needs it); HTTP/1.1 passes TE through.
    if (name === 'te' && protocol === 'h2c') {
      if (String(v).toLowerCase().includes('trailers')) out.te = 'trailers';
      continue;
    }
    out[name] = v;
  }
  return out;
}

function headerRecord(h: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !k.startsWith(':')) out[k] = v;
  return out;
}

function trailerRecord(h: Record<string, string | string[] | undefined> | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) if (v !== undefined && !k.startsWith(':')) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function cancelError(endpoint: string, reason: unknown, timeoutMs: number | undefined): UpstreamError {
  if (reason instanceof UpstreamError) return reason;
  // AbortSignal.timeout() aborts with a TimeoutError DOMException: the caller's per-try timeout.
  if (reason instanceof Error && reason.name === 'TimeoutError') return new UpstreamTimeoutError(endpoint, timeoutMs, { cause: reason });
  return new UpstreamCancelledError(endpoint, { cause: reason });
}

/** Maps what undici and node:http2 report onto the catalogue. */
export function classify(endpoint: string, err: unknown): UpstreamError {
  if (err instanceof UpstreamError) return err;
  const e = err as { code?: string; name?: string; http2ErrorCode?: number; message?: string } | undefined;
  const code = e?.code ?? '';
  if (e?.http2ErrorCode === NGHTTP2_REFUSED_STREAM || code === 'ERR_HTTP2_GOAWAY_SESSION') {
    return new UpstreamRefusedStreamError(endpoint, { cause: err });
  }
  // undici validates the request before sending anything (header values, method).
  if (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_NOT_SUPPORTED') return new UpstreamRequestInvalidError(endpoint, { cause: err });
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return new UpstreamTimeoutError(endpoint, undefined, { cause: err });
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return new UpstreamConnectError(endpoint, true, { cause: err });
  if (code.startsWith('HPE_') || e?.name === 'HTTPParserError' || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH'
    || code === 'ERR_HTTP2_PROTOCOL_ERROR' || code === 'UND_ERR_HEADERS_OVERFLOW') {
    return new UpstreamProtocolError(endpoint, { cause: err });
  }
  // The downstream body ended short of its content-length: the client went away mid-upload.
  if (code === 'UND_ERR_ABORTED' || code === 'UND_ERR_DESTROYED' || code === 'UND_ERR_CLOSED' || code === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH') {
    return new UpstreamCancelledError(endpoint, { cause: err });
  }
  return new UpstreamResetError(endpoint, { cause: err });
}
