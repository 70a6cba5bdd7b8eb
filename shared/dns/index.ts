// shared/dns: the DNS wire codec (RFC 1035 + SRV, AAAA, EDNS OPT), pure, its errors, and the UDP/TCP transports
// (2-byte length framing) over caller-bound sockets. Used by the local cluster DNS (localcluster/dns) and the node
// proxy's per-pod DNS proxy (ztunnel/dns).
export {
  buildMessage, buildQuery, errorResponse, parseMessage, responseTo, typeCode,
  CLASS_IN, CLASSIC_UDP_SIZE, OPCODE_QUERY, RCODE, TYPE,
  type Flags, type Message, type Question, type RData, type ResourceRecord,
} from './message.ts';
export { DnsError, DnsParseError } from './errors.ts';
export { serveDnsTcp, serveDnsUdp, TCP_IDLE_MS, type DnsHandler } from './transport.ts';
