// ClusterNetwork: builds and tears down the topology of ARCHITECTURE.md — a fabric netns with bridge br0, one
// netns per node, one netns per pod (routed /32, proxy ARP) — and hands out pod addresses. Every netns and
// /etc/netns directory is recorded (record.ts) before it is created. With `podNetns: 'anonymous'` each pod netns
// loses its name once a holder process keeps it (holder.ts), as a container runtime's pause container does.
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { silent, type Logger } from '../../shared/log.ts';
import { netErr } from './errors.ts';
import { ipBatch, run } from './exec.ts';
import { Ipam, loadIpam, saveIpam } from './ipam.ts';
import { guardTableName, installRootGuard } from './root-guard.ts';
import {
  checkClusterId, fabricBatch, fabricNet, nodeBatch, nodeNet, NODE_SYSCTL_SCRIPT, podBatch, podNetnsName,
  podNodeBatch, renderHosts, renderResolvConf, type FabricNet, type NodeNet,
} from './plan.ts';
import {
  cleanupFromRecord, deleteNetns, etcNetnsDir, killNetnsProcesses, netnsExists, readRecord, recordCreation,
} from './record.ts';
import { holderAlive, holderNetnsPath, killHolder, startHolder, type Holder, type PodNetnsMode } from './holder.ts';

export interface ClusterNetworkOptions {
  clusterId: string;
  /** The cluster's state directory: creation record and IPAM files live here. */
  stateDir: string;
  nodeCount: number;
  /** 'named' (default): pod netns keep their `ip netns` name. 'anonymous': only a holder process keeps them. */
  podNetns?: PodNetnsMode;
  log?: Logger;
}

export interface PodNetRequest { uid: string; namespace: string; name: string; hostNetwork?: boolean }
export interface PodNet {
  /** The netns to start containers in (`ip netns exec <netns> …`): the pod's own, or the node's for hostNetwork.
   *  For an anonymous pod netns this name is gone from `ip netns`; it still names the pod's /etc/netns directory. */
  netns: string;
  /** Anonymous pod netns only: its holder; enter the netns by `/proc/<pid>/ns/net` (`netnsPath`). */
  holder?: Holder;
  netnsPath?: string;
  ip: string;
  hostIP: string;
  node: string;
}

export class ClusterNetwork {
  readonly clusterId: string;
  readonly stateDir: string;
  readonly fabric: FabricNet;
  readonly nodes: readonly NodeNet[];
  readonly podNetns: PodNetnsMode;
  readonly #log: Logger;
  // anonymous pod netns name → the process that holds it
  readonly #holders = new Map<string, Holder>();
  // node name → its allocator (persisted in <stateDir>/network/ipam-<node>.json)
  readonly #ipam = new Map<string, Ipam>();

  private constructor(opts: ClusterNetworkOptions) {
    checkClusterId(opts.clusterId);
    if (!Number.isInteger(opts.nodeCount) || opts.nodeCount < 1) throw netErr.badConfig('nodeCount must be at least 1');
    this.clusterId = opts.clusterId;
    this.stateDir = opts.stateDir;
    this.fabric = fabricNet(opts.clusterId);
    this.nodes = Array.from({ length: opts.nodeCount }, (_, i) => nodeNet(opts.clusterId, i + 1));
    this.#log = opts.log ?? silent;
    this.podNetns = opts.podNetns ?? 'named';
    if (this.podNetns !== 'named' && this.podNetns !== 'anonymous') throw netErr.badConfig(`podNetns must be named or anonymous, not ${JSON.stringify(this.podNetns)}`);
    for (const n of this.nodes) this.#ipam.set(n.name, loadIpam(this.#ipamFile(n), n.podCIDR));
  }

  /** Build the fabric and the nodes. Fails with NET_ALREADY_EXISTS if any of their namespaces exists. */
  static async create(opts: ClusterNetworkOptions): Promise<ClusterNetwork> {
    const net = new ClusterNetwork(opts);
    await net.#build();
    return net;
  }

  /** Re-attach to a network built earlier (daemon restart): namespaces must exist; allocations are reloaded. */
  static async open(opts: ClusterNetworkOptions): Promise<ClusterNetwork> {
    const net = new ClusterNetwork(opts);
    for (const ns of [net.fabric.netns, ...net.nodes.map((n) => n.netns)]) {
      if (!netnsExists(ns)) throw netErr.missing(ns);
    }
    for (const e of readRecord(opts.stateDir)) {
      if (e.kind === 'holder' && holderAlive(e)) net.#holders.set(e.netns, { pid: e.pid, start: e.start });
    }
    return net;
  }

