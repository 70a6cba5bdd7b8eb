// Owns the parsed, validated form of each route kind, between the user's JSON and the compiled WaypointConfig: the
// parsers (gateway-api.ts, virtual-service.ts, destination-rule.ts) produce it without knowing any waypoint, and
// compile.ts resolves its references (service names and hosts, subsets) for one waypoint. Everything except
// references is already in the config's shape (HttpMatch, HeaderOps, Redirect ...), defaults applied.

import type {
  ConfigSource, Fault, HeaderOps, HttpMatch, Redirect, RetryPolicy, Rewrite, TrafficPolicy,
} from '../../../shared/waypoint/config.ts';
import type { KubeObject } from '../verdict.ts';

/** Istio's retry when a route says nothing (IR: retries absent); used as the base when only a per-try timeout is set. */
export function meshDefaultRetry(): RetryPolicy {
  return { attempts: 2, retryOn: ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes'], retriableStatusCodes: [503] };
}

export type RouteKind = 'HTTPRoute' | 'GRPCRoute' | 'TCPRoute' | 'VirtualService' | 'DestinationRule';

/** The Gateway API route kinds (status per parent, ReferenceGrant for cross-namespace references). */
export const GATEWAY_ROUTE_KINDS: ReadonlySet<string> = new Set(['HTTPRoute', 'GRPCRoute', 'TCPRoute']);

/** A backend as written: a Service by name (Gateway API) or a host, short or fully qualified (Istio). */
export type Target =
  | { by: 'name'; namespace: string; name: string }
  /** `namespace` is the referring object's: Istio reads short names relative to it. */
  | { by: 'host'; host: string; namespace: string };

/** Field paths for verdict messages: the reference itself, and its subset when it names one. */
export interface RefFields {
  target: string;
  subset?: string;
}

export interface BackendSpec {
  target: Target;
  port?: number;
  subset?: string;
  weight: number;
  requestHeaders?: HeaderOps;
  responseHeaders?: HeaderOps;
  fields: RefFields;
}

export interface MirrorSpec {
  target: Target;
  port?: number;
  subset?: string;
  percent: number;
  fields: RefFields;
}

export type ActionSpec =
  | { kind: 'forward'; backends: BackendSpec[] }
  | { kind: 'redirect'; redirect: Redirect }
  | { kind: 'respond'; status: number; body?: string };

/**
 * A match as parsed: the waypoint's HttpMatch, plus VirtualService `sourceLabels`, which compile.ts turns into the
 * uids of the workloads carrying them (`source.workloads`).
 */
export type MatchSpec = HttpMatch & { sourceLabels?: Record<string, string> };

export interface HttpRuleSpec {
  /** Index of the rule in its object (`spec.rules[i]`, `spec.http[i]`): the route id's suffix. */
  index: number;
  /** OR. Gateway API rules are split one match per compiled route for precedence sorting. */
  matches: MatchSpec[];
  /** The rule had no matches (Gateway API: sorted after every rule that has one, as Istio does). */
  matchAll: boolean;
  action: ActionSpec;
  /**
   * Gateway API: the status for requests sent to an invalid backend ("MUST receive a 500"; gRPC UNAVAILABLE, which
   * 503 maps to): the whole rule's answer when every backend is invalid, else each invalid backend's share's. Istio
   * keeps unresolvable destinations and fails at request time instead.
   */
  allInvalidStatus?: number;
  requestHeaders?: HeaderOps;
  responseHeaders?: HeaderOps;
  rewrite?: Rewrite;
  fault?: Fault;
  mirrors: MirrorSpec[];
  timeoutMs?: number;
  retries?: RetryPolicy;
}

export interface ObjectInfo {
  kind: RouteKind;
  namespace: string;
  name: string;
  /** RFC 3339 creationTimestamp; '' when unknown (sorts first, as the zero time does in Go). */
  created: string;
  object: KubeObject;
}

/** A Service a Gateway API route attaches to (GAMMA): `port` restricts it to one service port. */
export interface ParentRefSpec {
  namespace: string;
  name: string;
  port?: number;
  /** Service port name (sectionName); resolved against the Service's ports at compile time. */
  sectionName?: string;
}

export interface GatewayRouteSpec extends ObjectInfo {
  kind: 'HTTPRoute' | 'GRPCRoute' | 'TCPRoute';
  parents: ParentRefSpec[];
  /** HTTPRoute and GRPCRoute rules. */
  http: HttpRuleSpec[];
  /** TCPRoute: the first rule's backends. */
  tcp?: BackendSpec[];
}

export interface TcpRuleSpec {
  index: number;
  /** One compiled TcpRoute per entry; undefined: any port. */
  ports: Array<number | undefined>;
  backends: BackendSpec[];
}

export interface VirtualServiceSpec extends ObjectInfo {
  kind: 'VirtualService';
  /** As written; resolved against the object's namespace at compile time. */
  hosts: string[];
  /** False when `spec.gateways` is set without the reserved `mesh`: the object is for gateways, not waypoints. */
  mesh: boolean;
  /** Rules that apply to the mesh (a rule whose every match names only other gateways is dropped). */
  http: HttpRuleSpec[];
  tcp: TcpRuleSpec[];
}

export interface SubsetSpec {
  name: string;
  labels: Record<string, string>;
  /** The subset's own trafficPolicy (without port-level settings), not yet merged. */
  policy?: TrafficPolicy;
  /** The subset's own portLevelSettings, not yet merged. */
  ports?: Array<{ port: number; policy: TrafficPolicy }>;
}

export interface DestinationRuleSpec extends ObjectInfo {
  kind: 'DestinationRule';
  /** As written (short names are relative to the object's namespace). */
  host: string;
  /** `workloadSelector` set: the rule is for the selected client workloads' own proxies, not for waypoints. */
  selective: boolean;
  /** Absent when the rule has no trafficPolicy (a later rule for the same host may supply it). */
  policy?: TrafficPolicy;
  ports: Array<{ port: number; policy: TrafficPolicy }>;
  subsets: SubsetSpec[];
}

export function sourceOf(o: ObjectInfo): ConfigSource {
  return { kind: o.kind, namespace: o.namespace, name: o.name };
}

export function objectInfo<K extends RouteKind>(kind: K, o: KubeObject): ObjectInfo & { kind: K } {
  const created = (o.metadata as { creationTimestamp?: unknown }).creationTimestamp;
  return {
    kind,
    namespace: o.metadata.namespace ?? '',
    name: o.metadata.name ?? '',
    created: typeof created === 'string' ? created : '',
    object: o,
  };
}

/** Oldest first, then `<namespace>/<name>` (Gateway API's tie-break, also used for Istio kinds). */
export function byAge(a: ObjectInfo, b: ObjectInfo): number {
  const ta = createdMs(a);
  const tb = createdMs(b);
  if (ta !== tb) return ta - tb;
  const ka = `${a.namespace}/${a.name}`;
  const kb = `${b.namespace}/${b.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function createdMs(o: ObjectInfo): number {
  const t = o.created === '' ? 0 : Date.parse(o.created);
  return Number.isNaN(t) ? 0 : t;
}

/** A copy of `o` without its undefined-valued keys, so compiled objects compare and encode cleanly. */
export function compact<T extends object>(o: T): T {
  const out = {} as Record<string, unknown>;
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}
