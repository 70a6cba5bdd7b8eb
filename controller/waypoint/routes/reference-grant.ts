// Owns the Gateway API's ReferenceGrant decision (gateway.networking.k8s.io v1beta1): whether a route may refer to
// a Service in another namespace. A reference within the route's namespace is always allowed; one across namespaces
// needs a ReferenceGrant in the referent's namespace whose `spec.from` lists the route's group, kind and namespace
// and whose `spec.to` lists core Services (group "", also spelled "core" as in backendRefs), by name or (name
// absent or empty) all of them. Grants are read as the informers deliver them; malformed entries grant nothing.
// Istio kinds (VirtualService) are not subject to ReferenceGrant.

import type { KubeObject } from '../verdict.ts';

const GATEWAY_GROUP = 'gateway.networking.k8s.io';
const CORE_GROUPS = ['', 'core'];

export interface ReferenceFrom {
  /** The referring route's kind: HTTPRoute, GRPCRoute, TCPRoute. */
  kind: string;
  namespace: string;
}

/** The referent: a core Service. */
export interface ReferenceTo {
  namespace: string;
  name: string;
}

export function referenceAllowed(grants: readonly KubeObject[], from: ReferenceFrom, to: ReferenceTo): boolean {
  if (from.namespace === to.namespace) return true;
  return grants.some((g) => g.metadata.namespace === to.namespace && grantAllows(g.spec, from, to));
}

function grantAllows(spec: unknown, from: ReferenceFrom, to: ReferenceTo): boolean {
  const s = record(spec);
  if (!s) return false;
  const fromOk = list(s.from).some((f) => f.group === GATEWAY_GROUP && f.kind === from.kind && f.namespace === from.namespace);
  if (!fromOk) return false;
  return list(s.to).some((t) => {
    const group = t.group ?? '';
    const name = t.name ?? '';
    return typeof group === 'string' && CORE_GROUPS.includes(group) && t.kind === 'Service' && (name === '' || name === to.name);
  });
}

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : undefined;
}

function list(v: unknown): Array<Record<string, unknown>> {
  return Array.isArray(v) ? v.map(record).filter((x): x is Record<string, unknown> => x !== undefined) : [];
}
