// localcluster/network: the cluster's network — fabric, nodes and pods as network namespaces (ClusterNetwork),
// the crash-safe creation record and its cleanup, and kube-proxy (pure nftables renderer + per-node applier).
export { ClusterNetwork, type ClusterNetworkOptions, type PodNet, type PodNetRequest } from './cluster-network.ts';
export {
  CLUSTER_DNS_IP, CLUSTER_DOMAIN, FABRIC_ADDRESS, SERVICE_CIDR, fabricNet, nodeNet, podNetnsName,
  renderHosts, renderResolvConf, type FabricNet, type NodeNet,
} from './plan.ts';
export {
  cleanupFromRecord, cleanupFromRecordDetailed, etcNetnsDir, killNetnsProcesses, netnsExists, netnsPids, readRecord,
  recordCreation, type CleanupReport, type RecordEntry,
} from './record.ts';
export { planServices, renderProxyRules, PROXY_TABLE, type ServicePortRule, type Backend } from './proxy-rules.ts';
export { KubeProxy, nftApply, type KubeProxyOptions, type ScriptApplier } from './kube-proxy.ts';
export { NetworkError } from './errors.ts';
export {
  HOLDER_UID_ENV, POD_NETNS_MODES, holderAlive, holderArgv, holderNetnsPath, type Holder, type PodNetnsMode,
} from './holder.ts';
export { podNetnsRef, type PodNetnsRef } from './pod-netns.ts';
export { CLUSTER_RANGES, guardTableName, renderRootGuard } from './root-guard.ts';
