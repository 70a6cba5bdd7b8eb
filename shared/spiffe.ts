// SPIFFE identities of Kubernetes service accounts, `spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>`:
// the one formatter and parser the CA, ztunnel's certificates, its routes and its inbound checks share. Branded so
// an id string is never mistaken for a service account name.

export type SpiffeId = string & { readonly __brand: 'SpiffeId' };

export interface ServiceAccountName {
  namespace: string;
  serviceAccount: string;
}

/** A service account in a trust domain: the unit of identity. */
export interface ServiceAccountRef extends ServiceAccountName {
  trustDomain: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SA_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export function spiffeId(trustDomain: string, sa: ServiceAccountName): SpiffeId {
  return `spiffe://${trustDomain}/ns/${sa.namespace}/sa/${sa.serviceAccount}` as SpiffeId;
}

/** `spiffe://<td>/ns/<ns>/sa/<sa>` → parts, or undefined when it is not a service-account SPIFFE id. */
export function parseSpiffeId(id: string): { trustDomain: string; sa: ServiceAccountName } | undefined {
  const m = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(id);
  if (!m || !DNS_LABEL.test(m[2]!) || !SA_NAME.test(m[3]!)) return undefined;
  return { trustDomain: m[1]!, sa: { namespace: m[2]!, serviceAccount: m[3]! } };
}
