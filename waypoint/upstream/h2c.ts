// HTTP/2 with prior knowledge (gRPC) to an endpoint, on node:http2 rather than undici: one multiplexed session per
// endpoint over the tunnel `connect()` opens. Why not undici: undici 8.12 ends an HTTP/2 request on the `trailers`
// event, which node:http2 emits synchronously when the frame is parsed, while `data` events of the same read are
// still queued for the next tick — so when HEADERS, DATA and trailers arrive together (as they do through an HBONE
// tunnel) the response body is dropped and gRPC clients see "No message received". Here the trailers are
// reported when the body has ended.
import http2 from 'node:http2';
import { Readable, type Duplex } from 'node:stream';
import type { Logger } from '../../shared/log.ts';
import { UpstreamConnectError, UpstreamTimeoutError, UpstreamCancelledError, UpstreamRequestInvalidError, type UpstreamError } from './errors.ts';
import type { EndpointRef } from './types.ts';

export interface H2cRequest {
  method: string;
  path: string;
  /** Already stripped of hop-by-hop headers; `host` becomes :authority. */
  headers: Record<string, string | string[]>;
  body: Readable | null;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface H2cResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: Readable;
  trailers: Promise<Record<string, string>>;
}

export interface H2cUpstreams {
  request(endpoint: EndpointRef, r: H2cRequest): Promise<H2cResponse>;
  active(endpointId: string): number;
  close(graceMs: number): Promise<void>;
}

export function createH2cUpstreams(o: {
  connect: (endpoint: EndpointRef, opts: { signal: AbortSignal }) => Promise<Duplex>;
  connectTimeoutMs: number;
  classify: (endpoint: string, err: unknown) => UpstreamError;
  cancelError: (endpoint: string, reason: unknown, timeoutMs: number | undefined) => UpstreamError;
  log: Logger;
}): H2cUpstreams {
  const sessions = new Map<string, Promise<http2.ClientHttp2Session>>();
  const active = new Map<string, number>();

  function session(ep: EndpointRef): Promise<http2.ClientHttp2Session> {
    const cached = sessions.get(ep.id);
    if (cached) return cached;
    const p = new Promise<http2.ClientHttp2Session>((resolve, reject) => {
      const ac = new AbortController();
      const timer = setTimeout(() => {
        const err = new UpstreamConnectError(ep.id, true);
        ac.abort(err);
        reject(err);
      }, o.connectTimeoutMs);
      o.connect(ep, { signal: ac.signal }).then((duplex) => {
        clearTimeout(timer);
        const s = http2.connect(`http://${ep.ip.includes(':') ? `[${ep.ip}]` : ep.ip}:${ep.port}`, {
          createConnection: () => duplex as never,
        });
        const forget = (): void => {
          if (sessions.get(ep.id) === p) sessions.delete(ep.id);
        };
        s.on('error', (err) => o.log.debug({ endpoint: ep.id, err: err.message }, 'h2c upstream session failed'));
        s.on('close', forget);
        s.on('goaway', forget);
        resolve(s);
      }, (cause: unknown) => {
        clearTimeout(timer);
        reject(cause instanceof UpstreamConnectError ? cause : new UpstreamConnectError(ep.id, false, { cause }));
      });
    });
    p.catch(() => {
      if (sessions.get(ep.id) === p) sessions.delete(ep.id);
    });
    sessions.set(ep.id, p);
    return p;
  }

  async function request(ep: EndpointRef, r: H2cRequest): Promise<H2cResponse> {
    const { host, ...rest } = r.headers;
    const bad = !/^[/*]/.test(r.path) ? `path ${JSON.stringify(r.path)}` : Object.entries(r.headers).find(([, v]) => /[\r\n\0]/.test(String(v)))?.[0];
    if (bad) throw new UpstreamRequestInvalidError(ep.id, { cause: new Error(`cannot send ${bad}: not a valid HTTP/2 value`) });
    const s = await session(ep);
    let stream: http2.ClientHttp2Stream;
    try {
      stream = s.request({ ':method': r.method, ':path': r.path, ':authority': String(host ?? `${ep.ip}:${ep.port}`), ...rest }, { endStream: r.body === null });
    } catch (err) {
      throw new UpstreamRequestInvalidError(ep.id, { cause: err });
    }
    active.set(ep.id, (active.get(ep.id) ?? 0) + 1);
    stream.once('close', () => {
      const n = (active.get(ep.id) ?? 1) - 1;
      if (n > 0) active.set(ep.id, n);
      else active.delete(ep.id);
    });
    if (r.body) {
      r.body.pipe(stream);
      r.body.once('error', () => stream.close(http2.constants.NGHTTP2_CANCEL));
    }
    return new Promise<H2cResponse>((resolve, reject) => {
      let settled = false;
      const fail = (err: UpstreamError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        r.signal?.removeEventListener('abort', onAbort);
        r.body?.unpipe(stream);
        if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
        reject(err);
      };
      const timer = r.timeoutMs ? setTimeout(() => fail(new UpstreamTimeoutError(ep.id, r.timeoutMs)), r.timeoutMs) : undefined;
      const onAbort = (): void => fail(o.cancelError(ep.id, r.signal?.reason, r.timeoutMs));
      r.signal?.addEventListener('abort', onAbort, { once: true });
      // node:http2 reports a reset as ERR_HTTP2_STREAM_ERROR; the classification needs the RST code.
      const asUpstream = (err: unknown): UpstreamError => o.classify(ep.id, Object.assign(err as object, { http2ErrorCode: stream.rstCode }));
      stream.on('error', (err) => fail(asUpstream(err)));
      stream.once('close', () => {
        if (!settled) fail(o.classify(ep.id, Object.assign(new Error(`stream closed with code ${stream.rstCode}`), { http2ErrorCode: stream.rstCode })));
      });
      stream.once('response', (h) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        let got: Record<string, string> = {};
        // The body as a plain Readable fed with backpressure (pause the stream when the consumer is full);
        // destroying it resets the upstream stream.
        const body = new Readable({
          highWaterMark: 64 * 1024,
          read() { stream.resume(); },
          destroy(err, cb) {
            if (!stream.destroyed && !stream.readableEnded) stream.close(http2.constants.NGHTTP2_CANCEL);
            cb(err);
          },
        });
        stream.on('data', (c: Buffer) => { if (!body.push(c)) stream.pause(); });
        const trailers = new Promise<Record<string, string>>((res, rej) => {
          stream.on('trailers', (t) => { got = record(t) as Record<string, string>; });
          stream.once('end', () => { body.push(null); res(got); });
          stream.once('error', (e) => {
            const err = asUpstream(e);
            body.destroy(err);
            rej(err);
          });
          stream.once('close', () => {
            if (stream.readableEnded) return res(got);
            const err = new UpstreamCancelledError(ep.id, { cause: new Error('stream closed before its end') });
            if (!body.destroyed) body.destroy(err);
            rej(err);
          });
        });
        trailers.catch(() => {});
        resolve({ status: Number(h[':status']), headers: record(h), body, trailers });
      });
    });
  }

  return {
    request,
    active: (id) => active.get(id) ?? 0,
    async close(graceMs) {
      const all = [...sessions.values()];
      sessions.clear();
      await Promise.all(all.map(async (p) => {
        const s = await p.catch(() => undefined);
        if (!s || s.destroyed) return;
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => { s.destroy(); resolve(); }, graceMs);
          s.close(() => { clearTimeout(t); resolve(); });
        });
      }));
    },
  };
}

function record(h: http2.IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !k.startsWith(':')) out[k] = Array.isArray(v) ? v : String(v);
  return out;
}
