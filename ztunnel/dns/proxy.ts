// The node proxy's DNS proxy for captured pods (port 15053 in each pod's netns): answers mesh Service names from
// the xDS state (resolve.ts), forwards everything else through the caller's `forward`. Sockets are the
// caller's: it binds them (inside the pod's netns) and attaches them with serveUdp/serveTcp.
import type { Socket as UdpSocket } from 'node:dgram';
import type { Server as TcpServer } from 'node:net';
import {
  buildMessage, CLASSIC_UDP_SIZE, DnsParseError, errorResponse, OPCODE_QUERY, parseMessage, RCODE, responseTo,
  serveDnsTcp, serveDnsUdp, type Message,
} from '../../shared/dns/index.ts';
import { errorMessage } from '../../shared/errors.ts';
import { silent, type Logger } from '../../shared/log.ts';
import { resolveLocally, type DnsView } from './resolve.ts';

export const DNS_PROXY_PORT = 15053;

/** Sends a raw query to the pod's upstream resolver (over TCP when `tcp`) and returns its raw response. */
export type DnsForward = (query: Buffer, tcp: boolean) => Promise<Buffer>;

export interface DnsProxyOptions {
  view: DnsView;
  forward: DnsForward;
  log?: Logger;
  /** TTL of local answers, seconds (default 30). */
  ttl?: number;
}

export interface DnsProxy {
  /** Answer one raw query; undefined means send nothing (no readable header, or not a query). */
  handleQuery(buf: Buffer, tcp: boolean): Promise<Buffer | undefined>;
  /** Serve a bound UDP socket (the socket stays the caller's to close). */
  serveUdp(socket: UdpSocket): void;
  /** Serve a listening TCP server, 2-byte length framing (the server stays the caller's to close). */
  serveTcp(server: TcpServer): void;
  /** Detach from every socket and drop open TCP connections. */
  close(): void;
}

/** Largest UDP answer we build for an EDNS client (the usual safe size; the client's own limit if smaller). */
const MAX_EDNS_UDP = 1232;

export function createDnsProxy(opts: DnsProxyOptions): DnsProxy {
  const log = opts.log ?? silent;
  const detach: Array<() => void> = [];

  async function handleQuery(buf: Buffer, tcp: boolean): Promise<Buffer | undefined> {
    let query: Message;
    try {
      query = parseMessage(buf);
    } catch (err) {
      const id = err instanceof DnsParseError ? err.id : undefined;
      log.debug({ err: errorMessage(err) }, 'malformed dns query');
      return id === undefined ? undefined : errorResponse(id, RCODE.FORMERR);
    }
    if (query.flags.qr) return undefined;
    const maxSize = tcp ? 0xffff : query.edns ? Math.min(query.edns.udpSize, MAX_EDNS_UDP) : CLASSIC_UDP_SIZE;
    if (query.flags.opcode !== OPCODE_QUERY) return buildMessage(responseTo(query, RCODE.NOTIMP, { ra: true }), maxSize);
    const q = query.questions[0];
    if (query.questions.length !== 1 || !q) return buildMessage(responseTo(query, RCODE.FORMERR, { ra: true }), maxSize);
    const records = resolveLocally(q, opts.view, opts.ttl !== undefined ? { ttl: opts.ttl } : {});
    if (records === undefined) {
      try {
        return await opts.forward(buf, tcp);
      } catch (err) {
        log.warn({ name: q.name, type: q.type, err: errorMessage(err) }, 'dns forward failed');
        return buildMessage(responseTo(query, RCODE.SERVFAIL, { ra: true }), maxSize);
      }
    }
    const res = responseTo(query, RCODE.NOERROR, { aa: true, ra: true });
    res.answers = records;
    return buildMessage(res, maxSize);
  }

  return {
    handleQuery,
    serveUdp(socket) { detach.push(serveDnsUdp(socket, handleQuery, log)); },
    serveTcp(server) { detach.push(serveDnsTcp(server, handleQuery, log)); },
    close() { for (const d of detach.splice(0)) d(); },
  };
}
