// Names of the network namespaces a local cluster creates (see ARCHITECTURE.md, Topology). Every
// name starts with the cluster id, so clusters never collide and teardown can tell ours apart.
export function fabricNetns(clusterId: string): string {
  return `${clusterId}-fabric`;
}

/** Node names are `node-<i>`; the node's netns is `<cid>-node-<i>`. */
export function nodeName(index: number): string {
  return `node-${index}`;
}

export function nodeNetns(clusterId: string, node: string): string {
  return `${clusterId}-${node}`;
}

export function podNetns(clusterId: string, uid: string): string {
  return `${clusterId}-pod-${uid.replace(/-/g, '').slice(0, 8)}`;
}
