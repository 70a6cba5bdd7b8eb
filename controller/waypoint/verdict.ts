// The verdict on one waypoint config object (route, destination rule, L7 policy): accepted, or rejected with a
// reason and a message naming the offending field (`spec.http[0].route[1].weight: must be 0..100`). The status
// writer turns it into the object's condition (Gateway API route: status.parents[].conditions Accepted;
// Istio kinds: status.conditions WaypointAccepted / Accepted). A rejected object is not used at all.

export type WaypointConfigKind = 'HTTPRoute' | 'GRPCRoute' | 'TCPRoute' | 'VirtualService' | 'DestinationRule'
  | 'AuthorizationPolicy' | 'RequestAuthentication' | 'HTTPLocalRateLimitPolicy';

export interface ConfigVerdict {
  kind: WaypointConfigKind;
  namespace: string;
  name: string;
  generation?: number;
  accepted: boolean;
  /** CamelCase, e.g. `Accepted`, `Invalid`, `BackendNotFound`, `UnsupportedValue`. */
  reason: string;
  /** For a rejection: `<field path>: <what is wrong and what to do>`. */
  message: string;
}

/** A Kubernetes object as the informers deliver it (plain JSON). */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { namespace?: string; name?: string; generation?: number; labels?: Record<string, string>; annotations?: Record<string, string>; uid?: string };
  spec?: unknown;
}

export function accepted(kind: WaypointConfigKind, o: KubeObject): ConfigVerdict {
  return { kind, namespace: o.metadata.namespace ?? '', name: o.metadata.name ?? '', generation: o.metadata.generation, accepted: true, reason: 'Accepted', message: '' };
}

export function rejected(kind: WaypointConfigKind, o: KubeObject, reason: string, message: string): ConfigVerdict {
  return { kind, namespace: o.metadata.namespace ?? '', name: o.metadata.name ?? '', generation: o.metadata.generation, accepted: false, reason, message };
}
