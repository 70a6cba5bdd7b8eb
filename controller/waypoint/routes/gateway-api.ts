// Owns parsing Gateway API routes (gateway.networking.k8s.io HTTPRoute and GRPCRoute v1, TCPRoute v1alpha2) into
// HttpRuleSpec / BackendSpec, with the API's defaults and CEL rules, converted the way Istio converts them for the
// mesh (pilot/pkg/config/kube/gateway/conversion.go): PathPrefix `/` when no match, trailing `/` of a prefix ignored,
// first of duplicate header names wins, weight-0 backends dropped, no backend with weight → 500, gRPC method matches
// → `:path` matches, `retry` per GEP-1731 (Istio's retryOn base plus the codes), `timeouts.request` → the route
// timeout and `timeouts.backendRequest` → the per-try timeout.

import type { HeaderMatch, HeaderOps, HttpMatch, PathMatch, PathRewrite, QueryMatch, Redirect, RetryPolicy, Rewrite } from '../../../shared/waypoint/config.ts';
import type { KubeObject } from '../verdict.ts';
import {
  type BackendSpec, type GatewayRouteSpec, type HttpRuleSpec, type MirrorSpec, type ParentRefSpec, type Target, compact, meshDefaultRetry,
  objectInfo,
} from './model.ts';
import {
  type Obj, gatewayDurationMs, invalid, normRegex, optEnum, optInt, optObj, optStr, readAnyStr, readEnum, readHeaderName,
  readInt, readList, readObj, readRegex, readStr, unsupported,
} from './spec.ts';

/** GEP-1731: "SHOULD retry on connection errors"; Istio's base retryOn for an HTTPRoute `retry`. */
const GATEWAY_RETRY_ON = ['connect-failure', 'refused-stream', 'unavailable', 'cancelled'];

const CORE_GROUPS = ['', 'core'];
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'] as const;
const FILTER_TYPES = ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestRedirect', 'URLRewrite', 'RequestMirror', 'ExtensionRef', 'CORS', 'ExternalAuth'] as const;
type FilterType = typeof FILTER_TYPES[number];
const FILTER_FIELD: Record<FilterType, string> = {
  RequestHeaderModifier: 'requestHeaderModifier', ResponseHeaderModifier: 'responseHeaderModifier', RequestRedirect: 'requestRedirect',
  URLRewrite: 'urlRewrite', RequestMirror: 'requestMirror', ExtensionRef: 'extensionRef', CORS: 'cors', ExternalAuth: 'externalAuth',
};
const REDIRECT_CODES = [301, 302, 303, 307, 308];

type FilterContext = 'HTTPRoute' | 'GRPCRoute' | 'backend';
const SUPPORTED: Record<FilterContext, readonly FilterType[]> = {
  HTTPRoute: ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestRedirect', 'URLRewrite', 'RequestMirror'],
  GRPCRoute: ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror'],
  backend: ['RequestHeaderModifier', 'ResponseHeaderModifier'],
};

interface Filters {
  requestHeaders?: HeaderOps;
  responseHeaders?: HeaderOps;
  redirect?: Redirect;
  rewrite?: Rewrite;
  mirrors: MirrorSpec[];
}

/** Parse and validate one Gateway API route; throws RouteConfigError. */
export function parseGatewayRoute(kind: 'HTTPRoute' | 'GRPCRoute' | 'TCPRoute', o: KubeObject): GatewayRouteSpec {
  const info = objectInfo(kind, o);
  readStr(o.metadata.name, 'metadata.name');
  const spec = readObj(o.spec, 'spec');
  const parents = readParents(spec, info.namespace);
  const rules = readList(spec.rules, 'spec.rules');
  if (kind === 'TCPRoute') {
    if (rules.length === 0) invalid('spec.rules', 'must have at least one rule');
    const tcp = rules.map((r, i) => readBackends(readObj(r, `spec.rules[${i}]`).backendRefs, `spec.rules[${i}]`, info.namespace, 'none'));
    return { ...info, parents, http: [], tcp: tcp[0]!.filter((b) => b.weight > 0) };
  }
  const http = rules.map((r, i) => (kind === 'HTTPRoute' ? readHttpRule(r, i, info.namespace) : readGrpcRule(r, i, info.namespace)));
  return { ...info, parents, http };
}

