// The waypoint's L7 request metrics with Istio's names, labels and buckets (istio_requests_total,
// istio_request_duration_milliseconds, istio_request_bytes, istio_response_bytes), reporter="waypoint". Label-set
// construction (`requestLabels`) is pure; `RequestMetrics` registers on the Registry it is given. Istio's standard
// set also carries the canonical service/revision labels (Kiali groups by them), so they are here too.
//
// Response flags are Envoy's short codes. Envoy has no flag for an RBAC (AuthorizationPolicy) or JWT denial: its
// RBAC filter sends a local 403 with response_code_details `rbac_access_denied_matched_policy[...]` and leaves the
// flags '-', and Istio's metrics for such a request show response_code="403", response_flags="-". We do the same;
// UAEX is only for a denial by an external authorizer (CUSTOM action), RL for local rate limiting.
import type { Registry } from 'prom-client';
import type { Workload } from '../../shared/proto/types.ts';
import { spiffeId } from '../../shared/spiffe.ts';
import type { ServiceKeyText } from '../../shared/waypoint/config.ts';
import { LabeledStats, type Series } from './series.ts';

export const REQUEST_LABEL_NAMES = [
  'reporter',
  'source_workload', 'source_workload_namespace', 'source_principal', 'source_app', 'source_version',
  'source_canonical_service', 'source_canonical_revision', 'source_cluster',
  'destination_workload', 'destination_workload_namespace', 'destination_principal', 'destination_app', 'destination_version',
  'destination_canonical_service', 'destination_canonical_revision',
  'destination_service', 'destination_service_name', 'destination_service_namespace', 'destination_cluster',
  'request_protocol', 'response_code', 'grpc_response_status', 'response_flags', 'connection_security_policy',
] as const;
export type RequestLabelName = (typeof REQUEST_LABEL_NAMES)[number];
export type RequestLabels = Record<RequestLabelName, string>;

/** Istio's default buckets for istio_request_duration_milliseconds. */
export const DURATION_BUCKETS_MS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];
/** Istio's default buckets for istio_request_bytes / istio_response_bytes. */
export const BYTES_BUCKETS = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000];

/** Envoy's response flags (short form), in the order Envoy prints them. */
export const RESPONSE_FLAGS = {
  FAILED_LOCAL_HEALTH_CHECK: 'LH',
  NO_HEALTHY_UPSTREAM: 'UH',
  UPSTREAM_REQUEST_TIMEOUT: 'UT',
  LOCAL_RESET: 'LR',
  UPSTREAM_REMOTE_RESET: 'UR',
  UPSTREAM_CONNECTION_FAILURE: 'UF',
  UPSTREAM_CONNECTION_TERMINATION: 'UC',
  UPSTREAM_OVERFLOW: 'UO',
  NO_ROUTE_FOUND: 'NR',
  DELAY_INJECTED: 'DI',
  FAULT_INJECTED: 'FI',
  RATE_LIMITED: 'RL',
  UNAUTHORIZED_EXTERNAL_SERVICE: 'UAEX',
  RATELIMIT_SERVICE_ERROR: 'RLSE',
  DOWNSTREAM_CONNECTION_TERMINATION: 'DC',
  UPSTREAM_RETRY_LIMIT_EXCEEDED: 'URX',
  STREAM_IDLE_TIMEOUT: 'SI',
  INVALID_ENVOY_REQUEST_HEADERS: 'IH',
  DOWNSTREAM_PROTOCOL_ERROR: 'DPE',
  UPSTREAM_MAX_STREAM_DURATION_REACHED: 'UMSDR',
  DURATION_TIMEOUT: 'DT',
  UPSTREAM_PROTOCOL_ERROR: 'UPE',
  NO_CLUSTER_FOUND: 'NC',
} as const;
export type ResponseFlag = (typeof RESPONSE_FLAGS)[keyof typeof RESPONSE_FLAGS];

const FLAG_ORDER: readonly ResponseFlag[] = Object.values(RESPONSE_FLAGS);

