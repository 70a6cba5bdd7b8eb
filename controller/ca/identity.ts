// Identities: SPIFFE ids of Kubernetes service accounts and the Kubernetes usernames TokenReview returns.
// Branded so an id string is never mistaken for a service account name.

export type SpiffeId = string & { readonly __brand: 'SpiffeId' };

export interface ServiceAccountRef {
  namespace: string;
  serviceAccount: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SA_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export function spiffeId(trustDomain: string, sa: ServiceAccountRef): SpiffeId {
  return `spiffe://${trustDomain}/ns/${sa.namespace}/sa/${sa.serviceAccount}` as SpiffeId;
}

/** `spiffe://<td>/ns/<ns>/sa/<sa>` → parts, or undefined when it is not a service-account SPIFFE id. */
export function parseSpiffeId(id: string): { trustDomain: string; sa: ServiceAccountRef } | undefined {
  const m = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(id);
  if (!m || !DNS_LABEL.test(m[2]!) || !SA_NAME.test(m[3]!)) return undefined;
  return { trustDomain: m[1]!, sa: { namespace: m[2]!, serviceAccount: m[3]! } };
}

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