function readParents(spec: Obj, namespace: string): ParentRefSpec[] {
  const out: ParentRefSpec[] = [];
  readList(spec.parentRefs, 'spec.parentRefs').forEach((r, i) => {
    const f = `spec.parentRefs[${i}]`;
    const ref = readObj(r, f);
    const name = readStr(ref.name, `${f}.name`);
    const group = ref.group === undefined || ref.group === null ? 'gateway.networking.k8s.io' : readAnyStr(ref.group, `${f}.group`);
    const kind = optStr(ref.kind, `${f}.kind`) ?? 'Gateway';
    const port = optInt(ref.port, `${f}.port`, 1, 65535);
    const sectionName = optStr(ref.sectionName, `${f}.sectionName`);
    const ns = optStr(ref.namespace, `${f}.namespace`) ?? namespace;
    // Other parents (Gateways, ServiceEntries) are not ours to judge: another controller may own them.
    if (kind === 'Service' && CORE_GROUPS.includes(group)) out.push(compact({ namespace: ns, name, port, sectionName }));
  });
  return out;
}

// ---- HTTPRoute ----

function readHttpRule(r: unknown, index: number, namespace: string): HttpRuleSpec {
  const f = `spec.rules[${index}]`;
  const rule = readObj(r, f);
  const rawMatches = readList(rule.matches, `${f}.matches`);
  const matches = rawMatches.map((m, j) => readHttpMatch(m, `${f}.matches[${j}]`));
  const filters = readFilters(rule.filters, `${f}.filters`, namespace, 'HTTPRoute', rawMatches);
  const backends = readBackends(rule.backendRefs, f, namespace, 'backend');
  if (filters.redirect && backends.length > 0) invalid(`${f}.backendRefs`, 'must be empty when a RequestRedirect filter is set');
  const timeouts = optObj(rule.timeouts, `${f}.timeouts`);
  const requestMs = timeouts?.request === undefined || timeouts.request === null ? undefined : gatewayDurationMs(timeouts.request, `${f}.timeouts.request`);
  const backendMs = timeouts?.backendRequest === undefined || timeouts.backendRequest === null
    ? undefined : gatewayDurationMs(timeouts.backendRequest, `${f}.timeouts.backendRequest`);
  if (requestMs && backendMs !== undefined && backendMs > requestMs) {
    invalid(`${f}.timeouts.backendRequest`, `must not be longer than timeouts.request (${requestMs}ms), got ${backendMs}ms`);
  }
  let retries = readRetry(rule.retry, `${f}.retry`);
  if (backendMs) retries = { ...(retries ?? meshDefaultRetry()), perTryTimeoutMs: backendMs };
  return compact({
    index,
    matches: matches.length > 0 ? matches : [{ path: { pathPrefix: '/' } }],
    matchAll: matches.length === 0,
    ...forwardOrRespond(filters.redirect, backends, 500),
    requestHeaders: filters.requestHeaders,
    responseHeaders: filters.responseHeaders,
    rewrite: filters.rewrite,
    mirrors: filters.mirrors,
    timeoutMs: requestMs || undefined,
    retries,
  });
}

/** Istio: a redirect wins; no backend with weight > 0 → direct response; weight-0 backends are dropped. */
function forwardOrRespond(redirect: Redirect | undefined, backends: BackendSpec[], status: number): Pick<HttpRuleSpec, 'action' | 'allInvalidStatus'> {
  if (redirect) return { action: { kind: 'redirect', redirect } };
  const live = backends.filter((b) => b.weight > 0);
  if (live.length === 0) return { action: { kind: 'respond', status } };
  return { action: { kind: 'forward', backends: live }, allInvalidStatus: status };
}

function readHttpMatch(v: unknown, f: string): HttpMatch {
  const m = readObj(v, f);
  const path = readPathMatch(m.path, `${f}.path`);
  const headers = readHeaderMatches(m.headers, `${f}.headers`);
  const query: QueryMatch[] = [];
  const seen = new Set<string>();
  readList(m.queryParams, `${f}.queryParams`).forEach((q, i) => {
    const qf = `${f}.queryParams[${i}]`;
    const o = readObj(q, qf);
    const type = optEnum(o.type, `${qf}.type`, ['Exact', 'RegularExpression'], 'Exact');
    const name = readStr(o.name, `${qf}.name`);
    const raw = readAnyStr(o.value, `${qf}.value`);
    const value = type === 'Exact' ? { exact: raw } : { regex: normRegex(readRegex(raw, `${qf}.value`)) };
    // "only the first entry with an equivalent name MUST be considered"
    if (seen.has(name)) return;
    seen.add(name);
    query.push({ name, value });
  });
  const method = m.method === undefined || m.method === null ? undefined : { exact: readEnum(m.method, `${f}.method`, METHODS) };
  return compact({ path, headers: headers.length > 0 ? headers : undefined, query: query.length > 0 ? query : undefined, method });
}