/** Envoy's %RESPONSE_FLAGS%: the flags set, comma-joined in Envoy's order, '-' for none. */
export function formatResponseFlags(flags: Iterable<ResponseFlag>): string {
  const set = new Set(flags);
  const out = FLAG_ORDER.filter((f) => set.has(f));
  return out.length === 0 ? '-' : out.join(',');
}

const UNKNOWN = 'unknown';

/** `<namespace>/<hostname>` → the three destination_service labels. A Kubernetes Service's name is its first label. */
export function serviceLabels(key: ServiceKeyText | undefined): { hostname: string; name: string; namespace: string } {
  if (!key) return { hostname: UNKNOWN, name: UNKNOWN, namespace: UNKNOWN };
  const slash = key.indexOf('/');
  const namespace = slash < 0 ? UNKNOWN : key.slice(0, slash);
  const hostname = key.slice(slash + 1);
  const dot = hostname.indexOf('.');
  const name = dot > 0 && hostname.slice(dot + 1).startsWith(`${namespace}.svc.`) ? hostname.slice(0, dot) : hostname;
  return { hostname, name, namespace };
}

/** What the waypoint knows about one request when it is done, for its metric labels. */
export interface RequestFacts {
  /** The client workload (found by the tunnel's source address or identity). */
  srcWorkload?: Workload;
  /** The client's SPIFFE id from the HBONE tunnel. */
  srcPrincipal?: string;
  /** The endpoint the request was sent to; absent when it never left the waypoint (denied, no route, fault). */
  dstWorkload?: Workload;
  /** Defaults to the destination workload's SPIFFE id. */
  dstPrincipal?: string;
  /** The Service addressed (`<namespace>/<hostname>`). */
  dstService?: ServiceKeyText;
  grpc: boolean;
  /** HTTP status sent to the client; 0 when none was (client gone first), as Envoy reports. */
  responseCode: number;
  /** gRPC status of a gRPC response (grpc-status trailer or trailers-only header). */
  grpcStatus?: number;
  /** Envoy response flags ('-' for none; see formatResponseFlags). */
  responseFlags: string;
  /** The request came over a mutual-TLS HBONE tunnel. */
  mtls: boolean;
}

function workloadPrincipal(w: Workload | undefined): string | undefined {
  if (!w?.serviceAccount || !w.namespace) return undefined;
  return spiffeId(w.trustDomain || 'cluster.local', { namespace: w.namespace, serviceAccount: w.serviceAccount });
}

const HTTP_TO_GRPC: Record<number, number> = { 400: 13, 401: 16, 403: 7, 404: 12, 429: 14, 502: 14, 503: 14, 504: 14 };

/**
 * Envoy's `response.grpc_status`, which Istio's label reads: the grpc-status the upstream sent, else the gRPC status
 * the HTTP status maps to (gRPC's HTTP→gRPC table), '' when there was no response; always '' for plain HTTP.
 */
function grpcResponseStatus(f: RequestFacts): string {
  if (!f.grpc) return '';
  if (f.grpcStatus !== undefined) return String(f.grpcStatus);
  if (f.responseCode === 0) return '';
  return String(HTTP_TO_GRPC[f.responseCode] ?? 2 /* UNKNOWN */);
}

