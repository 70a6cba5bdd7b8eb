// SocketFactory inside a pod's network namespace (shared/netsock): every socket carries the proxy's SO_MARK, which
// the pod's capture rules let through uncaptured — that mark is what keeps ztunnel's own traffic from looping back
// into ztunnel. Accepted sockets inherit the listener's mark (the kernel clones it from the listening socket).
import type net from 'node:net';
import { connectTcp, listenTcp } from '../netsock/index.ts';
import { newServer, nodelayOnAccept, prepareSocket } from './common.ts';
import type { ConnectOptions, ListenOptions, SocketFactory } from './types.ts';

export function inPodSocketFactory(netnsPath: string, opts: { mark: number }): SocketFactory {
  const { mark } = opts;
  return {
    async connect(o: ConnectOptions): Promise<net.Socket> {
      const s = await connectTcp({
        netns: netnsPath, host: o.host, port: o.port, localAddress: o.localAddress, transparent: o.transparent,
        mark, timeoutMs: o.timeoutMs, signal: o.signal,
      });
      return prepareSocket(s);
    },
    async listen(o: ListenOptions): Promise<net.Server> {
      const server = o.server ?? newServer();
      if (o.server) nodelayOnAccept(server);
      // SO_REUSEPORT: a new ztunnel on the node (DaemonSet surge) listens next to the old one until it has drained.
      return listenTcp({ netns: netnsPath, host: o.host, port: o.port, transparent: o.transparent, mark, server, reusePort: true });
    },
  };
}
