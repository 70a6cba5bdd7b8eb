// HTTP/1.1 protocol upgrades (WebSocket and any other token but h2c) through the waypoint, as Envoy's HTTP connection
// manager does with `upgrade_configs: websocket`. The tunnel's HTTP/1.1 server hands an upgrade request over with its
// raw socket (`adoptUpgrade`); the request handler runs it through the ordinary pipeline, so a refusal (401, 403,
// 404, 429, fault) is an ordinary HTTP response on that socket, then opens a fresh connection to the chosen endpoint
// and sends the request there (`requestUpgrade`). A 101 answer is written back raw and both sides are spliced
// (`switchProtocols`); any other answer is relayed as a normal response and the connection closes.
//
// `h2c` is never proxied as an upgrade (Envoy refuses to forward it): such a request is served as a plain HTTP/1.1
// request with its hop-by-hop Upgrade header dropped, as before.
import http from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { finished } from 'node:stream/promises';
import { splice } from '../../shared/hbone/index.ts';
import { SpliceError } from '../../shared/hbone/errors.ts';
import { MeshError, errorMessage } from '../../shared/errors.ts';
import type { UpstreamResponse } from '../upstream/dispatcher.ts';

type Headers = Record<string, string | string[] | undefined>;

const tokens = (v: string | string[] | undefined): string[] =>
  [v ?? []].flat().flatMap((s) => s.split(',')).map((s) => s.trim().toLowerCase()).filter(Boolean);

/** Pure: whether a request asks for a protocol switch the waypoint proxies (Connection lists `upgrade`; not h2c). */
export function wantsUpgrade(headers: http.IncomingHttpHeaders): boolean {
  const upgrade = tokens(headers.upgrade);
  return tokens(headers.connection).includes('upgrade') && upgrade.length > 0 && !upgrade.some((p) => p === 'h2c' || p.startsWith('h2c/'));
}

/** The hop-by-hop headers an upgrade keeps on its way through (the rest are dropped like for any request). */
export function upgradeHeaders(headers: http.IncomingHttpHeaders): { connection: string; upgrade: string } {
  return { connection: 'upgrade', upgrade: [headers.upgrade ?? []].flat().join(', ') };
}

/** Requests handed over by the HTTP/1.1 server's 'upgrade' event, with the raw socket their response is written on. */
const adopted = new WeakMap<object, { socket: Duplex; onDrain: () => void }>();

export function isUpgrade(req: object): boolean {
  return adopted.has(req);
}

/**
 * Called from the server's 'upgrade' event: the bytes that came after the request head go back to the socket (they
 * are the client's first upgraded bytes), and a ServerResponse on the socket answers the request unless it switches
 * protocols. Such an answer is the connection's last: the socket ends once it is written.
 */
export function adoptUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): http.ServerResponse {
  if (head.length) socket.unshift(head);
  // The server took its error listener off with the socket; a client's reset now surfaces as 'close'.
  socket.on('error', () => {});
  const res = new http.ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket as net.Socket);
  // The server no longer passes the socket's 'drain' on (it let the socket go); a response relayed with backpressure
  // waits for it.
  const onDrain = (): void => void res.emit('drain');
  socket.on('drain', onDrain);
  res.once('finish', () => {
    res.detachSocket(socket as net.Socket);
    socket.off('drain', onDrain);
    socket.resume(); // what the client still sends is dropped, so its end arrives and the stream completes
    socket.end();
  });
  adopted.set(req, { socket, onDrain });
  return res;
}

/** Take the raw socket from the response (after a 101 the response is never used again). */
function takeSocket(res: http.ServerResponse): Duplex {
  const a = adopted.get(res.req);
  if (!a) throw new Error('not an adopted upgrade response');
  res.detachSocket(a.socket as net.Socket);
  a.socket.off('drain', a.onDrain);
  return a.socket;
}

export type UpgradeAnswer =
  | { switched: true; status: number; headers: Headers; socket: Duplex; head: Buffer }
  | { switched: false; response: UpstreamResponse };

