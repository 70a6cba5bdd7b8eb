// DNS transports over sockets the caller created and bound: UDP (one message per datagram) and TCP (RFC 1035
// 4.2.2 / RFC 7766: each message prefixed by its 2-byte length; several queries may share a connection and
// arrive split or coalesced). A handler answers one raw query; `undefined` means send nothing.
import type { Socket as UdpSocket, RemoteInfo } from 'node:dgram';
import type { Server as TcpServer, Socket as TcpSocket } from 'node:net';
import { silent, type Logger } from '../log.ts';
import { errorMessage } from '../errors.ts';

export type DnsHandler = (query: Buffer, tcp: boolean) => Promise<Buffer | undefined>;

/** Idle TCP connections are closed after this long (RFC 7766 suggests seconds, not minutes). */
export const TCP_IDLE_MS = 30_000;

/** Answer queries arriving on `socket`; returns a function that detaches (the socket stays the caller's). */
export function serveDnsUdp(socket: UdpSocket, handle: DnsHandler, log: Logger = silent): () => void {
  const onMessage = (msg: Buffer, rinfo: RemoteInfo): void => {
    handle(msg, false).then((out) => {
      if (out) socket.send(out, rinfo.port, rinfo.address, (err) => { if (err) log.debug({ err: err.message }, 'dns udp send failed'); });
    }, (err: unknown) => log.error({ err: errorMessage(err) }, 'dns udp handler failed'));
  };
  socket.on('message', onMessage);
  return () => { socket.off('message', onMessage); };
}

/**
 * Answer length-framed queries on every connection `server` accepts; returns a function that detaches and
 * drops the open connections (the server stays the caller's). Answers on a connection go out in query order.
 */
export function serveDnsTcp(server: TcpServer, handle: DnsHandler, log: Logger = silent, idleMs = TCP_IDLE_MS): () => void {
  const conns = new Set<TcpSocket>();
  const onConnection = (sock: TcpSocket): void => {
    conns.add(sock);
    sock.setTimeout(idleMs, () => sock.destroy());
    sock.on('error', () => {});
    sock.on('close', () => conns.delete(sock));
    let buf: Buffer = Buffer.alloc(0);
    let chain = Promise.resolve();
    sock.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = Buffer.from(buf.subarray(2, 2 + len));
        buf = buf.subarray(2 + len);
        chain = chain.then(async () => {
          const out = await handle(msg, true);
          if (!out || sock.destroyed) return;
          const head = Buffer.alloc(2);
          head.writeUInt16BE(out.length);
          sock.write(Buffer.concat([head, out]));
        }).catch((err: unknown) => {
          log.error({ err: errorMessage(err) }, 'dns tcp handler failed');
          sock.destroy();
        });
      }
    });
  };
  server.on('connection', onConnection);
  return () => {
    server.off('connection', onConnection);
    for (const c of conns) c.destroy();
    conns.clear();
  };
}
