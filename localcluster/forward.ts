// A byte forwarder between a socket the daemon accepted inside a namespace and a service on the daemon's own
// loopback (the in-process controller). Both directions, half-close propagated, errors end both sides.
import net from 'node:net';
import { once } from 'node:events';

export async function connectTcpLoopback(port: number): Promise<net.Socket> {
  const s = net.connect({ host: '127.0.0.1', port });
  await once(s, 'connect');
  s.setNoDelay(true);
  return s;
}

export function pipeBoth(a: net.Socket, b: net.Socket): void {
  a.setNoDelay(true);
  const end = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('error', end).on('close', end);
  b.on('error', end).on('close', end);
  a.pipe(b);
  b.pipe(a);
}
