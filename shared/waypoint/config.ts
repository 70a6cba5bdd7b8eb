// The waypoint's configuration: what the controller compiles out of HTTPRoute, GRPCRoute, TCPRoute, VirtualService,
// DestinationRule, AuthorizationPolicy, RequestAuthentication and HTTPLocalRateLimitPolicy for one waypoint, and
// what the waypoint executes. One resource per waypoint (xDS name `<namespace>/<gateway name>`) so every change is
// applied atomically: routes never point at a destination policy the waypoint has not received yet.
//
// It is an intermediate form, not the user's CRDs: names are resolved (short hosts → `namespace/hostname` service
// keys), defaults applied, subsets resolved to workload uids, and everything invalid already rejected by the
// controller (with a status condition). The waypoint still validates it (validateWaypointConfig) and keeps its last
// good configuration when a push is malformed.

/** xDS type of the resource; the payload is `WaypointConfigEnvelope` (see shared/waypoint/codec.ts). */
export const WAYPOINT_CONFIG_TYPE_URL = 'type.googleapis.com/ambientmesh.waypoint.v1.WaypointConfig';
/** Bumped on an incompatible change; a waypoint NACKs a schema it does not know. */
export const WAYPOINT_CONFIG_SCHEMA = 1;

/** `<namespace>/<hostname>`: the xDS name of an istio.workload.Service, e.g. `demo/reviews.demo.svc.cluster.local`. */
export type ServiceKeyText = string;

/** Where a piece of config came from, for logs, metrics and `meshctl waypoint status`. */
export interface ConfigSource {
  kind: 'HTTPRoute' | 'GRPCRoute' | 'TCPRoute' | 'VirtualService' | 'DestinationRule' | 'AuthorizationPolicy'
    | 'RequestAuthentication' | 'HTTPLocalRateLimitPolicy' | 'Default';
  namespace: string;
  name: string;
}

export interface WaypointConfig {
  schema: number;
  /** The waypoint's Gateway. */
  namespace: string;
  name: string;
  /** One entry per Service bound to this waypoint (its `istio.io/use-waypoint` resolves here). */
  services: ServiceListener[];
  /** Traffic policies by destination service (any service a route forwards to, bound or not). */
  destinations: DestinationPolicy[];
  /** L7 authorization (AuthorizationPolicy with targetRefs to this Gateway or to a bound Service). */
  authorization: AuthzPolicy[];
  /** RequestAuthentication for this waypoint or a bound Service. */
  authentication: JwtPolicy[];
  /** HTTPLocalRateLimitPolicy for this waypoint, a bound Service or an HTTPRoute. */
  rateLimits: RateLimitPolicy[];
}

// ---- listeners and routes ----

/** How a port's bytes are read: from the Service port's appProtocol, else its name prefix, else sniffed (AUTO). */
export type PortProtocol = 'HTTP' | 'HTTP2' | 'GRPC' | 'TCP' | 'AUTO';

export interface ServiceListener {
  service: ServiceKeyText;
  ports: Array<{ port: number; protocol: PortProtocol }>;
  /**
   * Ordered; the first route with a matching HttpMatch wins. Empty when no route is attached: the waypoint then
   * forwards to the service itself (the implicit default route). When routes exist but none matches: 404.
   */
  http: HttpRoute[];
  /** TCP routes (TCPRoute, VirtualService `tcp`); empty: forward to the service itself. */
  tcp: TcpRoute[];
}

export type StringMatch = { exact: string } | { prefix: string } | { regex: string };

export type PathMatch =
  | { exact: string }
  /** Plain string prefix (VirtualService `uri.prefix`). */
  | { prefix: string }
  /** Segment-aware prefix (Gateway API PathPrefix): `/foo` matches `/foo` and `/foo/bar`, not `/foobar`. */
  | { pathPrefix: string }
  | { regex: string };

export interface HeaderMatch {
  /** Lower-case header name. */
  name: string;
  /** Absent: the header must be present (any value). */
  value?: StringMatch;
  /** VirtualService `withoutHeaders`: the request matches when this does not. */
  invert?: boolean;
}

export interface QueryMatch {
  name: string;
  value?: StringMatch;
}

/** All set fields must match (AND). */
export interface HttpMatch {
  path?: PathMatch;
  headers?: HeaderMatch[];
  query?: QueryMatch[];
  /** Upper-case method. */
  method?: StringMatch;
  /** The service port the request arrived on. */
  port?: number;
  /** gRPC: `/<service>/<method>` is matched through `path`; these are kept for display only. */
  grpc?: { service?: string; method?: string };
  /**
   * Only requests from these clients: a GAMMA consumer route (the route's namespace), VirtualService
   * `sourceNamespace` and `sourceLabels` (resolved by the controller to the workloads that carry the labels). Each
   * list given must contain the client: its namespace from its SPIFFE id, its workload found by its address.
   */
  source?: { namespaces?: string[]; workloads?: string[] };
}

