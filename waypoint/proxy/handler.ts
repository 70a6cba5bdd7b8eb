// One HTTP request through the waypoint, in Envoy's filter order: trace headers → JWT authentication (401) → L7
// authorization (403 `RBAC: access denied`) → route match (404) → local rate limit (429 + Retry-After) → fault
// injection (delay, abort) → the route's action: redirect, direct response, or forward with header rules, rewrite,
// mirrors, retries and timeouts to an endpoint chosen by the destination's load balancer, circuit breaker and
// outlier detector. An HTTP/1.1 Upgrade (WebSocket) takes the same way up to the endpoint, then goes over a connection
// of its own without retries or mirrors (upgrade.ts). Every request ends with Istio's request metrics and one
// access-log record.
import type http from 'node:http';
import type http2 from 'node:http2';
import { PassThrough, Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Registry } from 'prom-client';
import type { Logger } from '../../shared/log.ts';
import { errorMessage } from '../../shared/errors.ts';
import type { HttpRoute, WeightedBackend } from '../../shared/waypoint/config.ts';
import type { RequestInfo } from '../types.ts';
import { applyHeaderOps, faultAbort, faultDelayMs, matchRoute, pickWeighted, redirectLocation, retryBackoffMs, rewritePath, shouldRetry, DEFAULT_RETRY, type TryOutcome } from '../route/index.ts';
import { authorizeRequest } from '../authz/index.ts';
import { createAuthenticator } from '../authn/index.ts';
import { createRateLimiter } from '../ratelimit/index.ts';
import { requestMetrics, formatResponseFlags, RESPONSE_FLAGS, type ResponseFlag } from '../telemetry/metrics.ts';
import { writeAccessLog } from '../telemetry/accesslog.ts';
import { traceHeaders } from '../telemetry/trace.ts';
import { hashKeyFor } from '../upstream/lb.ts';
import { overflowReply } from '../upstream/breaker.ts';
import { createUpstreams, type UpstreamRequest, type UpstreamResponse } from '../upstream/dispatcher.ts';
import { UpstreamError } from '../upstream/errors.ts';
import type { UpstreamProtocol } from '../upstream/types.ts';
import type { ProxyContext } from './context.ts';
import { resolveCluster, workloadCluster, type Cluster, type ResolvedEndpoint } from './endpoints.ts';
import { ClusterStates, type ClusterState } from './clusters.ts';
import type { Tunnel } from './tunnel.ts';
import { connectUpstream } from './upstream-connect.ts';
import { isUpgrade, requestUpgrade, switchProtocols, upgradeHeaders, UpgradeError } from './upgrade.ts';

type Req = http.IncomingMessage | http2.Http2ServerRequest;
type Res = http.ServerResponse | http2.Http2ServerResponse;

/** Request bodies up to this size are kept so a retry or a mirror can send them again (Envoy's buffer limit). */
const REPLAY_LIMIT = 1 << 20;
const HTTP_TO_GRPC: Record<number, number> = { 400: 13, 401: 16, 403: 7, 404: 12, 429: 14, 502: 14, 503: 14, 504: 14 };
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings', 'te']);
const NO_AUTH_HEADERS: Readonly<{ set: Record<string, string>; remove: readonly string[] }> = Object.freeze({ set: Object.freeze({}), remove: Object.freeze([]) });

export interface RequestHandler {
  handle(req: Req, res: Res, t: Tunnel | undefined): void;
  close(): Promise<void>;
}

interface Outcome {
  status: number;
  grpcStatus?: number;
  flags: Set<ResponseFlag>;
  details: string;
  route?: string;
  cluster?: string;
  endpoint?: ResolvedEndpoint;
  upstreamMs?: number;
  requestBytes: number;
  responseBytes: number;
  failure?: string;
}

const isGrpc = (req: Req): boolean => String(req.headers['content-type'] ?? '').startsWith('application/grpc');
const sleep = (ms: number, signal?: AbortSignal): Promise<void> => new Promise((resolve) => {
  const t = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
});

function splitPath(url: string): { path: string; query: string } {
  const q = url.indexOf('?');
  return q < 0 ? { path: url, query: '' } : { path: url.slice(0, q), query: url.slice(q + 1) };
}

