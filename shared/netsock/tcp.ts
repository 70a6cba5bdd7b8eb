// TCP sockets placed in a network namespace: the addon creates (and binds) the socket inside the
// namespace and returns its fd; Node adopts the fd, so everything after creation (accept, connect,
// reads, writes) runs on the event loop like any other socket.
//
// Connect: the addon returns an unconnected (optionally bound) fd; `new net.Socket({ fd })` adopts it
// and `socket.connect()` reuses that handle, so libuv does its usual non-blocking connect (EINPROGRESS,
// then writability) and emits 'connect'. `manualStart` stops the constructor from starting a read on
// the not-yet-connected fd; reading starts when the connection is established.
import { closeSync } from 'node:fs';
import net from 'node:net';
import { logger } from '../log.ts';
import { addon } from './addon.ts';
import { NetsockConnectTimeoutError } from './errors.ts';
import { connectSpec, listenSpec, type ConnectSpecInput, type ListenSpecInput } from './options.ts';

const log = logger('netsock');

export interface ListenTcpOptions extends ListenSpecInput {
  /** Adopt the listening fd into this server (an http/https/http2/tls server, say); default a new net.Server. */
  server?: net.Server;
}

/** A listening server whose socket lives in `netns` (a name under /var/run/netns or an absolute path). */
export async function listenTcp(options: ListenTcpOptions): Promise<net.Server> {
  const fd = addon().openSocket(listenSpec(options));
  const server = options.server ?? net.createServer();
  await new Promise<void>((resolve, reject) => {
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    const onError = (err: Error): void => {
      server.off('listening', onListening);
      reject(err);
    };
    server.once('listening', onListening);
    server.once('error', onError);
    try {
      server.listen({ fd, backlog: options.backlog });
    } catch (err) {
      // Thrown before adoption (e.g. the given server already listens): the fd is still ours.
      server.off('listening', onListening);
      server.off('error', onError);
      closeSync(fd);
      reject(err);
    }
  });
  log.debug({ netns: options.netns, address: server.address() }, 'listening');
  return server;
}

export interface ConnectTcpOptions extends ConnectSpecInput {
  /** Give up (and destroy the socket) when not connected within this time; default: the kernel's. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** A socket connected to host:port from inside `netns`; never blocks the event loop while connecting. */
export async function connectTcp(options: ConnectTcpOptions): Promise<net.Socket> {
  options.signal?.throwIfAborted();
  const fd = addon().openSocket(connectSpec(options));
  let socket: net.Socket;
  try {
    // manualStart is honoured by net.Socket but missing from its types.
    socket = new net.Socket({ fd, manualStart: true } as net.SocketConstructorOpts);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  const { host, port, timeoutMs, signal } = options;
  return new Promise<net.Socket>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off('connect', onConnect);
      socket.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
    };
    const fail = (err: unknown): void => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onConnect = (): void => {
      cleanup();
      resolve(socket);
    };
    const onError = (err: Error): void => fail(err);
    const onAbort = (): void => fail(signal?.reason);
    socket.once('connect', onConnect);
    socket.once('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => fail(new NetsockConnectTimeoutError(host, port, timeoutMs)), timeoutMs);
    }
    try {
      socket.connect({ host, port });
    } catch (err) {
      fail(err); // e.g. ERR_SOCKET_BAD_PORT, thrown synchronously
    }
  });
}
