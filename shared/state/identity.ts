// The SPIFFE identity a workload's certificate carries, as the proxies derive it from the Workload resource.
import { spiffeId } from '../spiffe.ts';
import type { SpiffeId, Workload } from './types.ts';

export const DEFAULT_TRUST_DOMAIN = 'cluster.local';
export const DEFAULT_SERVICE_ACCOUNT = 'default';

/**
 * `spiffe://<td>/ns/<ns>/sa/<sa>`. The workload's own trust domain wins over the configured one (a workload
 * from another trust domain keeps its identity); absent fields take Istio's defaults.
 */
export function workloadIdentity(w: Workload, trustDomain?: string): SpiffeId {
  const td = w.trustDomain || trustDomain || DEFAULT_TRUST_DOMAIN;
  const sa = w.serviceAccount || DEFAULT_SERVICE_ACCOUNT;
  return spiffeId(td, { namespace: w.namespace ?? '', serviceAccount: sa });
}