export interface HeaderOps {
  /** Lower-case names. */
  set?: Record<string, string>;
  add?: Record<string, string>;
  remove?: string[];
}

export interface BackendRef {
  service: ServiceKeyText;
  /** Service port; absent: the port the request arrived on. */
  port?: number;
  /** DestinationRule subset name (see DestinationPolicy.subsets). */
  subset?: string;
}

export interface WeightedBackend extends BackendRef {
  /** Relative weight ≥ 0; a route's weights need not sum to 100. */
  weight: number;
  /**
   * Gateway API: the backendRef is invalid (no such Service, or one no ReferenceGrant lets the route name), so the
   * requests of its share are answered with this status (500; a GRPCRoute's 503, i.e. UNAVAILABLE), never forwarded.
   */
  invalidStatus?: number;
  requestHeaders?: HeaderOps;
  responseHeaders?: HeaderOps;
}

export type PathRewrite =
  | { full: string }
  /** Replace the prefix the route's PathMatch (prefix or pathPrefix) matched; for other matches, the whole path. */
  | { prefix: string }
  | { regex: string; substitution: string };

export interface Rewrite {
  path?: PathRewrite;
  /** New Host/:authority. */
  authority?: string;
}

export interface Redirect {
  scheme?: string;
  host?: string;
  port?: number;
  path?: PathRewrite;
  /** 301 default for VirtualService, 302 for Gateway API. */
  status: number;
}

export interface Fault {
  delay?: { ms: number; percent: number };
  /** Exactly one of httpStatus and grpcStatus. */
  abort?: { httpStatus?: number; grpcStatus?: number; percent: number };
}

export interface Mirror {
  backend: BackendRef;
  /** 0–100. */
  percent: number;
}

export interface RetryPolicy {
  /** Retries after the first try (VirtualService `attempts`; Gateway API `attempts`). 0 disables. */
  attempts: number;
  perTryTimeoutMs?: number;
  /**
   * Envoy retry_on tokens: 5xx, gateway-error, reset, connect-failure, refused-stream, retriable-4xx,
   * retriable-status-codes, and the gRPC ones cancelled, deadline-exceeded, internal, resource-exhausted, unavailable.
   */
  retryOn: string[];
  /** For `retriable-status-codes` (and Gateway API `codes`). */
  retriableStatusCodes?: number[];
  /** Base of the exponential back-off between tries; default 25 ms (Envoy's). */
  backoffMs?: number;
}

export type RouteAction =
  | { kind: 'forward'; backends: WeightedBackend[] }
  | { kind: 'redirect'; redirect: Redirect }
  | { kind: 'respond'; status: number; body?: string };

export interface HttpRoute {
  /** Stable id for metrics and logs: `<Kind>/<namespace>/<name>#<rule index>`. */
  id: string;
  source: ConfigSource;
  /** OR; empty matches every request. */
  matches: HttpMatch[];
  action: RouteAction;
  requestHeaders?: HeaderOps;
  responseHeaders?: HeaderOps;
  rewrite?: Rewrite;
  fault?: Fault;
  mirrors?: Mirror[];
  /** Whole request, retries included; absent: no timeout. */
  timeoutMs?: number;
  /** Absent: the mesh default (2 attempts on connect-failure, refused-stream, unavailable, cancelled, 503). */
  retries?: RetryPolicy;
}

export interface TcpRoute {
  id: string;
  source: ConfigSource;
  /** VirtualService tcp match on destination port; absent: any. */
  port?: number;
  backends: WeightedBackend[];
}

// ---- destinations (DestinationRule) ----

