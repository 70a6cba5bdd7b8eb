// One accepted HBONE CONNECT: who sent it (the client's identity from its certificate, its IP from `Forwarded`),
// what it is for (the Service whose VIP it names, or the pod it names), and how its bytes are read (the Service port's
// protocol, else sniffed). HTTP tunnels are fed to the HTTP/1.1 or HTTP/2 server as connections; TCP is spliced on.
// An HTTP/1.1 Upgrade request (WebSocket; never h2c) reaches the same handler with a response on its raw socket.
import http from 'node:http';
import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import { parseSpiffeId } from '../../shared/spiffe.ts';
import { respondConnect, rejectConnect, type HboneConnectInfo } from '../../shared/hbone/index.ts';
import type { Service, Workload } from '../../shared/state/types.ts';
import type { PortProtocol, ServiceListener } from '../../shared/waypoint/config.ts';
import type { RequestSource } from '../types.ts';
import type { ProxyContext } from './context.ts';
import { declared, sniff, type Detected } from './sniff.ts';
import { adoptUpgrade, wantsUpgrade } from './upgrade.ts';

export interface Tunnel {
  source: RequestSource;
  destination: { service?: Service; serviceKey?: string; workload?: Workload; ip: string; port: number };
  /** The bound service's listener, when the destination is a Service bound to this waypoint. */
  listener?: ServiceListener;
  protocol: PortProtocol;
  downstream: Detected;
}

/** `Forwarded: for=1.2.3.4` / `for="[fd00::1]"` → the IP. */
export function forwardedFor(header: string | string[] | undefined): string | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  const m = v ? /for=("?)\[?([0-9a-fA-F.:]+)\]?\1/.exec(v) : null;
  return m?.[2];
}

const unmapped = (ip: string): string => (ip.startsWith('::ffff:') ? ip.slice(7) : ip);

export interface HttpServers {
  h1: http.Server;
  h2: http2.Http2Server;
  /** The tunnel a request arrived through. */
  tunnelOf(req: http.IncomingMessage | http2.Http2ServerRequest): Tunnel | undefined;
  /**
   * Start (or repeat) a graceful drain of the HTTP connections inside tunnels: from now on HTTP/1.1 responses carry
   * `Connection: close` and their connection closes after them, and HTTP/2 sessions get a GOAWAY (their streams in
   * flight finish; sessions that start later are served until the next call). Idle HTTP/1.1 connections stay: one
   * that is idle only between two requests would race its client's next request; closeIdle() is for later.
   */
  drain(): void;
  /**
   * End (FIN) the HTTP/1.1 connections with no request in flight and none answered or opened in minIdleMs (1 s).
   * A connection that switched protocols (WebSocket) is never idle: only closeAll ends it.
   */
  closeIdle(minIdleMs?: number): void;
  /** Destroy every connection the servers were fed (the end of a drain). */
  closeAll(): void;
}

type Handler = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => void;

/** HTTP/1.1 and HTTP/2 (prior knowledge) servers that never listen: tunnels are handed to them as connections. */
export function createHttpServers(handler: Handler): HttpServers & { feed(stream: Duplex, t: Tunnel): void } {
  const bySocket = new WeakMap<object, Tunnel>();
  const sessions = new Set<http2.ServerHttp2Session>();
  // HTTP/1.1 connections and their requests in flight. Node's closeIdleConnections/closeAllConnections track only
  // connections a server accepted while listening, and these servers never listen: they would do nothing.
  const h1Conns = new Map<Duplex, { inFlight: Set<http.ServerResponse>; lastActive: number; upgraded?: boolean }>();
  let pending: Tunnel | undefined;
  let draining = false;
  // Node emits 'upgrade' (instead of 'request') only when shouldUpgradeCallback says so: an h2c upgrade, or one
  // without `Connection: upgrade`, stays an ordinary request.
  const h1 = http.createServer({ keepAliveTimeout: 60_000, requestTimeout: 0, shouldUpgradeCallback: (req) => wantsUpgrade(req.headers) }, (req, res) => {
    const conn = req.socket as Duplex;
    const c = h1Conns.get(conn);
    if (c) {
      c.inFlight.add(res);
      res.once('close', () => {
        c.inFlight.delete(res);
        c.lastActive = performance.now();
        if (draining && c.inFlight.size === 0) conn.end();
      });
    }
    // Node writes `Connection: close` for a response that must not keep the connection, and closes it after.
    if (draining) res.shouldKeepAlive = false;
    handler(req, res);
  });
  // A client that half-closes after its request (ztunnel passes a shutdown on) must still get its answer; Node's
  // default aborts in-flight requests when the connection's read side ends.
  (h1 as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  // The server let go of the socket: from here on the connection is the upgrade's (busy until it closes).
  h1.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const c = h1Conns.get(socket);
    if (c) c.upgraded = true;
    handler(req, adoptUpgrade(req, socket, head));
  });
  const h2 = http2.createServer({ settings: { maxConcurrentStreams: 1000, initialWindowSize: 4 << 20 } }, handler);
  // 'session' fires synchronously inside emit('connection'), so `pending` is the tunnel being fed.
  h2.on('session', (s) => {
    if (pending) bySocket.set(s, pending);
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
    s.on('error', () => {});
  });
  return {
    h1, h2,
    drain() {
      draining = true;
      // A busy connection closes after its responses, which say `Connection: close` unless their head is out.
      for (const c of h1Conns.values()) for (const res of c.inFlight) if (!res.headersSent) res.shouldKeepAlive = false;
      for (const s of sessions) if (!s.closed && !s.destroyed) s.close();
    },
    closeIdle(minIdleMs = 1000) {
      // "Idle" needs time: a connection fed a moment ago has no request in flight only because its first request
      // is still on the way.
      const now = performance.now();
      for (const [conn, c] of h1Conns) if (!c.upgraded && c.inFlight.size === 0 && now - c.lastActive >= minIdleMs) conn.end();
    },
    closeAll() {
      for (const conn of h1Conns.keys()) conn.destroy();
      for (const s of sessions) s.destroy();
    },
    tunnelOf(req) {
      if ('stream' in req && req.stream) return bySocket.get(req.stream.session as object);
      return bySocket.get(req.socket);
    },
    feed(stream, t) {
      dropEmptyWrites(stream);
      if (t.downstream === 'h2') {
        pending = t;
        try {
          h2.emit('connection', stream);
        } finally {
          pending = undefined;
        }
      } else {
        bySocket.set(stream, t);
        h1Conns.set(stream, { inFlight: new Set(), lastActive: performance.now() });
        stream.once('close', () => h1Conns.delete(stream));
        h1.emit('connection', stream);
      }
    },
  };
}

