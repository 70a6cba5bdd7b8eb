// How to enter a pod's network namespace from outside the daemon (meshctl exec, tests): by its `ip netns` name
// while it has one, else (anonymous pod netns, holder.ts) through its live holder found in the creation record.
import { readRecord, etcNetnsDir, netnsExists } from './record.ts';
import { holderAlive, holderNetnsPath } from './holder.ts';
import { podNetnsName } from './plan.ts';

/** A name for `ip netns exec`, or the path to enter plus the /etc/netns dir `ip netns exec` would have used
 *  (the same shape as the kubelet's NetnsRef, so `runnerArgv` turns it into a command). */
export type PodNetnsRef = string | { path: string; etcDir: string };

/** The pod's namespace, or undefined when it has neither a name nor a live holder (pod gone). */
export function podNetnsRef(stateDir: string, clusterId: string, uid: string): PodNetnsRef | undefined {
  const name = podNetnsName(clusterId, uid);
  if (netnsExists(name)) return name;
  const holder = readRecord(stateDir).reverse().find((e) => e.kind === 'holder' && e.netns === name && holderAlive(e));
  return holder?.kind === 'holder' ? { path: holderNetnsPath(holder), etcDir: etcNetnsDir(name) } : undefined;
}
