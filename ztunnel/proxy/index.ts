// ztunnel/proxy: the per-pod listeners (outbound, inbound HBONE, inbound plaintext, DNS) and their shared context.
export { PodProxy } from './pod-proxy.ts';
export {
  HBONE_PORT, OUTBOUND_PORT, INBOUND_PLAIN_PORT, DNS_PORT, PROXY_MARK, hostPort,
  type CapturedPod, type NodeServices,
} from './context.ts';
