// ztunnel's startup configuration, from the environment as a DaemonSet pod receives it (Istio's variable names where
// they exist). Bad configuration is a crash at startup with a message naming the variable.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { ZtunnelConfigError } from './errors.ts';
import { envReader, type Env } from '../shared/env.ts';

export interface ZtunnelConfig {
  nodeName: string;
  podName: string;
  podNamespace: string;
  /** The node's IP (ztunnel runs with hostNetwork): node-originated traffic such as kubelet probes comes from it. */
  nodeIp: string;
  xdsAddress: string;
  caAddress: string;
  /** TLS name the controller's certificate is checked against. */
  controlPlaneName: string;
  trustDomain: string;
  clusterId: string;
  tokenFile: string;
  rootCaFile: string;
  adminPort: number;
  metricsPort: number;
  readinessPort: number;
  /** Where the in-pod DNS proxy forwards names it does not own (the cluster DNS). */
  dnsUpstream: string;
  /** Capture DNS (UDP/TCP port 53) to the in-pod proxy on 15053. */
  captureDns: boolean;
  drainSeconds: number;
  /** Use this kubeconfig for the node agent's pod watch instead of the in-cluster service account. */
  kubeconfig?: string;
}

/** The first nameserver of a resolv.conf (the cluster DNS for a ClusterFirstWithHostNet pod). */
export function firstNameserver(resolvConf: string): string | undefined {
  for (const line of resolvConf.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m && isIP(m[1]!)) return m[1];
  }
  return undefined;
}

export function loadConfig(env: Env = process.env, readFile: (p: string) => string = (p) => readFileSync(p, 'utf8')): ZtunnelConfig {
  const r = envReader(env, (m) => new ZtunnelConfigError(m), 'set it from the downward API in the DaemonSet');
  const required = (name: string): string => r.required(name);
  const port = (name: string, dflt: number): number => r.number(name, dflt);
  const nodeIp = required('INSTANCE_IP');
  if (!isIP(nodeIp)) throw new ZtunnelConfigError(`INSTANCE_IP=${nodeIp} is not an IP address`);
  const xdsAddress = env.XDS_ADDRESS || 'istiod.istio-system.svc:15012';
  let dnsUpstream = env.DNS_UPSTREAM;
  if (!dnsUpstream) {
    try {
      dnsUpstream = firstNameserver(readFile('/etc/resolv.conf'));
    } catch {
      dnsUpstream = undefined;
    }
  }
  const drain = Number(env.DRAIN_SECONDS ?? '5');
  if (!Number.isFinite(drain) || drain < 0) throw new ZtunnelConfigError(`DRAIN_SECONDS=${env.DRAIN_SECONDS} is not a number of seconds`);
  return {
    nodeName: required('NODE_NAME'),
    podName: required('POD_NAME'),
    podNamespace: env.POD_NAMESPACE || 'istio-system',
    nodeIp,
    xdsAddress,
    caAddress: env.CA_ADDRESS || xdsAddress,
    controlPlaneName: env.CONTROL_PLANE_NAME || 'istiod.istio-system.svc',
    trustDomain: env.TRUST_DOMAIN || 'cluster.local',
    clusterId: env.CLUSTER_ID || 'Kubernetes',
    tokenFile: env.TOKEN_FILE || '/var/run/secrets/tokens/istio-token',
    rootCaFile: env.ROOT_CA_FILE || '/var/run/secrets/istio/root-cert.pem',
    adminPort: port('ADMIN_PORT', 15000),
    metricsPort: port('METRICS_PORT', 15020),
    readinessPort: port('READINESS_PORT', 15021),
    dnsUpstream: dnsUpstream ?? '10.96.0.10',
    captureDns: env.CAPTURE_DNS !== 'false',
    drainSeconds: drain,
    ...(env.KUBECONFIG ? { kubeconfig: env.KUBECONFIG } : {}),
  };
}
