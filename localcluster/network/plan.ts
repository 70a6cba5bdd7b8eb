// Pure address plan and command plans of the cluster topology (ARCHITECTURE.md, "Topology"):
// names, addresses and the `ip -batch` lines that build the fabric, the nodes and each pod.
// No I/O here: cluster-network.ts runs these plans.
import { netErr } from './errors.ts';

export const FABRIC_ADDRESS = '10.100.0.1';
export const FABRIC_PREFIX = 24;
export const SERVICE_CIDR = '10.96.0.0/16';
export const CLUSTER_DNS_IP = '10.96.0.10';
export const CLUSTER_DOMAIN = 'cluster.local';
/** The pod's default gateway: never assigned anywhere, answered by the node's proxy ARP. */
export const POD_GATEWAY = '169.254.1.1';
export const MAX_NODES = 200;

export interface FabricNet { netns: string; address: string }
export interface NodeNet {
  /** Kubernetes node name (`node-<i>`). */
  name: string;
  index: number;
  netns: string;
  /** The node's address on the fabric, 10.100.0.(10+i). */
  address: string;
  /** 10.244.<i>.0/24 */
  podCIDR: string;
}

export function checkClusterId(clusterId: string): void {
  if (!/^[a-z][a-z0-9]{0,15}$/.test(clusterId)) {
    throw netErr.badConfig(`cluster id ${JSON.stringify(clusterId)} must be 1-16 lower-case letters/digits starting with a letter`);
  }
}

export function fabricNet(clusterId: string): FabricNet {
  return { netns: `${clusterId}-fabric`, address: FABRIC_ADDRESS };
}

export function nodeNet(clusterId: string, index: number): NodeNet {
  if (!Number.isInteger(index) || index < 1 || index > MAX_NODES) {
    throw netErr.badConfig(`node index ${index} must be between 1 and ${MAX_NODES}`);
  }
  return {
    name: `node-${index}`,
    index,
    netns: `${clusterId}-node-${index}`,
    address: `10.100.0.${10 + index}`,
    podCIDR: `10.244.${index}.0/24`,
  };
}

/** The short id of a pod: first 8 [a-z0-9] characters of its uid (dashes dropped). */
export function podShortId(uid: string): string {
  const short = uid.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 8);
  if (short.length < 4) throw netErr.badConfig(`pod uid ${JSON.stringify(uid)} is too short to name a netns`);
  return short;
}

export function podNetnsName(clusterId: string, uid: string): string {
  return `${clusterId}-pod-${podShortId(uid)}`;
}

/** Node-side end of a pod's veth (interface names are at most 15 bytes). */
export function podHostVeth(uid: string): string {
  return `vp${podShortId(uid)}`;
}

/** Fabric-side end of a node's veth. */
export function fabricVeth(node: NodeNet): string {
  return `node${node.index}`;
}

/** Lines for `ip -n <fabric> -batch -`: bridge, one veth per node (peer eth0 inside the node), routes to pod CIDRs. */
export function fabricBatch(nodes: readonly NodeNet[]): string[] {
  const lines = [
    'link set lo up',
    'link add name br0 type bridge',
    `addr add ${FABRIC_ADDRESS}/${FABRIC_PREFIX} dev br0`,
    'link set br0 up',
  ];
  for (const n of nodes) {
    const v = fabricVeth(n);
    lines.push(`link add name ${v} type veth peer name eth0 netns ${n.netns}`, `link set ${v} master br0`, `link set ${v} up`);
  }
  for (const n of nodes) lines.push(`route add ${n.podCIDR} via ${n.address} dev br0`);
  return lines;
}

/**
 * Lines for `ip -n <node> -batch -`: address, routes to the other nodes' pod CIDRs, the Service CIDR (so output
 * DNAT sees host-network traffic to VIPs) and a default route to the fabric (which also lets proxy ARP answer
 * for the pods' 169.254.1.1 gateway).
 */
export function nodeBatch(node: NodeNet, all: readonly NodeNet[]): string[] {
  const lines = [
    'link set lo up',
    `addr add ${node.address}/${FABRIC_PREFIX} dev eth0`,
    'link set eth0 up',
    `route add ${SERVICE_CIDR} via ${FABRIC_ADDRESS} dev eth0`,
    `route add default via ${FABRIC_ADDRESS} dev eth0`,
  ];
  for (const other of all) {
    if (other.index !== node.index) lines.push(`route add ${other.podCIDR} via ${other.address} dev eth0`);
  }
  return lines;
}

/**
 * Shell run inside a node netns before its batch: forwarding on, and proxy ARP as the default for interfaces
 * created later (the pod veths), while eth0, created earlier, keeps it off.
 */
export const NODE_SYSCTL_SCRIPT =
  'echo 1 > /proc/sys/net/ipv4/ip_forward && echo 1 > /proc/sys/net/ipv4/conf/default/proxy_arp';

/** Lines for `ip -n <node> -batch -` that attach one pod: veth (peer eth0 in the pod) and its /32 route. */
export function podNodeBatch(uid: string, podNetns: string, ip: string): string[] {
  const v = podHostVeth(uid);
  return [
    `link add name ${v} type veth peer name eth0 netns ${podNetns}`,
    `link set ${v} up`,
    `route add ${ip}/32 dev ${v}`,
  ];
}

/** Lines for `ip -n <pod> -batch -`: the routed /32 and the on-link default gateway. */
export function podBatch(ip: string): string[] {
  return [
    'link set lo up',
    `addr add ${ip}/32 dev eth0`,
    'link set eth0 up',
    `route add default via ${POD_GATEWAY} dev eth0 onlink`,
  ];
}

/** resolv.conf for a pod in `namespace` (ClusterFirst policy). */
export function renderResolvConf(namespace: string | undefined): string {
  const search = [
    ...(namespace ? [`${namespace}.svc.${CLUSTER_DOMAIN}`] : []),
    `svc.${CLUSTER_DOMAIN}`,
    CLUSTER_DOMAIN,
  ];
  return `nameserver ${CLUSTER_DNS_IP}\nsearch ${search.join(' ')}\noptions ndots:5\n`;
}

/** /etc/hosts for a pod (or a node): localhost plus its own name. */
export function renderHosts(hostname: string, ip: string): string {
  return [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    `${ip}\t${hostname}`,
    '',
  ].join('\n');
}
