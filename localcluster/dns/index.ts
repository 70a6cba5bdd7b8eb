// localcluster/dns: the cluster DNS — a pure resolver over Services + EndpointSlices and a server the daemon
// attaches to sockets it bound (10.100.0.1:53 in the fabric netns, UDP and TCP); re-exports the wire codec (shared/dns).
export { DnsServer, type DnsServerOptions, type Forwarder } from './server.ts';
export { buildIndex, resolve, DEFAULT_DOMAIN, DEFAULT_TTL, type DnsIndex, type Decision } from './resolver.ts';
export {
  buildMessage, buildQuery, parseMessage, RCODE, TYPE, type Message, type Question, type ResourceRecord, type RData,
} from '../../shared/dns/index.ts';
export { DnsError, DnsParseError } from './errors.ts';