export function requestLabels(f: RequestFacts): RequestLabels {
  const s = f.srcWorkload;
  const d = f.dstWorkload;
  const svc = serviceLabels(f.dstService);
  return {
    reporter: 'waypoint',
    source_workload: s?.workloadName || s?.name || UNKNOWN,
    source_workload_namespace: s?.namespace || UNKNOWN,
    source_principal: f.srcPrincipal || UNKNOWN,
    source_app: s?.canonicalName || UNKNOWN,
    source_version: s?.canonicalRevision || UNKNOWN,
    source_canonical_service: s?.canonicalName || UNKNOWN,
    source_canonical_revision: s?.canonicalRevision || 'latest',
    source_cluster: s?.clusterId || UNKNOWN,
    destination_workload: d?.workloadName || d?.name || UNKNOWN,
    destination_workload_namespace: d?.namespace || UNKNOWN,
    destination_principal: f.dstPrincipal || workloadPrincipal(d) || UNKNOWN,
    destination_app: d?.canonicalName || UNKNOWN,
    destination_version: d?.canonicalRevision || UNKNOWN,
    destination_canonical_service: d?.canonicalName || UNKNOWN,
    destination_canonical_revision: d?.canonicalRevision || 'latest',
    destination_service: svc.hostname,
    destination_service_name: svc.name,
    destination_service_namespace: svc.namespace,
    destination_cluster: d?.clusterId || UNKNOWN,
    request_protocol: f.grpc ? 'grpc' : 'http',
    response_code: String(f.responseCode),
    grpc_response_status: grpcResponseStatus(f),
    response_flags: f.responseFlags || '-',
    connection_security_policy: f.mtls ? 'mutual_tls' : 'none',
  };
}

export interface RequestValues { durationMs: number; requestBytes: number; responseBytes: number }

/** Numbers for Workload objects, so a label set's cache key can name one without reading its fields. */
const workloadIds = new WeakMap<Workload, number>();
let nextWorkloadId = 1;
function workloadId(w: Workload | undefined): number {
  if (!w) return 0;
  let id = workloadIds.get(w);
  if (id === undefined) workloadIds.set(w, (id = nextWorkloadId++));
  return id;
}

/**
 * The facts that decide a request's labels, as a string. Workloads count by object: xDS replaces a workload's
 * object when it changes, so a changed workload gets a new key and its labels are computed afresh.
 */
function factsKey(f: RequestFacts): string {
  return `${workloadId(f.srcWorkload)}\u0000${f.srcPrincipal ?? ''}\u0000${workloadId(f.dstWorkload)}\u0000${f.dstPrincipal ?? ''}\u0000${f.dstService ?? ''}\u0000${f.grpc ? 1 : 0}\u0000${f.responseCode}\u0000${f.grpcStatus ?? ''}\u0000${f.responseFlags}\u0000${f.mtls ? 1 : 0}`;
}

/** Label sets remembered by facts key; past this many the memo starts over (the series themselves stay). */
const MAX_MEMO = 4096;

/**
 * istio_requests_total and the three request histograms. `record` turns a request's facts into its label set once
 * per distinct set of facts (requestLabels builds 25 labels) and then only adds numbers (LabeledStats).
 */
export class RequestMetrics {
  readonly #stats: LabeledStats;
  readonly #memo = new Map<string, Series>();

  constructor(registry: Registry) {
    this.#stats = new LabeledStats(registry, {
      labelNames: REQUEST_LABEL_NAMES,
      counter: { name: 'istio_requests_total', help: 'Total requests' },
      histograms: [
        { name: 'istio_request_duration_milliseconds', help: 'Request duration in milliseconds', buckets: DURATION_BUCKETS_MS },
        { name: 'istio_request_bytes', help: 'Request size in bytes', buckets: BYTES_BUCKETS },
        { name: 'istio_response_bytes', help: 'Response size in bytes', buckets: BYTES_BUCKETS },
      ],
      onReset: () => this.#memo.clear(),
    });
  }

  /** Count one finished request. Bytes are HTTP message sizes (headers + body), as Envoy's request/response size. */
  record(f: RequestFacts, v: RequestValues): void {
    const key = factsKey(f);
    let s = this.#memo.get(key);
    if (!s) {
      if (this.#memo.size >= MAX_MEMO) this.#memo.clear();
      s = this.#stats.series(requestLabels(f));
      this.#memo.set(key, s);
    }
    s.inc();
    s.observe(0, v.durationMs);
    s.observe(1, v.requestBytes);
    s.observe(2, v.responseBytes);
  }
}

export function requestMetrics(registry: Registry): RequestMetrics {
  return new RequestMetrics(registry);
}