/** The upgrade request got no answer head: a reset, or the route timeout (`timedOut`). */
export class UpgradeError extends MeshError {
  readonly timedOut: boolean;
  constructor(message: string, timedOut: boolean, cause?: unknown) {
    super(timedOut ? 'WP_UPGRADE_TIMEOUT' : 'WP_UPGRADE_RESET', message, cause === undefined ? undefined : { cause });
    this.timedOut = timedOut;
  }
}

/**
 * Send the upgrade request on `conn` (a fresh connection of its own) and wait for the answer's head. `signal` bounds
 * only the wait for the head (Envoy's route timeout stops at the upgrade response). A non-101 answer's connection is
 * closed once its body was read.
 */
export function requestUpgrade(conn: Duplex, r: { method: string; path: string; headers: Headers; signal?: AbortSignal }): Promise<UpgradeAnswer> {
  return new Promise<UpgradeAnswer>((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(r.headers)) if (v !== undefined) headers[k] = v;
    let settled = false;
    const settle = (f: () => void): void => {
      if (settled) return;
      settled = true;
      r.signal?.removeEventListener('abort', onAbort);
      f();
    };
    const onAbort = (): void => settle(() => {
      conn.destroy();
      reject(new UpgradeError('upstream upgrade timed out before the response head', true));
    });
    if (r.signal?.aborted) return onAbort();
    r.signal?.addEventListener('abort', onAbort, { once: true });
    const req = http.request({ createConnection: () => conn as net.Socket, method: r.method, path: r.path, headers, setHost: false });
    req.on('upgrade', (res: http.IncomingMessage, socket: Duplex, head: Buffer) => settle(() => {
      resolve({ switched: true, status: res.statusCode ?? 101, headers: res.headers, socket, head });
    }));
    req.on('response', (res: http.IncomingMessage) => settle(() => {
      const trailers = finished(res).then(() => ({ ...res.trailers }) as Record<string, string>);
      void trailers.then(() => conn.destroy(), () => conn.destroy());
      res.on('close', () => conn.destroy());
      resolve({ switched: false, response: { status: res.statusCode ?? 502, headers: res.headers as Record<string, string | string[]>, body: res, trailers } });
    }));
    req.on('error', (err) => settle(() => {
      conn.destroy();
      reject(new UpgradeError(`upstream upgrade request failed: ${errorMessage(err)}`, false, err));
    }));
    req.end();
  });
}

/** Pure: the raw `101 Switching Protocols` head; a header Node would refuse to send (CR/LF in it) is left out. */
export function switchingHead(status: number, headers: Headers): string {
  const lines = [`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Switching Protocols'}`];
  for (const [k, v] of Object.entries(headers)) {
    for (const x of [v ?? []].flat()) {
      try {
        http.validateHeaderName(k);
        http.validateHeaderValue(k, x);
      } catch {
        continue;
      }
      lines.push(`${k}: ${x}`);
    }
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

export interface Switched {
  /** Bytes from the client to the upstream after the switch, and back (the upstream's early bytes included). */
  requestBytes: number;
  responseBytes: number;
  failure?: string;
}

/** Answer the client with the upstream's 101 and splice the two connections until both directions ended. */
export async function switchProtocols(res: http.ServerResponse, up: Extract<UpgradeAnswer, { switched: true }>, headers: Headers): Promise<Switched> {
  const client = takeSocket(res);
  up.socket.on('error', () => {});
  client.on('error', () => {});
  client.write(switchingHead(up.status, headers));
  if (up.head.length) client.write(up.head);
  try {
    const n = await splice(client, up.socket);
    return { requestBytes: n.aToB, responseBytes: n.bToA + up.head.length };
  } catch (err) {
    const e = err instanceof SpliceError ? err : undefined;
    return { requestBytes: e?.aToB ?? 0, responseBytes: (e?.bToA ?? 0) + up.head.length, failure: errorMessage(err) };
  }
}