  #ipamFile(n: NodeNet): string {
    return join(this.stateDir, 'network', `ipam-${n.name}.json`);
  }

  async #build(): Promise<void> {
    const all = [this.fabric.netns, ...this.nodes.map((n) => n.netns)];
    for (const ns of all) if (netnsExists(ns)) throw netErr.exists(ns);
    const started = performance.now();
    // The guard first: from here on the root namespace cannot reach any cluster address (root-guard.ts).
    recordCreation(this.stateDir, { kind: 'root-nft-table', name: guardTableName(this.clusterId) });
    await installRootGuard(this.clusterId);
    for (const ns of all) recordCreation(this.stateDir, { kind: 'netns', name: ns });
    await ipBatch(all.map((ns) => `netns add ${ns}`));
    await ipBatch(fabricBatch(this.nodes), this.fabric.netns);
    await Promise.all(this.nodes.map(async (n) => {
      await run('ip', ['netns', 'exec', n.netns, 'sh', '-c', NODE_SYSCTL_SCRIPT]);
      await ipBatch(nodeBatch(n, this.nodes), n.netns);
      // host-network processes resolve cluster names too (their resolv.conf would otherwise be the host's)
      this.#writeEtcNetns(n.netns, renderResolvConf(undefined), renderHosts(n.name, n.address));
    }));
    this.#log.info({ clusterId: this.clusterId, nodes: this.nodes.length, ms: Math.round(performance.now() - started) }, 'cluster network created');
  }

  #writeEtcNetns(netns: string, resolv: string, hosts: string): void {
    recordCreation(this.stateDir, { kind: 'etc-netns', name: netns });
    const dir = etcNetnsDir(netns);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'resolv.conf'), resolv);
    writeFileSync(join(dir, 'hosts'), hosts);
  }

  node(name: string): NodeNet {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw netErr.unknownNode(name);
    return n;
  }

  /** The network of a pod added earlier (also after `open`), or undefined. hostNetwork pods are not tracked. */
  pod(uid: string): PodNet | undefined {
    for (const n of this.nodes) {
      const found = this.#ipam.get(n.name)!.find(uid);
      if (found) return this.#podNet(found.allocation.netns, found.ip, n);
    }
    return undefined;
  }

  #podNet(netns: string, ip: string, n: NodeNet): PodNet {
    const holder = this.#holders.get(netns);
    const base = { netns, ip, hostIP: n.address, node: n.name };
    return holder ? { ...base, holder, netnsPath: holderNetnsPath(holder) } : base;
  }

  /** Give a pod its network on `nodeName`: its own netns with a routed /32, or the node's netns for hostNetwork. */
  async addPod(nodeName: string, req: PodNetRequest): Promise<PodNet> {
    const node = this.node(nodeName);
    if (req.hostNetwork) return { netns: node.netns, ip: node.address, hostIP: node.address, node: node.name };
    if (this.pod(req.uid)) throw netErr.duplicatePod(req.uid);
    const netns = podNetnsName(this.clusterId, req.uid);
    for (const n of this.nodes) {
      for (const [, a] of this.#ipam.get(n.name)!.entries()) if (a.netns === netns) throw netErr.nameClash(netns, req.uid);
    }
    if (netnsExists(netns)) throw netErr.exists(netns);
    const ipam = this.#ipam.get(node.name)!;
    const ip = ipam.allocate({ uid: req.uid, netns, namespace: req.namespace, name: req.name });
    saveIpam(this.#ipamFile(node), ipam);
    try {
      recordCreation(this.stateDir, { kind: 'netns', name: netns });
      this.#writeEtcNetns(netns, renderResolvConf(req.namespace), renderHosts(req.name, ip));
      await run('ip', ['netns', 'add', netns]);
      await ipBatch(podNodeBatch(req.uid, netns, ip), node.netns);
      await ipBatch(podBatch(ip), netns);
      if (this.podNetns === 'anonymous') await this.#anonymise(netns, req.uid);
    } catch (err) {
      await this.#teardownPod(netns).catch(() => {});
      ipam.release(req.uid);
      saveIpam(this.#ipamFile(node), ipam);
      throw err;
    }
    this.#log.debug({ uid: req.uid, netns, ip, node: node.name }, 'pod network added');
    return this.#podNet(netns, ip, node);
  }

  /** Start the holder (recorded once it runs: until its name is gone, the netns record covers it), drop the name. */
  async #anonymise(netns: string, uid: string): Promise<void> {
    const holder = await startHolder(netns, uid);
    this.#holders.set(netns, holder);
    recordCreation(this.stateDir, { kind: 'holder', pid: holder.pid, start: holder.start, netns });
    await run('ip', ['netns', 'delete', netns]);
  }

  /** Kill what still runs in the pod's netns, delete it (its veth and /32 route go with it), free its address. */
  async removePod(uid: string): Promise<void> {
    const pod = this.pod(uid);
    if (!pod) return;
    await this.#teardownPod(pod.netns);
    const node = this.node(pod.node);
    const ipam = this.#ipam.get(node.name)!;
    ipam.release(uid);
    saveIpam(this.#ipamFile(node), ipam);
    this.#log.debug({ uid, netns: pod.netns }, 'pod network removed');
  }

  async #teardownPod(netns: string): Promise<void> {
    const holder = this.#holders.get(netns);
    if (holder) {
      await killHolder(holder);
      this.#holders.delete(netns);
    }
    await killNetnsProcesses(netns);
    await deleteNetns(netns);
    rmSync(etcNetnsDir(netns), { recursive: true, force: true });
  }

  /** Remove everything the record names (pods, nodes, fabric, /etc/netns dirs) and the IPAM state. */
  async destroy(): Promise<void> {
    await cleanupFromRecord(this.stateDir);
    rmSync(join(this.stateDir, 'network'), { recursive: true, force: true });
    this.#holders.clear();
    for (const n of this.nodes) this.#ipam.set(n.name, new Ipam(n.podCIDR));
    this.#log.info({ clusterId: this.clusterId }, 'cluster network destroyed');
  }
}
