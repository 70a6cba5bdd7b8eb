// SocketFactory on plain node:net in the current namespace: loopback tests and in-process runs.
//
// `transparent` needs IP_TRANSPARENT (root and the native addon), which loopback tests have neither of, so this
// factory ignores it together with the `localAddress` it exists for: the proxy code keeps asking for source
// preservation and tests see the proxy's own address instead. Plain `localAddress` is honoured.
import net from 'node:net';
import { SocketConnectTimeoutError } from './errors.ts';
import { newServer, nodelayOnAccept, prepareSocket } from './common.ts';
import type { ConnectOptions, ListenOptions, SocketFactory } from './types.ts';

export function defaultSocketFactory(): SocketFactory {
  return { connect, listen };
}

async function connect(o: ConnectOptions): Promise<net.Socket> {
  o.signal?.throwIfAborted();
  const localAddress = o.transparent ? undefined : o.localAddress;
  const socket = net.connect({ host: o.host, port: o.port, localAddress, allowHalfOpen: true, noDelay: true });
  return new Promise<net.Socket>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off('connect', onConnect);
      socket.off('error', fail);
      o.signal?.removeEventListener('abort', onAbort);
    };
    function fail(err: unknown): void {
      cleanup();
      socket.destroy();
      reject(err);
    }
    const onConnect = (): void => {
      cleanup();
      resolve(prepareSocket(socket));
    };
    const onAbort = (): void => fail(o.signal?.reason);
    socket.once('connect', onConnect);
    socket.once('error', fail);
    o.signal?.addEventListener('abort', onAbort, { once: true });
    if (o.timeoutMs !== undefined) timer = setTimeout(() => fail(new SocketConnectTimeoutError(o.host, o.port, o.timeoutMs!)), o.timeoutMs);
  });
}

async function listen(o: ListenOptions): Promise<net.Server> {
  const server = o.server ?? newServer();
  if (o.server) nodelayOnAccept(server);
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ host: o.host, port: o.port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  return server;
}