export function requestInfo(req: Req, t: Tunnel): RequestInfo {
  const { path, query } = splitPath(req.url ?? '/');
  const authority = String(('authority' in req && req.authority) || req.headers[':authority'] || req.headers.host || '');
  return {
    method: (req.method ?? 'GET').toUpperCase(), path, query, authority, headers: req.headers, grpc: isGrpc(req),
    source: t.source,
    destination: {
      ...(t.destination.serviceKey ? { service: t.destination.serviceKey } : {}),
      ...(t.destination.workload ? { workload: t.destination.workload.uid } : {}),
      ip: t.destination.ip, port: t.destination.port,
    },
  };
}

/** The implicit route when no route attaches: everything to the addressed service (or pod). */
function defaultRoute(t: Tunnel): HttpRoute {
  const backends: WeightedBackend[] = t.destination.serviceKey ? [{ service: t.destination.serviceKey, weight: 1 }] : [];
  return { id: 'default', source: { kind: 'Default', namespace: '', name: '' }, matches: [], action: { kind: 'forward', backends } };
}

function upstreamProtocol(t: Tunnel): UpstreamProtocol {
  if (t.protocol === 'HTTP2' || t.protocol === 'GRPC') return 'h2c';
  if (t.protocol === 'HTTP') return 'http1';
  return t.downstream === 'h2' ? 'h2c' : 'http1';
}

/** Whether the request has no body at all (so upstream gets none, not an empty chunked one). */
function bodiless(req: Req): boolean {
  if ('stream' in req && req.stream) return req.stream.endAfterHeaders;
  const h = req.headers;
  return (h['content-length'] === undefined || h['content-length'] === '0') && h['transfer-encoding'] === undefined;
}

/**
 * The request body as Envoy handles it: streamed to the first try at once (gRPC streams and large uploads are never
 * held back), and kept up to REPLAY_LIMIT while it flows so a retry or a mirror can send it again. `replay()` is
 * undefined when the body is too large to replay or has not been read to its end yet.
 */
function requestBody(req: Req): { first(): Readable | null; replay(): Buffer | undefined; bytes(): number } {
  if (bodiless(req)) {
    req.resume();
    return { first: () => null, replay: () => Buffer.alloc(0), bytes: () => 0 };
  }
  const kept: Buffer[] = [];
  let size = 0;
  let ended = false;
  const tee = new PassThrough();
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size <= REPLAY_LIMIT) kept.push(c);
    else kept.length = 0;
  });
  req.on('end', () => { ended = true; });
  req.pipe(tee);
  return {
    first: () => tee,
    replay: () => (ended && size <= REPLAY_LIMIT ? Buffer.concat(kept) : undefined),
    bytes: () => size,
  };
}