function readPathMatch(v: unknown, f: string): PathMatch {
  const o = optObj(v, f) ?? {};
  const type = optEnum(o.type, `${f}.type`, ['Exact', 'PathPrefix', 'RegularExpression'], 'PathPrefix');
  const value = o.value === undefined || o.value === null ? '/' : readAnyStr(o.value, `${f}.value`);
  if (type === 'RegularExpression') return { regex: normRegex(readRegex(value, `${f}.value`)) };
  if (!value.startsWith('/')) invalid(`${f}.value`, `must be an absolute path starting with '/', got ${JSON.stringify(value)}`);
  if (/\/\/|\/\.\/|\/\.\.\/|%2f|#|\/\.\.?$/i.test(value)) {
    invalid(`${f}.value`, `must not contain '//', '/./', '/../', '%2f' or '#', nor end in '/.' or '/..', got ${JSON.stringify(value)}`);
  }
  if (type === 'Exact') return { exact: value };
  // "When specified, a trailing `/` is ignored."
  return { pathPrefix: value === '/' ? value : value.replace(/\/$/, '') };
}

function readHeaderMatches(v: unknown, f: string): HeaderMatch[] {
  const out: HeaderMatch[] = [];
  readList(v, f).forEach((h, i) => {
    const hf = `${f}[${i}]`;
    const o = readObj(h, hf);
    const type = optEnum(o.type, `${hf}.type`, ['Exact', 'RegularExpression'], 'Exact');
    const name = readHeaderName(o.name, `${hf}.name`);
    const raw = readAnyStr(o.value, `${hf}.value`);
    const value = type === 'Exact' ? { exact: raw } : { regex: normRegex(readRegex(raw, `${hf}.value`)) };
    // Header names are case-insensitive; the first of equivalent names is the one considered.
    if (!out.some((x) => x.name === name)) out.push({ name, value });
  });
  return out;
}

// ---- GRPCRoute ----

const GRPC_SERVICE = /^\.?[a-zA-Z_][a-zA-Z_0-9]*(\.[a-zA-Z_][a-zA-Z_0-9]*)*$/;
const GRPC_METHOD = /^[A-Za-z_][A-Za-z_0-9]*$/;

function readGrpcRule(r: unknown, index: number, namespace: string): HttpRuleSpec {
  const f = `spec.rules[${index}]`;
  const rule = readObj(r, f);
  const matches = readList(rule.matches, `${f}.matches`).map((m, j) => readGrpcMatch(m, `${f}.matches[${j}]`));
  const filters = readFilters(rule.filters, `${f}.filters`, namespace, 'GRPCRoute', []);
  const backends = readBackends(rule.backendRefs, f, namespace, 'backend');
  return compact({
    index,
    matches,
    matchAll: matches.length === 0,
    // GRPCRoute: invalid backends "MUST receive an UNAVAILABLE status"; clients map HTTP 503 to UNAVAILABLE.
    ...forwardOrRespond(undefined, backends, 503),
    requestHeaders: filters.requestHeaders,
    responseHeaders: filters.responseHeaders,
    mirrors: filters.mirrors,
  });
}

function readGrpcMatch(v: unknown, f: string): HttpMatch {
  const m = readObj(v, f);
  const headers = readHeaderMatches(m.headers, `${f}.headers`);
  const mm = optObj(m.method, `${f}.method`);
  let path: PathMatch | undefined;
  let grpc: HttpMatch['grpc'];
  if (mm) {
    const type = optEnum(mm.type, `${f}.method.type`, ['Exact', 'RegularExpression'], 'Exact');
    const service = optStr(mm.service, `${f}.method.service`);
    const method = optStr(mm.method, `${f}.method.method`);
    if (service === undefined && method === undefined) invalid(`${f}.method`, 'must set service, method or both');
    if (type === 'Exact') {
      if (service !== undefined && !GRPC_SERVICE.test(service)) invalid(`${f}.method.service`, `invalid gRPC service name ${JSON.stringify(service)}; use a dotted name like pkg.Service`);
      if (method !== undefined && !GRPC_METHOD.test(method)) invalid(`${f}.method.method`, `invalid gRPC method name ${JSON.stringify(method)}`);
      path = method === undefined ? { prefix: `/${service}/` } : service === undefined ? { regex: `/[^/]+/${method}` } : { exact: `/${service}/${method}` };
    } else {
      if (service !== undefined) readRegex(service, `${f}.method.service`);
      if (method !== undefined) readRegex(method, `${f}.method.method`);
      const re = method === undefined ? `/${service}/.+` : service === undefined ? `/[^/]+/${method}` : `/${service}/${method}`;
      path = { regex: normRegex(readRegex(re, `${f}.method`)) };
    }
    grpc = compact({ service, method });
  }
  return compact({ path, headers: headers.length > 0 ? headers : undefined, grpc });
}

