// Pure: every active namespace has a `default` ServiceAccount.
import type { V1Namespace, V1ServiceAccount } from '@kubernetes/client-node';
import { isTerminating } from './util.ts';

export function planServiceAccounts(namespaces: V1Namespace[], accounts: V1ServiceAccount[]): V1ServiceAccount[] {
  const have = new Set(accounts.filter((a) => a.metadata?.name === 'default').map((a) => a.metadata?.namespace));
  return namespaces
    .filter((n) => !isTerminating(n) && n.status?.phase !== 'Terminating' && !have.has(n.metadata?.name))
    .map((n) => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: n.metadata?.name } }));
}