type WritevChunk = { chunk: Buffer | string; encoding: BufferEncoding };
type WithWritev = Duplex & { _writev?: (chunks: WritevChunk[], cb: (err?: Error | null) => void) => void };

/**
 * Node 24 bug: an Http2Stream's writev of [latin1 string, empty Buffer] (what http.ServerResponse#end(emptyBuffer)
 * produces) sends garbage in place of the first 16 bytes. Empty chunks carry nothing, so they are dropped before
 * the stream sees them. Repro: http2 stream, cork, write('HTTP/1.1 …', 'latin1'), write(Buffer.alloc(0)), uncork.
 */
function dropEmptyWrites(stream: Duplex): void {
  const s = stream as WithWritev;
  const writev = s._writev;
  if (!writev) return;
  s._writev = function (chunks, cb) {
    const kept = chunks.filter((c) => c.chunk.length > 0);
    if (kept.length === 0) return cb();
    return writev.call(this, kept, cb);
  };
}

export interface TunnelHandlers {
  http(stream: Duplex, t: Tunnel): void;
  tcp(stream: Duplex, t: Tunnel): void;
}

/** The HBONE server's onConnect. */
export function acceptTunnel(ctx: ProxyContext, h: TunnelHandlers) {
  return (stream: http2.ServerHttp2Stream, info: HboneConnectInfo): void => {
    stream.on('error', () => {});
    const ip = info.target.host;
    const port = info.target.port;
    const service = ctx.state.serviceByVip(ip as never);
    const workload = service ? undefined : ctx.state.workloadByIp(ip as never);
    if (!service && !workload) {
      ctx.log.warn({ authority: info.authority, from: info.peerIdentity }, 'tunnel for an address that is neither a service nor a workload in the mesh state; refused');
      rejectConnect(stream, 503);
      return;
    }
    const serviceKey = service ? `${service.namespace}/${service.hostname}` : undefined;
    const listener = serviceKey ? ctx.store.listener(serviceKey) : undefined;
    const protocol: PortProtocol = listener?.ports.find((p) => p.port === port)?.protocol ?? 'AUTO';
    const remoteIp = unmapped(info.remoteAddress);
    const srcIp = forwardedFor(info.headers.forwarded) ?? remoteIp;
    const srcWorkload = ctx.state.workloadByIp(srcIp as never); // for routes matching the client's workload
    const source: RequestSource = {
      principal: info.peerIdentity,
      ...(parseSpiffeId(info.peerIdentity) ? { namespace: parseSpiffeId(info.peerIdentity)!.sa.namespace } : {}),
      ip: srcIp,
      remoteIp,
      ...(srcWorkload ? { workload: srcWorkload.uid } : {}),
    };
    respondConnect(stream);
    const known = declared(protocol);
    const go = (downstream: Detected): void => {
      const t: Tunnel = {
        source, destination: { ...(service ? { service, serviceKey } : {}), ...(workload ? { workload } : {}), ip, port },
        ...(listener ? { listener } : {}), protocol, downstream,
      };
      if (downstream === 'tcp') h.tcp(stream, t);
      else h.http(stream, t);
    };
    if (known) go(known);
    else void sniff(stream).then(go);
  };
}