// ---- filters ----

function readFilters(v: unknown, f: string, namespace: string, ctx: FilterContext, rawMatches: unknown[]): Filters {
  const out: Filters = { mirrors: [] };
  const seen = new Set<FilterType>();
  readList(v, f).forEach((x, i) => {
    const ff = `${f}[${i}]`;
    const filter = readObj(x, ff);
    const type = readEnum(filter.type, `${ff}.type`, FILTER_TYPES);
    if (!SUPPORTED[ctx].includes(type)) {
      unsupported(`${ff}.type`, `${type} filters are not supported ${ctx === 'backend' ? 'on backendRefs' : `in a ${ctx}`} by waypoints`);
    }
    if (type !== 'RequestMirror' && seen.has(type)) invalid(`${ff}.type`, `${type} filter cannot be repeated`);
    seen.add(type);
    const field = FILTER_FIELD[type];
    const body = readObj(filter[field], `${ff}.${field}`);
    const bf = `${ff}.${field}`;
    switch (type) {
      case 'RequestHeaderModifier': out.requestHeaders = readHeaderModifier(body, bf); break;
      case 'ResponseHeaderModifier': out.responseHeaders = readHeaderModifier(body, bf); break;
      case 'RequestRedirect': out.redirect = readRedirect(body, bf, f, rawMatches); break;
      case 'URLRewrite': out.rewrite = readRewrite(body, bf, f, rawMatches); break;
      case 'RequestMirror': out.mirrors.push(readMirror(body, bf, namespace)); break;
      default: break;
    }
  });
  if (out.redirect && out.rewrite) invalid(f, 'RequestRedirect and URLRewrite filters cannot both be set on one rule');
  return out;
}

function readHeaderModifier(o: Obj, f: string): HeaderOps | undefined {
  const list = (v: unknown, lf: string): Record<string, string> | undefined => {
    const out: Record<string, string> = {};
    readList(v, lf).forEach((h, i) => {
      const ho = readObj(h, `${lf}[${i}]`);
      const name = readHeaderName(ho.name, `${lf}[${i}].name`);
      const value = readAnyStr(ho.value, `${lf}[${i}].value`);
      // "Subsequent entries with an equivalent header name MUST be ignored"
      if (!(name in out)) out[name] = value;
    });
    return Object.keys(out).length > 0 ? out : undefined;
  };
  const remove = readList(o.remove, `${f}.remove`).map((n, i) => readHeaderName(n, `${f}.remove[${i}]`));
  const ops = compact({ set: list(o.set, `${f}.set`), add: list(o.add, `${f}.add`), remove: remove.length > 0 ? remove : undefined });
  return Object.keys(ops).length > 0 ? ops : undefined;
}

/** ReplacePrefixMatch needs exactly one PathPrefix match (CEL); a rule without matches defaults to one. */
function readPathModifier(v: unknown, f: string, ruleField: string, rawMatches: unknown[]): PathRewrite {
  const o = readObj(v, f);
  const type = readEnum(o.type, `${f}.type`, ['ReplaceFullPath', 'ReplacePrefixMatch']);
  if (type === 'ReplaceFullPath') return { full: readAnyStr(o.replaceFullPath, `${f}.replaceFullPath`) };
  const prefix = readAnyStr(o.replacePrefixMatch, `${f}.replacePrefixMatch`);
  const only = rawMatches.length === 0 ? {} : rawMatches.length === 1 ? rawMatches[0] : undefined;
  const pathType = (only as { path?: { type?: unknown } } | undefined)?.path?.type ?? 'PathPrefix';
  if (only === undefined || pathType !== 'PathPrefix') {
    invalid(`${ruleField.replace(/\.filters$/, '')}.matches`, 'ReplacePrefixMatch needs exactly one match, of type PathPrefix');
  }
  return { prefix };
}

function readRedirect(o: Obj, f: string, ruleField: string, rawMatches: unknown[]): Redirect {
  const scheme = o.scheme === undefined || o.scheme === null ? undefined : readEnum(o.scheme, `${f}.scheme`, ['http', 'https']);
  const host = optStr(o.hostname, `${f}.hostname`);
  const port = optInt(o.port, `${f}.port`, 1, 65535);
  const status = o.statusCode === undefined || o.statusCode === null ? 302 : readInt(o.statusCode, `${f}.statusCode`, 301, 308);
  if (!REDIRECT_CODES.includes(status)) invalid(`${f}.statusCode`, `must be one of ${REDIRECT_CODES.join(', ')}, got ${status}`);
  const path = o.path === undefined || o.path === null ? undefined : readPathModifier(o.path, `${f}.path`, ruleField, rawMatches);
  return compact({ scheme, host, port, path, status });
}

