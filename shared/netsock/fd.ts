// Socket options on sockets Node already owns. The only place that reaches into a socket's private
// `_handle` for its file descriptor (net.Socket on Linux exposes it as `_handle.fd`).
import type { Socket } from 'node:net';
import { addon, type OriginalDst } from './addon.ts';
import { NetsockNoFdError } from './errors.ts';

function socketFd(socket: Socket, op: string): number {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } | null })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new NetsockNoFdError(op);
  return fd;
}

/** The pre-NAT destination of a connection an nftables REDIRECT sent to this listener. Throws the
 * system error ENOENT (syscall getsockopt) when the connection was not redirected. */
export function originalDestination(socket: Socket): OriginalDst {
  return addon().originalDst(socketFd(socket, 'originalDestination'));
}

/** Sets SO_MARK (needs CAP_NET_ADMIN); packets sent from now on carry the mark. */
export function setMark(socket: Socket, mark: number): void {
  addon().setMark(socketFd(socket, 'setMark'), mark);
}

export function getMark(socket: Socket): number {
  return addon().getMark(socketFd(socket, 'getMark'));
}