export function createRequestHandler(ctx: ProxyContext, registry: Registry, accessLog: Logger): RequestHandler {
  const metrics = requestMetrics(registry);
  const authn = createAuthenticator({ log: ctx.log.child({ part: 'authn' }) });
  const limiter = createRateLimiter();
  const clusters = new ClusterStates();
  const byId = new Map<string, ResolvedEndpoint>();
  const upstreams = createUpstreams({
    log: ctx.log.child({ part: 'upstream' }),
    connect: (ep, o) => {
      const e = byId.get(ep.id);
      if (!e) return Promise.reject(new Error(`endpoint ${ep.id} is no longer known`));
      return connectUpstream(ctx, { workload: e.workload, ip: e.ip, port: e.port }, ctx.podIp, o.signal);
    },
  });

  const active = (id: string): number => upstreams.active(id);

  function localReply(res: Res, out: Outcome, grpc: boolean, status: number, body: string, flag: ResponseFlag | undefined, headers: Record<string, string> = {}): void {
    out.status = status;
    if (flag) out.flags.add(flag);
    if (res.headersSent) return void res.destroy();
    if (grpc) {
      // A gRPC client needs a trailers-only answer: HTTP 200 with grpc-status (Envoy maps the HTTP status).
      out.grpcStatus = HTTP_TO_GRPC[status] ?? 2;
      (res as http.ServerResponse).writeHead(200, { ...headers, 'content-type': 'application/grpc', 'grpc-status': String(out.grpcStatus), 'grpc-message': encodeURIComponent(body) });
      res.end();
      return;
    }
    const b = Buffer.from(body);
    out.responseBytes = b.length;
    (res as http.ServerResponse).writeHead(status, { ...headers, 'content-type': 'text/plain', 'content-length': String(b.length) });
    res.end(b);
  }

  /** The local answer when no upstream response head came, per why (Envoy's details, status and flag). */
  function noResponse(res: Res, out: Outcome, grpc: boolean, why: 'route-timeout' | 'no-endpoint' | 'overflow' | TryOutcome['kind'] | undefined): void {
    if (why === 'route-timeout') {
      out.details = 'upstream_response_timeout';
      return localReply(res, out, grpc, 504, 'upstream request timeout', RESPONSE_FLAGS.UPSTREAM_REQUEST_TIMEOUT);
    }
    if (why === 'no-endpoint') {
      out.details = 'no_healthy_upstream';
      return localReply(res, out, grpc, 503, 'no healthy upstream', RESPONSE_FLAGS.NO_HEALTHY_UPSTREAM);
    }
    if (why === 'overflow') {
      out.details = 'upstream_overflow';
      return localReply(res, out, grpc, overflowReply.status, overflowReply.body, RESPONSE_FLAGS.UPSTREAM_OVERFLOW, { ...overflowReply.headers });
    }
    out.details = why === 'timeout' ? 'upstream_per_try_timeout' : 'upstream_reset_before_response_started';
    return localReply(res, out, grpc, why === 'timeout' ? 504 : 503,
      why === 'timeout' ? 'upstream request timeout' : `upstream connect error or disconnect/reset before headers. reset reason: ${why === 'connect-failure' ? 'connection failure' : 'remote reset'}`,
      why === 'timeout' ? RESPONSE_FLAGS.UPSTREAM_REQUEST_TIMEOUT : why === 'connect-failure' ? RESPONSE_FLAGS.UPSTREAM_CONNECTION_FAILURE : RESPONSE_FLAGS.UPSTREAM_REMOTE_RESET);
  }

  /** The cluster's load balancer over its healthy endpoints, preferring one not `tried` yet when there is one. */
  function pickEndpoint(state: ClusterState, endpoints: ResolvedEndpoint[], tried: ReadonlySet<string>, hashKey: string | undefined): ResolvedEndpoint | undefined {
    const healthy = state.outlier ? state.outlier.healthy(endpoints) : endpoints;
    // Envoy's default retry host predicate is off; we still prefer an endpoint not tried yet when there is one.
    const candidates = tried.size === 0 ? healthy : healthy.filter((e) => !tried.has(e.id));
    const o: { hashKey?: string; rand: number; active: (id: string) => number } = { rand: Math.random(), active };
    if (hashKey) o.hashKey = hashKey;
    return state.balancer.pick(candidates.length ? candidates : healthy, o) as ResolvedEndpoint | undefined;
  }

  async function serve(req: Req, res: Res, t: Tunnel, out: Outcome, info: RequestInfo): Promise<void> {
    const cfg = ctx.store.config;
    const grpc = info.grpc;
    // Authentication: an invalid token is refused; a missing one passes without a request principal.
    let authHeaders = NO_AUTH_HEADERS;
    if (cfg.authentication.length > 0) {
      const a = await authn.authenticate(cfg.authentication, info);
      if (!a.ok) {
        out.details = 'jwt_authn_access_denied';
        return localReply(res, out, grpc, a.status, a.message, undefined, { 'www-authenticate': a.wwwAuthenticate });
      }
      if (a.auth) info.auth = a.auth;
      authHeaders = { set: a.setHeaders, remove: a.removeHeaders };
    }
    const az = authorizeRequest(cfg.authorization, info);
    for (const p of az.dryRunDenied) ctx.log.info({ policy: p, path: info.path, src: info.source.principal }, 'dry-run policy would deny');
    if (!az.allowed) {
      out.details = az.policy ? `rbac_access_denied_matched_policy[${az.policy}]` : 'rbac_access_denied_matched_policy[none]';
      return localReply(res, out, grpc, 403, 'RBAC: access denied', undefined);
    }
    const routes = t.listener?.http ?? [];
    let route: HttpRoute;
    let match;
    if (routes.length === 0) {
      route = defaultRoute(t);
    } else {
      const m = matchRoute(routes, info);
      if (!m) {
        out.details = 'route_not_found';
        return localReply(res, out, grpc, 404, '', RESPONSE_FLAGS.NO_ROUTE_FOUND);
      }
      route = m.route;
      match = m.match;
    }
    out.route = route.id;
    const rl = limiter.check(cfg.rateLimits, info, route.id);
    if (!rl.allowed) {
      out.details = 'local_rate_limited';
      return localReply(res, out, grpc, 429, 'local_rate_limited', RESPONSE_FLAGS.RATE_LIMITED, { 'retry-after': String(rl.retryAfterSeconds) });
    }
    const delay = faultDelayMs(route.fault, Math.random() * 100);
    if (delay > 0) {
      out.flags.add(RESPONSE_FLAGS.DELAY_INJECTED);
      await sleep(delay);
    }
    const abort = faultAbort(route.fault, Math.random() * 100);
    if (abort) {
      out.details = 'fault_filter_abort';
      if (abort.grpcStatus !== undefined) {
        out.status = 200;
        out.grpcStatus = abort.grpcStatus;
        out.flags.add(RESPONSE_FLAGS.FAULT_INJECTED);
        (res as http.ServerResponse).writeHead(200, { 'content-type': 'application/grpc', 'grpc-status': String(abort.grpcStatus), 'grpc-message': 'fault filter abort' });
        res.end();
        return;
      }
      return localReply(res, out, grpc, abort.httpStatus ?? 500, 'fault filter abort', RESPONSE_FLAGS.FAULT_INJECTED);
    }
    const action = route.action;
    if (action.kind === 'redirect') {
      out.status = action.redirect.status;
      out.details = 'redirect';
      (res as http.ServerResponse).writeHead(action.redirect.status, { location: redirectLocation(info, action.redirect, match) });
      res.end();
      return;
    }
    if (action.kind === 'respond') {
      out.details = 'direct_response';
      return localReply(res, out, grpc, action.status, action.body ?? '', undefined);
    }
    await forward(req, res, t, out, info, route, match, authHeaders);
  }

  async function forward(
    req: Req, res: Res, t: Tunnel, out: Outcome, info: RequestInfo, route: HttpRoute, match: Parameters<typeof rewritePath>[2],
    authHeaders: Readonly<{ set: Record<string, string>; remove: readonly string[] }>,
  ): Promise<void> {
    const grpc = info.grpc;
    const backend = pickWeighted(route.action.kind === 'forward' ? route.action.backends : [], Math.random());
    if (backend?.invalidStatus !== undefined) {
      out.details = 'cluster_not_found';
      return localReply(res, out, grpc, backend.invalidStatus, 'invalid backend', RESPONSE_FLAGS.NO_CLUSTER_FOUND);
    }
    let cluster: Cluster | { code: string; message: string };
    if (backend) cluster = resolveCluster(ctx.state, (k) => ctx.store.destination(k), backend, info.destination.port);
    else if (!t.destination.serviceKey && t.destination.workload) cluster = workloadCluster(t.destination.workload, info.destination.port);
    else cluster = { code: 'NO_BACKEND', message: `route ${route.id} has no backend with weight > 0` };
    if ('code' in cluster) {
      out.details = cluster.code === 'NO_SERVICE' || cluster.code === 'NO_SUBSET' ? 'cluster_not_found' : 'no_healthy_upstream';
      out.failure = cluster.message;
      return localReply(res, out, grpc, cluster.code === 'NO_BACKEND' ? 500 : 503, 'no healthy upstream', cluster.code === 'NO_BACKEND' ? undefined : RESPONSE_FLAGS.NO_HEALTHY_UPSTREAM);
    }
    out.cluster = cluster.name;
    for (const e of cluster.endpoints) byId.set(e.id, e);
    const state = clusters.get(cluster.name, cluster.policy, cluster.endpoints.map((e) => e.id));

    // The upstream request: headers after the route's and the backend's rules, the rewrite, and the proxy headers.
    const trace = traceHeaders(req.headers);
    let headers: Record<string, string | string[] | undefined> = {};
    const inHeaders = req.headers;
    for (const k in inHeaders) if (k.charCodeAt(0) !== 58 /* : */ && !HOP.has(k)) headers[k] = inHeaders[k];
    for (const k of trace.remove) delete headers[k];
    Object.assign(headers, trace.set);
    for (const k of authHeaders.remove) delete headers[k];
    Object.assign(headers, authHeaders.set);
    const xff = req.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = xff ? `${Array.isArray(xff) ? xff.join(',') : xff}, ${info.source.ip}` : info.source.ip;
    headers['x-forwarded-proto'] = 'http';
    if (route.requestHeaders) headers = applyHeaderOps(headers, route.requestHeaders);
    if (backend?.requestHeaders) headers = applyHeaderOps(headers, backend.requestHeaders);
    let path = info.path + (info.query ? `?${info.query}` : '');
    let authority = info.authority;
    if (route.rewrite?.path) path = rewritePath(path, route.rewrite.path, match);
    if (route.rewrite?.authority) authority = route.rewrite.authority;
    headers.host = authority;
    if (grpc) headers.te = 'trailers';

    const hash = hashKeyFor(cluster.policy.loadBalancer, { headers: req.headers, sourceIp: info.source.ip, query: info.query });
    if (isUpgrade(req)) {
      Object.assign(headers, upgradeHeaders(req.headers));
      return upgrade(res as http.ServerResponse, out, route, backend, state, cluster.endpoints, hash, { method: info.method, path, headers });
    }
    const body = requestBody(req);
    for (const m of route.mirrors ?? []) {
      if (Math.random() * 100 >= m.percent) continue;
      const copy = { method: info.method, path, headers: { ...headers, host: shadowHost(authority) } };
      // The mirror gets the body once it has arrived (and only a replayable one), never holding up the real request.
      void finished(req as Readable).then(() => {
        const b = body.replay();
        if (b) mirror(m.backend, info, { ...copy, body: b }, upstreamProtocol(t));
      }, () => {});
    }

    const policy = route.retries ?? DEFAULT_RETRY;
    const overall = route.timeoutMs ? AbortSignal.timeout(route.timeoutMs) : undefined;
    const protocol = upstreamProtocol(t);
    let attempt = 0;
    let response: UpstreamResponse | undefined;
    let lastOutcome: TryOutcome | undefined;
    let releaseRetry: (() => void) | undefined;
    let releaseSlot: (() => void) | undefined;
    const tried = new Set<string>();
    let replayed: Readable | null = null;
    try {
      for (;;) {
        const ep = pickEndpoint(state, cluster.endpoints, tried, hash.key);
        if (!ep) return noResponse(res, out, grpc, 'no-endpoint');
        tried.add(ep.id);
        out.endpoint = ep;
        const admission = await state.breaker.admit(ep.id, protocol, overall);
        if (!admission.ok) return noResponse(res, out, grpc, 'overflow');
        releaseSlot = admission.release;
        const sent = performance.now();
        const pool = cluster.policy.connectionPool;
        try {
          const opts: UpstreamRequest = { method: info.method, path, headers, body: attempt === 0 ? body.first() : replayed };
          if (overall) opts.signal = overall;
          if (route.retries?.perTryTimeoutMs) opts.timeoutMs = route.retries.perTryTimeoutMs;
          if (pool?.maxRequestsPerConnection) opts.maxRequestsPerConnection = pool.maxRequestsPerConnection;
          if (pool?.connectTimeoutMs) opts.connectTimeoutMs = pool.connectTimeoutMs;
          if (pool?.idleTimeoutMs) opts.idleTimeoutMs = pool.idleTimeoutMs;
          response = await upstreams.request(ep, protocol, opts);
          out.upstreamMs = performance.now() - sent;
          const gs = response.headers['grpc-status'];
          lastOutcome = { kind: 'response', status: response.status, ...(gs !== undefined ? { grpcStatus: Number(gs) } : {}) };
          state.outlier?.report(ep.id, response.status);
        } catch (err) {
          response = undefined;
          const kind = err instanceof UpstreamError ? err.kind : 'reset';
          out.failure = errorMessage(err);
          if (overall?.aborted) {
            releaseSlot();
            releaseSlot = undefined;
            return noResponse(res, out, grpc, 'route-timeout');
          }
          lastOutcome = kind === 'connect-failure' ? { kind: 'connect-failure' } : kind === 'refused-stream' ? { kind: 'refused-stream' } : kind === 'timeout' ? { kind: 'timeout' } : { kind: 'reset' };
          state.outlier?.report(ep.id, kind === 'connect-failure' ? 'connect-failure' : kind === 'timeout' ? 'timeout' : 'reset');
        }
        releaseRetry?.();
        releaseRetry = undefined;
        // A retry needs the whole body again: only when it has ended within the replay limit (Envoy's rule).
        const again = body.replay();
        const retry = again !== undefined && attempt < policy.attempts && lastOutcome && shouldRetry(policy, lastOutcome) && !overall?.aborted;
        if (retry) {
          replayed = again.length ? Readable.from([again]) : null;
          const budget = state.breaker.tryRetry();
          if (budget) {
            releaseRetry = budget;
            response?.body.destroy();
            releaseSlot();
            releaseSlot = undefined;
            attempt++;
            await sleep(retryBackoffMs(policy, attempt, Math.random()), overall);
            continue;
          }
          out.flags.add(RESPONSE_FLAGS.UPSTREAM_RETRY_LIMIT_EXCEEDED);
        } else if (attempt > 0 && lastOutcome && shouldRetry(policy, lastOutcome)) {
          out.flags.add(RESPONSE_FLAGS.UPSTREAM_RETRY_LIMIT_EXCEEDED);
        }
        break;
      }
      out.requestBytes = body.bytes();
      if (!response) return noResponse(res, out, grpc, lastOutcome?.kind);
      await relay(res, response, out, route, backend, hash.setCookie);
    } finally {
      releaseRetry?.();
      releaseSlot?.();
    }
  }

  /**
   * An upgrade request to one endpoint of the cluster over a fresh connection: no retries, mirrors or per-try timeouts;
   * the route timeout bounds only the wait for the answer's head (Envoy's rule). The circuit breaker counts the
   * upgraded connection as a request in flight until it closes.
   */
  async function upgrade(
    res: http.ServerResponse, out: Outcome, route: HttpRoute, backend: WeightedBackend | undefined, state: ClusterState, endpoints: ResolvedEndpoint[],
    hash: { key?: string; setCookie?: string }, r: { method: string; path: string; headers: Record<string, string | string[] | undefined> },
  ): Promise<void> {
    const ep = pickEndpoint(state, endpoints, new Set(), hash.key);
    if (!ep) return noResponse(res, out, false, 'no-endpoint');
    out.endpoint = ep;
    const overall = route.timeoutMs ? AbortSignal.timeout(route.timeoutMs) : undefined;
    const admission = await state.breaker.admit(ep.id, 'http1', overall);
    if (!admission.ok) return noResponse(res, out, false, 'overflow');
    try {
      const sent = performance.now();
      let conn;
      try {
        conn = await connectUpstream(ctx, { workload: ep.workload, ip: ep.ip, port: ep.port }, ctx.podIp, overall);
      } catch (err) {
        out.failure = errorMessage(err);
        state.outlier?.report(ep.id, 'connect-failure');
        return noResponse(res, out, false, overall?.aborted ? 'route-timeout' : 'connect-failure');
      }
      let answer;
      try {
        answer = await requestUpgrade(conn, { ...r, ...(overall ? { signal: overall } : {}) });
      } catch (err) {
        out.failure = errorMessage(err);
        const timedOut = err instanceof UpgradeError && err.timedOut;
        state.outlier?.report(ep.id, timedOut ? 'timeout' : 'reset');
        return noResponse(res, out, false, timedOut ? 'route-timeout' : 'reset');
      }
      out.upstreamMs = performance.now() - sent;
      state.outlier?.report(ep.id, answer.switched ? answer.status : answer.response.status);
      if (!answer.switched) return await relay(res, answer.response, out, route, backend, hash.setCookie);
      out.status = answer.status;
      out.details = 'via_upstream';
      const headers = { ...responseHeaders(answer.headers, out, route, backend, hash.setCookie), ...upgradeHeaders(answer.headers) };
      const moved = await switchProtocols(res, answer, headers);
      out.requestBytes = moved.requestBytes;
      out.responseBytes = moved.responseBytes;
      if (moved.failure) out.failure = moved.failure;
    } finally {
      admission.release();
    }
  }

  /** The upstream's response headers as the client gets them: hop-by-hop dropped, the backend's and route's rules. */
  function responseHeaders(upHeaders: Record<string, string | string[] | undefined>, out: Outcome, route: HttpRoute, backend: WeightedBackend | undefined, setCookie: string | undefined): Record<string, string | string[] | undefined> {
    let headers: Record<string, string | string[] | undefined> = {};
    for (const k in upHeaders) if (k.charCodeAt(0) !== 58 /* : */ && !HOP.has(k)) headers[k] = upHeaders[k];
    if (backend?.responseHeaders) headers = applyHeaderOps(headers, backend.responseHeaders);
    if (route.responseHeaders) headers = applyHeaderOps(headers, route.responseHeaders);
    if (setCookie) headers['set-cookie'] = setCookie;
    if (out.upstreamMs !== undefined) headers['x-envoy-upstream-service-time'] = String(Math.round(out.upstreamMs));
    return headers;
  }

  async function relay(res: Res, up: UpstreamResponse, out: Outcome, route: HttpRoute, backend: WeightedBackend | undefined, setCookie: string | undefined): Promise<void> {
    out.status = up.status;
    out.details = 'via_upstream';
    const headers = responseHeaders(up.headers, out, route, backend, setCookie);
    const gs = up.headers['grpc-status'];
    if (gs !== undefined) out.grpcStatus = Number(gs);
    (res as http.ServerResponse).writeHead(up.status, headers as http.OutgoingHttpHeaders);
    try {
      if (!(await pipeBody(up.body, res as http.ServerResponse, out))) {
        out.flags.add(RESPONSE_FLAGS.DOWNSTREAM_CONNECTION_TERMINATION);
        up.body.destroy();
        return;
      }
      const trailers = await up.trailers;
      if (trailers['grpc-status'] !== undefined) out.grpcStatus = Number(trailers['grpc-status']);
      if (Object.keys(trailers).length) res.addTrailers(trailers);
      res.end();
    } catch (err) {
      out.flags.add(RESPONSE_FLAGS.UPSTREAM_REMOTE_RESET);
      out.failure = errorMessage(err);
      res.destroy();
    }
  }

  function mirror(ref: { service: string; port?: number; subset?: string }, info: RequestInfo, r: { method: string; path: string; headers: Record<string, string | string[] | undefined>; body: Buffer }, protocol: UpstreamProtocol): void {
    const c = resolveCluster(ctx.state, (k) => ctx.store.destination(k), ref, info.destination.port);
    if ('code' in c || c.endpoints.length === 0) return;
    const ep = c.endpoints[Math.floor(Math.random() * c.endpoints.length)]!;
    byId.set(ep.id, ep);
    // Fire and forget: the mirror's answer is read and dropped; it never delays or fails the real request.
    upstreams.request({ id: ep.id, ip: ep.ip, port: ep.port }, protocol, { method: r.method, path: r.path, headers: r.headers, body: r.body.length ? Readable.from([r.body]) : null, timeoutMs: 10_000 })
      .then((resp) => resp.body.resume(), (err: unknown) => ctx.log.debug({ err: errorMessage(err), mirror: c.name }, 'mirror request failed'));
  }

  function finish(req: Req, t: Tunnel, info: RequestInfo, out: Outcome, start: number, startWall: number): void {
    const durationMs = performance.now() - start;
    const srcWorkload = ctx.state.workloadByIp(t.source.ip as never);
    const flags = formatResponseFlags(out.flags);
    metrics.record({
      ...(srcWorkload ? { srcWorkload } : {}), ...(t.source.principal ? { srcPrincipal: t.source.principal } : {}),
      ...(out.endpoint ? { dstWorkload: out.endpoint.workload } : t.destination.workload ? { dstWorkload: t.destination.workload } : {}),
      ...(info.destination.service ? { dstService: info.destination.service } : {}),
      grpc: info.grpc, responseCode: out.status, ...(out.grpcStatus !== undefined ? { grpcStatus: out.grpcStatus } : {}),
      responseFlags: flags, mtls: true,
    }, { durationMs, requestBytes: out.requestBytes, responseBytes: out.responseBytes });
    if (!accessLog.isLevelEnabled('info')) return; // the record is not built for nothing
    writeAccessLog(accessLog, {
      start: startWall, method: info.method, path: req.url ?? '/', protocol: 'stream' in req ? 'HTTP/2' : `HTTP/${req.httpVersion}`,
      headers: req.headers, responseCode: out.status, responseFlags: flags, responseCodeDetails: out.details,
      bytesReceived: out.requestBytes, bytesSent: out.responseBytes, durationMs,
      ...(out.upstreamMs !== undefined ? { upstreamServiceTimeMs: out.upstreamMs } : {}),
      ...(out.endpoint ? { upstreamHost: `${out.endpoint.ip}:${out.endpoint.port}` } : {}),
      ...(out.cluster ? { upstreamCluster: out.cluster } : {}),
      ...(out.route ? { routeName: out.route } : {}),
      downstreamRemoteAddress: t.source.ip, downstreamLocalAddress: `${t.destination.ip}:${t.destination.port}`,
      ...(t.source.principal ? { sourcePrincipal: t.source.principal } : {}),
      ...(out.failure ? { upstreamTransportFailureReason: out.failure } : {}),
    });
  }

  return {
    handle(req, res, t) {
      const start = performance.now();
      const startWall = Date.now();
      if (!t) {
        (res as http.ServerResponse).writeHead(500);
        res.end();
        return;
      }
      const info = requestInfo(req, t);
      const out: Outcome = { status: 0, flags: new Set(), details: '', requestBytes: 0, responseBytes: 0 };
      res.on('error', () => {});
      serve(req, res, t, out, info).catch((err: unknown) => {
        out.failure = errorMessage(err);
        ctx.log.warn({ err: out.failure, path: info.path }, 'request failed inside the waypoint');
        if (!res.headersSent) localReply(res, out, info.grpc, 500, 'internal error', undefined);
        else res.destroy();
      }).finally(() => finish(req, t, info, out, start, startWall));
    },
    async close() {
      clusters.close();
      await upstreams.close(1000);
    },
  };
}

/**
 * The upstream body onto the response, with backpressure, counting bytes into `out.responseBytes`. Resolves true at
 * the body's end, false when the client went away first; rejects with the body's error. Listeners rather than an
 * async iterator: most bodies are one chunk, and the iterator's promises, tick callbacks and end-of-stream watcher
 * were about a tenth of what a request allocated.
 */
function pipeBody(body: Readable, res: http.ServerResponse, out: { responseBytes: number }): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    const done = (): void => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      res.off('drain', onDrain);
      res.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      out.responseBytes += chunk.length;
      if (!res.write(chunk)) {
        body.pause();
        res.once('drain', onDrain);
      }
    };
    const onDrain = (): void => void body.resume();
    const onEnd = (): void => { done(); resolve(true); };
    const onError = (err: Error): void => { done(); reject(err); };
    const onClose = (): void => { done(); resolve(false); };
    if (res.destroyed) return resolve(false);
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onError);
    res.once('close', onClose);
  });
}

/** Envoy's mirror host: `-shadow` appended to the host part. */
function shadowHost(authority: string): string {
  const m = /^(.*?)(:\d+)?$/.exec(authority);
  return `${m?.[1] ?? authority}-shadow${m?.[2] ?? ''}`;
}
