// Identities: SPIFFE ids of Kubernetes service accounts and the Kubernetes usernames TokenReview returns.
// Branded so an id string is never mistaken for a service account name.

export { spiffeId, parseSpiffeId, type SpiffeId } from '../../shared/spiffe.ts';
export type { ServiceAccountName as ServiceAccountRef } from '../../shared/spiffe.ts';
import type { ServiceAccountName as ServiceAccountRef } from '../../shared/spiffe.ts';

/** `system:serviceaccount:<ns>:<sa>` → parts, or undefined for any other user. */
export function parseServiceAccountUser(username: string): ServiceAccountRef | undefined {
  const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(username);
  return m ? { namespace: m[1]!, serviceAccount: m[2]! } : undefined;
}

/** `ns/name` → ref (for configuration such as the node proxy service account). */
export function parseServiceAccountRef(s: string): ServiceAccountRef {
  const [namespace, serviceAccount, extra] = s.split('/');
  if (!namespace || !serviceAccount || extra !== undefined) throw new Error(`service account "${s}" must be written namespace/name`);
  return { namespace, serviceAccount };
}

export const sameServiceAccount = (a: ServiceAccountRef, b: ServiceAccountRef): boolean =>
  a.namespace === b.namespace && a.serviceAccount === b.serviceAccount;