function readRewrite(o: Obj, f: string, ruleField: string, rawMatches: unknown[]): Rewrite | undefined {
  const authority = optStr(o.hostname, `${f}.hostname`);
  const path = o.path === undefined || o.path === null ? undefined : readPathModifier(o.path, `${f}.path`, ruleField, rawMatches);
  const rw = compact({ path, authority });
  return Object.keys(rw).length > 0 ? rw : undefined;
}

function readMirror(o: Obj, f: string, namespace: string): MirrorSpec {
  const bf = `${f}.backendRef`;
  const ref = readBackendObjectRef(readObj(o.backendRef, bf), bf, namespace);
  const hasPercent = o.percent !== undefined && o.percent !== null;
  const fraction = optObj(o.fraction, `${f}.fraction`);
  if (hasPercent && fraction) invalid(f, 'percent and fraction cannot both be set');
  let percent = 100;
  if (hasPercent) percent = readInt(o.percent, `${f}.percent`, 0, 100);
  if (fraction) {
    const num = readInt(fraction.numerator, `${f}.fraction.numerator`, 0, 2 ** 31 - 1);
    const den = optInt(fraction.denominator, `${f}.fraction.denominator`, 1, 2 ** 31 - 1) ?? 100;
    if (num > den) invalid(`${f}.fraction`, `numerator ${num} must not exceed denominator ${den}`);
    percent = (100 * num) / den;
  }
  return { target: ref.target, port: ref.port, percent, fields: { target: bf } };
}

// ---- backends ----

function readBackendObjectRef(o: Obj, f: string, namespace: string): { target: Target; port: number } {
  const group = o.group === undefined || o.group === null ? '' : readAnyStr(o.group, `${f}.group`);
  const kind = optStr(o.kind, `${f}.kind`) ?? 'Service';
  if (kind !== 'Service' || !CORE_GROUPS.includes(group)) {
    unsupported(`${f}.kind`, `backend ${group === '' ? '' : `${group}/`}${kind} is not supported; waypoints route to Services`);
  }
  const name = readStr(o.name, `${f}.name`);
  if (name.includes('.')) invalid(`${f}.name`, `must be the name of the Service, not a hostname, got ${JSON.stringify(name)}`);
  const ns = optStr(o.namespace, `${f}.namespace`) ?? namespace;
  if (o.port === undefined || o.port === null) invalid(`${f}.port`, 'is required when the backend is a Service');
  const port = readInt(o.port, `${f}.port`, 1, 65535);
  return { target: { by: 'name', namespace: ns, name }, port };
}

function readBackends(v: unknown, ruleField: string, namespace: string, filters: 'backend' | 'none'): BackendSpec[] {
  return readList(v, `${ruleField}.backendRefs`).map((b, i) => {
    const f = `${ruleField}.backendRefs[${i}]`;
    const o = readObj(b, f);
    const ref = readBackendObjectRef(o, f, namespace);
    const weight = optInt(o.weight, `${f}.weight`, 0, 1_000_000) ?? 1;
    const fl = filters === 'backend' ? readFilters(o.filters, `${f}.filters`, namespace, 'backend', []) : { mirrors: [] } as Filters;
    return compact({
      target: ref.target, port: ref.port, weight,
      requestHeaders: fl.requestHeaders, responseHeaders: fl.responseHeaders, fields: { target: f },
    });
  });
}

// ---- retry (GEP-1731) ----

function readRetry(v: unknown, f: string): RetryPolicy | undefined {
  const r = optObj(v, f);
  if (!r) return undefined;
  const codes = [...new Set(readList(r.codes, `${f}.codes`).map((c, i) => readInt(c, `${f}.codes[${i}]`, 400, 599)))];
  // Istio: unset attempts means its default, 2; 0 disables retries.
  const attempts = optInt(r.attempts, `${f}.attempts`, 0, 1000) ?? 2;
  const backoffMs = r.backoff === undefined || r.backoff === null ? undefined : gatewayDurationMs(r.backoff, `${f}.backoff`);
  if (attempts === 0) return { attempts: 0, retryOn: [] };
  return compact({
    attempts,
    retryOn: codes.length > 0 ? [...GATEWAY_RETRY_ON, 'retriable-status-codes'] : [...GATEWAY_RETRY_ON],
    retriableStatusCodes: codes.length > 0 ? codes : undefined,
    backoffMs: backoffMs || undefined,
  });
}
