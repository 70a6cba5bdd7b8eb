// What both factories do to every socket, whatever namespace it lives in.
import net from 'node:net';

/** Sockets a proxy splices must keep writing after the peer's FIN: Node's default would end them at once. */
export function prepareSocket(s: net.Socket): net.Socket {
  s.setNoDelay(true);
  s.allowHalfOpen = true;
  return s;
}

/** A server whose accepted sockets are prepared like dialled ones. */
export function newServer(): net.Server {
  return net.createServer({ allowHalfOpen: true, noDelay: true });
}

/** TCP_NODELAY on every accepted socket of a caller-supplied server (half-open is that server's own business:
 *  an http2 or tls server owns its raw sockets). */
export function nodelayOnAccept(server: net.Server): void {
  server.prependListener('connection', (s: net.Socket) => s.setNoDelay(true));
}
