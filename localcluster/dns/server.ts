// DnsServer: serves the cluster zone over UDP (a given dgram socket) and TCP (a given net.Server, 2-byte length
// framing), answering from an index rebuilt on every `update(services, endpointSlices)`. The caller creates and
// binds the sockets (the daemon inside the fabric netns at 10.100.0.1:53; tests on 127.0.0.1 port 0).
import type { Socket as UdpSocket } from 'node:dgram';
import type { Server as TcpServer } from 'node:net';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { silent, type Logger } from '../../shared/log.ts';
import { errorMessage } from '../../shared/errors.ts';
import { DnsParseError } from './errors.ts';
import {
  buildMessage, CLASSIC_UDP_SIZE, errorResponse, OPCODE_QUERY, parseMessage, RCODE, responseTo, serveDnsTcp, serveDnsUdp, type Message,
} from '../../shared/dns/index.ts';
import { buildIndex, resolve, type DnsIndex } from './resolver.ts';

/** Sends a raw query to an upstream resolver and returns its raw response. */
export type Forwarder = (query: Buffer) => Promise<Buffer>;

export interface DnsServerOptions {
  domain?: string;
  ttl?: number;
  /** Upstream for names outside the zone; without one those are REFUSED (this cluster is offline by design). */
  forward?: Forwarder;
  log?: Logger;
}

const MAX_EDNS_UDP = 4096;

export class DnsServer {
  readonly #opts: DnsServerOptions;
  readonly #log: Logger;
  #index: DnsIndex;
  #serial = 1;
  readonly #detach: Array<() => void> = [];

  constructor(opts: DnsServerOptions = {}) {
    this.#opts = opts;
    this.#log = opts.log ?? silent;
    this.#index = buildIndex([], [], this.#indexOpts());
  }

  #indexOpts(): { domain?: string; ttl?: number; serial: number } {
    return { ...(this.#opts.domain ? { domain: this.#opts.domain } : {}), ...(this.#opts.ttl ? { ttl: this.#opts.ttl } : {}), serial: this.#serial };
  }

  /** Replace the snapshot the server answers from. */
  update(services: readonly V1Service[], slices: readonly V1EndpointSlice[]): void {
    this.#serial++;
    this.#index = buildIndex(services, slices, this.#indexOpts());
  }

  /** Answer one raw query; undefined means "send nothing" (unparseable header, or a response sent to us). */
  async handle(raw: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    let query: Message;
    try {
      query = parseMessage(raw);
    } catch (err) {
      const id = err instanceof DnsParseError ? err.id : undefined;
      this.#log.debug({ err: errorMessage(err) }, 'malformed dns query');
      return id === undefined ? undefined : errorResponse(id, RCODE.FORMERR);
    }
    if (query.flags.qr) return undefined;
    const maxSize = transport === 'udp'
      ? (query.edns ? Math.min(query.edns.udpSize, MAX_EDNS_UDP) : CLASSIC_UDP_SIZE)
      : 0xffff;
    const canForward = this.#opts.forward !== undefined;
    if (query.flags.opcode !== OPCODE_QUERY) return buildMessage(responseTo(query, RCODE.NOTIMP), maxSize);
    const q = query.questions[0];
    if (query.questions.length !== 1 || !q) return buildMessage(responseTo(query, RCODE.FORMERR), maxSize);
    const decision = resolve(this.#index, q, canForward);
    if (decision.kind === 'refuse') return buildMessage(responseTo(query, RCODE.REFUSED, { ra: canForward }), maxSize);
    if (decision.kind === 'forward') {
      try {
        return await this.#opts.forward!(raw);
      } catch (err) {
        this.#log.warn({ name: q.name, err: errorMessage(err) }, 'dns forward failed');
        return buildMessage(responseTo(query, RCODE.SERVFAIL, { ra: true }), maxSize);
      }
    }
    const res = responseTo(query, decision.rcode, { aa: true, ra: canForward });
    res.answers = decision.answers;
    res.authority = decision.authority;
    res.additional = decision.additional;
    try {
      return buildMessage(res, maxSize);
    } catch (err) {
      this.#log.warn({ name: q.name, err: errorMessage(err) }, 'dns answer could not be encoded');
      return buildMessage(responseTo(query, RCODE.SERVFAIL), maxSize);
    }
  }

  /** Serve queries arriving on a bound UDP socket (the socket stays the caller's to close). */
  serveUdp(socket: UdpSocket): void {
    this.#detach.push(serveDnsUdp(socket, (q) => this.handle(q, 'udp'), this.#log));
  }

  /** Serve DNS over TCP on a listening (or soon listening) server (the server stays the caller's to close). */
  serveTcp(server: TcpServer): void {
    this.#detach.push(serveDnsTcp(server, (q) => this.handle(q, 'tcp'), this.#log));
  }

  /** Stop serving: detach from the sockets and drop open TCP connections. */
  close(): void {
    for (const d of this.#detach.splice(0)) d();
  }
}
