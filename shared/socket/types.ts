// The one way ztunnel opens sockets. Every listener and every upstream dial goes through a SocketFactory, so the
// same proxy code runs on loopback in tests (defaultSocketFactory) and inside a pod's network namespace with the
// proxy's mark in production (inPodSocketFactory).
import type net from 'node:net';

export interface ConnectOptions {
  /** IP literal. */
  host: string;
  port: number;
  /** Source address to bind; with `transparent`, may be an address the namespace does not own (source spoofing). */
  localAddress?: string;
  /** IP_TRANSPARENT, so `localAddress` can be another host's address (inbound keeps the client's source IP). */
  transparent?: boolean;
  /** Give up and destroy the socket when not connected within this time. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface ListenOptions {
  /** IP literal. */
  host: string;
  /** 0 picks a free port (read it back from server.address()). */
  port: number;
  /** IP_TRANSPARENT, so the listener accepts connections to addresses the namespace does not own. */
  transparent?: boolean;
  /** Listen with this server (an http2 secure server, say) instead of a new net.Server. */
  server?: net.Server;
}

export interface SocketFactory {
  /** A connected socket with TCP_NODELAY and half-open allowed (splice propagates each direction's end). */
  connect(o: ConnectOptions): Promise<net.Socket>;
  /** A listening server; accepted sockets get TCP_NODELAY (and half-open, for servers this factory creates). */
  listen(o: ListenOptions): Promise<net.Server>;
}