export type LoadBalancer =
  | { simple: 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM' }
  | { consistentHash: { header?: string; cookie?: { name: string; path?: string; ttlMs?: number }; sourceIp?: boolean; queryParameter?: string } };

export interface ConnectionPool {
  /** Max upstream connections (HTTP/1.1: concurrent requests) to the destination; overflow → 503. */
  maxConnections?: number;
  connectTimeoutMs?: number;
  /** Requests allowed to wait for a connection; beyond it → 503. */
  http1MaxPendingRequests?: number;
  /** Max concurrent requests to the destination (all protocols); overflow → 503. */
  http2MaxRequests?: number;
  /** Requests per upstream connection before it is closed; 0/absent: unlimited. */
  maxRequestsPerConnection?: number;
  /** Max concurrent retries to the destination. */
  maxRetries?: number;
  idleTimeoutMs?: number;
}

export interface OutlierDetection {
  consecutive5xxErrors?: number;
  consecutiveGatewayErrors?: number;
  intervalMs: number;
  baseEjectionTimeMs: number;
  /** 0–100. */
  maxEjectionPercent: number;
  /** Below this share of healthy endpoints, ejection is disabled (Envoy panic threshold); 0–100. */
  minHealthPercent?: number;
}

export interface TrafficPolicy {
  loadBalancer?: LoadBalancer;
  connectionPool?: ConnectionPool;
  outlierDetection?: OutlierDetection;
}

export interface Subset {
  name: string;
  labels: Record<string, string>;
  /** Workload uids (istio.workload.Workload.uid) whose labels match, resolved by the controller. */
  workloads: string[];
  /** Merged over the destination's policy by the controller (fields present here win). */
  policy?: TrafficPolicy;
  /**
   * Per service port, the whole policy for this subset there: the destination's port-level settings, then the
   * subset's policy, then the subset's own portLevelSettings, merged by the controller. Wins over `policy`.
   */
  ports?: Array<{ port: number; policy: TrafficPolicy }>;
}

export interface DestinationPolicy {
  service: ServiceKeyText;
  source: ConfigSource;
  policy: TrafficPolicy;
  /** Per service port overrides (DestinationRule portLevelSettings), already merged with `policy`. */
  ports?: Array<{ port: number; policy: TrafficPolicy }>;
  subsets: Subset[];
}

// ---- authorization, authentication, rate limits ----

/** Which requests a policy applies to: everything through the waypoint, or those addressed to these services. */
export type PolicyTarget = { all: true; services?: undefined } | { all?: undefined; services: ServiceKeyText[] };

/** Values use Istio's string rules: exact, `prefix*`, `*suffix`, `*`; paths also `{*}` and `{**}` templates. */
export interface AuthzSource {
  principals?: string[];
  notPrincipals?: string[];
  requestPrincipals?: string[];
  notRequestPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
  ipBlocks?: string[];
  notIpBlocks?: string[];
  remoteIpBlocks?: string[];
  notRemoteIpBlocks?: string[];
}

export interface AuthzOperation {
  hosts?: string[];
  notHosts?: string[];
  ports?: string[];
  notPorts?: string[];
  methods?: string[];
  notMethods?: string[];
  paths?: string[];
  notPaths?: string[];
}

export interface AuthzCondition {
  /** e.g. `request.headers[x-token]`, `source.ip`, `request.auth.claims[groups]`, `destination.port`. */
  key: string;
  values?: string[];
  notValues?: string[];
}

/** A rule matches when some `from` matches (or none given), some `to` matches (or none), and every `when`. */
export interface AuthzRule {
  from: AuthzSource[];
  to: AuthzOperation[];
  when: AuthzCondition[];
}

export interface AuthzPolicy {
  namespace: string;
  name: string;
  action: 'ALLOW' | 'DENY' | 'AUDIT';
  target: PolicyTarget;
  /** OR. An ALLOW with no rules allows nothing; a rule with empty from/to/when matches everything. */
  rules: AuthzRule[];
  /** `istio.io/dry-run: "true"`: evaluated and logged, never enforced. */
  dryRun?: boolean;
}

export interface JwtRule {
  issuer: string;
  /** Empty: any audience. */
  audiences?: string[];
  /** Inline JWKS (JSON text). */
  jwks?: string;
  /** Fetched by the waypoint (in the cluster network), cached and refreshed. */
  jwksUri?: string;
  /** Default: `Authorization: Bearer <token>`. */
  fromHeaders?: Array<{ name: string; prefix?: string }>;
  /** Default none; e.g. `access_token`. */
  fromParams?: string[];
  outputClaimToHeaders?: Array<{ header: string; claim: string }>;
  outputPayloadToHeader?: string;
  forwardOriginalToken?: boolean;
}

export interface JwtPolicy {
  namespace: string;
  name: string;
  target: PolicyTarget;
  rules: JwtRule[];
}

export interface RateLimitPolicy {
  namespace: string;
  name: string;
  target: PolicyTarget;
  /** Route ids (HttpRoute.id prefix `<Kind>/<ns>/<name>`) when the policy targets an HTTPRoute. */
  routes?: string[];
  /** Requests per second for all clients together. */
  total?: { requestsPerSecond: number; burst?: number };
  /** Requests per second for each client identity (SPIFFE id; plaintext clients by source IP). */
  perIdentity?: { requestsPerSecond: number; burst?: number };
  /** Per-identity limits for named clients (SPIFFE ids), instead of perIdentity. */
  overrides?: Array<{ principals: string[]; requestsPerSecond: number; burst?: number }>;
}
