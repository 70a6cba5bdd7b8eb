// ztunnel/dns: the per-pod DNS proxy (port 15053): mesh Service names answered from the xDS state, the rest
// forwarded by the caller. The wire codec and transports are shared/dns.
export { createDnsProxy, DNS_PROXY_PORT, type DnsForward, type DnsProxy, type DnsProxyOptions } from './proxy.ts';
export { resolveLocally, DEFAULT_TTL, type DnsView } from './resolve.ts';
