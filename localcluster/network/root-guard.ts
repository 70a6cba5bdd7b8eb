// The root-namespace guard: while a cluster exists, one nftables table in the *root* network namespace
// rejects anything the root namespace sends to the cluster's address ranges. Cluster addresses live only
// inside the namespaces we create; a bug that dials one from the daemon (which runs in the root namespace)
// would otherwise leave the machine through its default route. With the guard it fails at once, locally.
// The table is recorded before it is created and removed by cleanupFromRecord like everything else.
import { run } from './exec.ts';
import { SERVICE_CIDR, FABRIC_ADDRESS, FABRIC_PREFIX } from './plan.ts';

/** Every range a local cluster uses: Services, the node fabric, pod CIDRs. */
export const CLUSTER_RANGES = [SERVICE_CIDR, `${FABRIC_ADDRESS.replace(/\.\d+$/, '.0')}/${FABRIC_PREFIX}`, '10.244.0.0/16'];

export function guardTableName(clusterId: string): string {
  return `localcluster-guard-${clusterId}`;
}

/** The guard table as an nft script (pure). */
export function renderRootGuard(clusterId: string): string {
  const t = guardTableName(clusterId);
  return [
    `table inet ${t}`,
    `delete table inet ${t}`,
    `table inet ${t} {`,
    '  chain output {',
    '    type filter hook output priority filter; policy accept;',
    `    ip daddr { ${CLUSTER_RANGES.join(', ')} } counter reject with icmpx admin-prohibited`,
    '  }',
    '}',
    '',
  ].join('\n');
}

export async function installRootGuard(clusterId: string): Promise<void> {
  await run('nft', ['-f', '-'], renderRootGuard(clusterId));
}

/** Remove the guard table from the root namespace; a missing table is fine. */
export async function removeRootGuard(name: string): Promise<boolean> {
  try {
    await run('nft', ['list', 'table', 'inet', name]);
  } catch {
    return false;
  }
  await run('nft', ['delete', 'table', 'inet', name]);
  return true;
}
