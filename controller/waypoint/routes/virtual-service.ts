// Owns parsing networking.istio.io VirtualService (v1/v1beta1/v1alpha3: same schema) into HttpRuleSpec/TcpRuleSpec
// with Istio's documented semantics: rules in order, matches OR-ed, one destination gets all traffic and several
// share by relative weight, redirect 301 by default, uri rewrite replaces the matched prefix, fault percentages
// default to 0 ("if left unspecified, no request will be delayed"), retries start from Istio's default policy and
// numeric retryOn entries become retriable status codes, timeout 0 disables. `gateways` without `mesh` means the
// object (or a match) is for gateways and is left out; `tls` rules (SNI routing) are not a waypoint's.

import type { Fault, HeaderMatch, HeaderOps, HttpMatch, PathMatch, QueryMatch, Redirect, RetryPolicy, Rewrite, StringMatch } from '../../../shared/waypoint/config.ts';
import type { KubeObject } from '../verdict.ts';
import {
  type ActionSpec, type BackendSpec, type HttpRuleSpec, type MatchSpec, type MirrorSpec, type RefFields, type Target, type TcpRuleSpec,
  type VirtualServiceSpec, compact, meshDefaultRetry, objectInfo,
} from './model.ts';
import {
  type Obj, escapeRegex, invalid, istioDurationMs, normRegex, optBool, optEnum, optInt, optIstioDurationMs, optObj, optStr,
  readAnyStr, readHeaderName, readInt, readList, readObj, readPercent, readRegex, readStr, readStringMap, unsupported,
} from './spec.ts';

/** gRPC status names (grpc/doc/statuscodes.md); Istio takes `grpcStatus` by name only ("UNAVAILABLE", not "14"). */
export const GRPC_STATUS: Record<string, number> = {
  OK: 0, CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, ABORTED: 10, OUT_OF_RANGE: 11, UNIMPLEMENTED: 12,
  INTERNAL: 13, UNAVAILABLE: 14, DATA_LOSS: 15, UNAUTHENTICATED: 16,
};

/** retryOn policies Istio's validation accepts besides HTTP status codes. */
const RETRY_ON = new Set([
  '5xx', 'gateway-error', 'reset', 'connect-failure', 'envoy-ratelimited', 'retriable-4xx', 'refused-stream',
  'retriable-status-codes', 'retriable-headers', 'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted',
  'unavailable', 'reset-before-request', 'http3-post-connect-failure',
]);
const REDIRECT_CODES = [301, 302, 303, 307, 308];

const present = (v: unknown): boolean => v !== undefined && v !== null;

/** Parse and validate one VirtualService; throws RouteConfigError. */
export function parseVirtualService(o: KubeObject): VirtualServiceSpec {
  const info = objectInfo('VirtualService', o);
  readStr(o.metadata.name, 'metadata.name');
  const spec = readObj(o.spec, 'spec');
  const hosts = readList(spec.hosts, 'spec.hosts').map((h, i) => readStr(h, `spec.hosts[${i}]`));
  if (hosts.length === 0) invalid('spec.hosts', 'must list at least one host');
  const gateways = readList(spec.gateways, 'spec.gateways').map((g, i) => readStr(g, `spec.gateways[${i}]`));
  const mesh = gateways.length === 0 || gateways.includes('mesh');
  const http: HttpRuleSpec[] = [];
  readList(spec.http, 'spec.http').forEach((r, i) => {
    const rule = readHttpRule(r, i, info.namespace, mesh);
    if (rule) http.push(rule);
  });
  const tcp: TcpRuleSpec[] = [];
  readList(spec.tcp, 'spec.tcp').forEach((r, i) => {
    const rule = readTcpRule(r, i, info.namespace, mesh);
    if (rule) tcp.push(rule);
  });
  return { ...info, hosts, mesh, http, tcp };
}

/** Whether a match applies to the mesh: its own `gateways` override the object's. */
function matchMesh(m: Obj, f: string, vsMesh: boolean): boolean {
  const gateways = readList(m.gateways, `${f}.gateways`).map((g, i) => readStr(g, `${f}.gateways[${i}]`));
  return gateways.length > 0 ? gateways.includes('mesh') : vsMesh;
}

/** Match fields a waypoint cannot evaluate; ignoring them would widen the match, so they are refused. */
function refuseUnsupported(m: Obj, f: string, fields: string[]): void {
  for (const k of fields) if (present(m[k])) unsupported(`${f}.${k}`, `matching on ${k} is not supported by waypoints`);
}

function readHttpRule(r: unknown, index: number, namespace: string, vsMesh: boolean): HttpRuleSpec | undefined {
  const f = `spec.http[${index}]`;
  const rule = readObj(r, f);
  const parsed = readList(rule.match, `${f}.match`).map((m, j) => readMatch(m, `${f}.match[${j}]`, vsMesh));
  const routes = readList(rule.route, `${f}.route`);
  if (present(rule.delegate)) unsupported(`${f}.delegate`, 'delegation applies to gateways only, not to waypoints');
  const kinds = [routes.length > 0 ? 'route' : '', present(rule.redirect) ? 'redirect' : '', present(rule.directResponse) ? 'directResponse' : ''].filter((k) => k !== '');
  if (kinds.length === 0) invalid(f, 'must set one of route, redirect or directResponse');
  if (kinds.length > 1) invalid(f, `${kinds.join(' and ')} cannot be combined; set only one`);
  if (present(rule.rewrite) && kinds[0] !== 'route') invalid(`${f}.rewrite`, `cannot be combined with ${kinds[0]}`);
  if (present(rule.fault) && kinds[0] === 'redirect') invalid(`${f}.fault`, 'cannot be combined with redirect');
  if (present(rule.mirror) && present(rule.mirrors)) invalid(`${f}.mirrors`, 'mirror and mirrors cannot both be set');

  const matches = parsed.filter((p) => p.mesh).map((p) => p.match);
  let action: ActionSpec;
  if (kinds[0] === 'route') action = { kind: 'forward', backends: readDestinations(routes, `${f}.route`, namespace, true) };
  else if (kinds[0] === 'redirect') action = { kind: 'redirect', redirect: readRedirect(rule.redirect, `${f}.redirect`) };
  else action = readDirectResponse(rule.directResponse, `${f}.directResponse`);
  const headers = readHeaders(rule.headers, `${f}.headers`);
  const spec: HttpRuleSpec = compact({
    index,
    matches,
    matchAll: matches.length === 0,
    action,
    requestHeaders: headers.request,
    responseHeaders: headers.response,
    rewrite: readRewrite(rule.rewrite, `${f}.rewrite`, matches),
    fault: readFault(rule.fault, `${f}.fault`),
    mirrors: readMirrors(rule, f, namespace),
    timeoutMs: optIstioDurationMs(rule.timeout, `${f}.timeout`, 0) || undefined,
    retries: readRetries(rule.retries, `${f}.retries`),
  });
  // Every match is for other gateways: the rule is not the mesh's (and must not become a catch-all).
  if (parsed.length > 0 && matches.length === 0) return undefined;
  return spec;
}

function readMatch(v: unknown, f: string, vsMesh: boolean): { match: MatchSpec; mesh: boolean } {
  const m = readObj(v, f);
  const mesh = matchMesh(m, f, vsMesh);
  const ignoreCase = optBool(m.ignoreUriCase, `${f}.ignoreUriCase`) ?? false;
  const uri = readStringMatch(m.uri, `${f}.uri`);
  let path: PathMatch | undefined;
  if (uri && ignoreCase) {
    // Case-insensitive paths have no plain form; `(?i:…)` is read the same by RE2 and JS.
    path = { regex: 'exact' in uri ? `(?i:${escapeRegex(uri.exact)})` : 'prefix' in uri ? `(?i:${escapeRegex(uri.prefix)}).*` : `(?i:${uri.regex})` };
  } else if (uri) {
    path = uri;
  }
  const headers: HeaderMatch[] = [];
  for (const [key, invert] of [['headers', false], ['withoutHeaders', true]] as const) {
    const map = optObj(m[key], `${f}.${key}`) ?? {};
    for (const [name, sm] of Object.entries(map)) {
      const hf = `${f}.${key}.${name}`;
      const value = readStringMatch(sm, hf);
      headers.push(compact({
        name: readHeaderName(name, hf, true),
        // `{}` or an empty prefix: the header must be present (Istio's catch-all header match).
        value: value && !('prefix' in value && value.prefix === '') ? value : undefined,
        invert: invert || undefined,
      }));
    }
  }
  const query: QueryMatch[] = [];
  for (const [name, sm] of Object.entries(optObj(m.queryParams, `${f}.queryParams`) ?? {})) {
    query.push(compact({ name, value: readStringMatch(sm, `${f}.queryParams.${name}`) }));
  }
  // authority and scheme are Envoy header matches on the pseudo-headers (Host for HTTP/1.1; `http` inside the mesh).
  for (const [key, name] of [['authority', ':authority'], ['scheme', ':scheme']] as const) {
    const value = readStringMatch(m[key], `${f}.${key}`);
    if (value) headers.push({ name, value });
  }
  const method = readStringMatch(m.method, `${f}.method`);
  const port = optInt(m.port, `${f}.port`, 1, 65535);
  // The client: its namespace (from its SPIFFE id) and, for sourceLabels, the workloads carrying the labels.
  const sourceNamespace = optStr(m.sourceNamespace, `${f}.sourceNamespace`);
  const sourceLabels = present(m.sourceLabels) ? readStringMap(m.sourceLabels, `${f}.sourceLabels`) : undefined;
  return {
    mesh,
    match: compact({
      path, headers: headers.length > 0 ? headers : undefined, query: query.length > 0 ? query : undefined, method, port,
      source: sourceNamespace === undefined ? undefined : { namespaces: [sourceNamespace] },
      sourceLabels: sourceLabels && Object.keys(sourceLabels).length > 0 ? sourceLabels : undefined,
    }),
  };
}

/** Istio StringMatch: one of exact, prefix, regex; `{}` (undefined here) matches anything present. */
function readStringMatch(v: unknown, f: string): StringMatch | undefined {
  const o = optObj(v, f);
  if (!o) return undefined;
  const set = (['exact', 'prefix', 'regex'] as const).filter((k) => present(o[k]));
  if (set.length > 1) invalid(f, `exact, prefix and regex are mutually exclusive; got ${set.join(' and ')}`);
  if (set[0] === 'exact') return { exact: readAnyStr(o.exact, `${f}.exact`) };
  if (set[0] === 'prefix') return { prefix: readAnyStr(o.prefix, `${f}.prefix`) };
  if (set[0] === 'regex') return { regex: normRegex(readRegex(o.regex, `${f}.regex`)) };
  return undefined;
}

// ---- destinations ----

function readDestination(v: unknown, f: string, namespace: string): { target: Target; port?: number; subset?: string; fields: RefFields } {
  const d = readObj(v, f);
  const host = readStr(d.host, `${f}.host`);
  if (host.includes('*')) invalid(`${f}.host`, `must name one service, not a wildcard, got ${JSON.stringify(host)}`);
  const subset = optStr(d.subset, `${f}.subset`);
  const portSel = optObj(d.port, `${f}.port`);
  const port = portSel ? readInt(portSel.number, `${f}.port.number`, 1, 65535) : undefined;
  return compact({ target: { by: 'host' as const, host, namespace }, port, subset, fields: compact({ target: `${f}.host`, subset: subset === undefined ? undefined : `${f}.subset` }) });
}

/**
 * `route` / tcp `route` entries. "If there is only one destination in a rule, it will receive all traffic.
 * Otherwise, if weight is 0, the destination will not receive any traffic" — so unset weights are 0 among several.
 */
function readDestinations(routes: unknown[], f: string, namespace: string, http: boolean): BackendSpec[] {
  const out = routes.map((r, j) => {
    const rf = `${f}[${j}]`;
    const o = readObj(r, rf);
    const dest = readDestination(o.destination, `${rf}.destination`, namespace);
    const weight = optInt(o.weight, `${rf}.weight`, 0, 1_000_000) ?? 0;
    const headers = http ? readHeaders(o.headers, `${rf}.headers`) : {};
    return compact({ ...dest, weight, requestHeaders: headers.request, responseHeaders: headers.response });
  });
  if (out.length === 1) out[0]!.weight = 100;
  else if (out.every((b) => b.weight === 0)) invalid(f, 'the total destination weight must be greater than 0');
  return out;
}

function readMirrors(rule: Obj, f: string, namespace: string): MirrorSpec[] {
  const out: MirrorSpec[] = [];
  if (present(rule.mirror)) {
    const d = readDestination(rule.mirror, `${f}.mirror`, namespace);
    let percent = 100;
    if (present(rule.mirrorPercentage)) percent = readPercent(readObj(rule.mirrorPercentage, `${f}.mirrorPercentage`).value ?? 0, `${f}.mirrorPercentage.value`);
    else if (present(rule.mirrorPercent)) percent = readInt(rule.mirrorPercent, `${f}.mirrorPercent`, 0, 100);
    out.push({ ...d, percent });
  }
  readList(rule.mirrors, `${f}.mirrors`).forEach((m, j) => {
    const mf = `${f}.mirrors[${j}]`;
    const mo = readObj(m, mf);
    const d = readDestination(mo.destination, `${mf}.destination`, namespace);
    const percent = present(mo.percentage) ? readPercent(readObj(mo.percentage, `${mf}.percentage`).value ?? 0, `${mf}.percentage.value`) : 100;
    out.push({ ...d, percent });
  });
  return out;
}

// ---- actions and modifiers ----

function readHeaders(v: unknown, f: string): { request?: HeaderOps; response?: HeaderOps } {
  const h = optObj(v, f);
  if (!h) return {};
  return compact({ request: readHeaderOps(h.request, `${f}.request`), response: readHeaderOps(h.response, `${f}.response`) });
}

function readHeaderOps(v: unknown, f: string): HeaderOps | undefined {
  const o = optObj(v, f);
  if (!o) return undefined;
  const map = (key: 'set' | 'add'): Record<string, string> | undefined => {
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(optObj(o[key], `${f}.${key}`) ?? {})) {
      out[readHeaderName(name, `${f}.${key}.${name}`)] = readAnyStr(value, `${f}.${key}.${name}`);
    }
    return Object.keys(out).length > 0 ? out : undefined;
  };
  const remove = readList(o.remove, `${f}.remove`).map((n, i) => readHeaderName(n, `${f}.remove[${i}]`));
  const ops = compact({ set: map('set'), add: map('add'), remove: remove.length > 0 ? remove : undefined });
  return Object.keys(ops).length > 0 ? ops : undefined;
}

function readRedirect(v: unknown, f: string): Redirect {
  const o = readObj(v, f);
  const uri = present(o.uri) ? readAnyStr(o.uri, `${f}.uri`) : undefined;
  const authority = optStr(o.authority, `${f}.authority`);
  const port = optInt(o.port, `${f}.port`, 1, 65535);
  const derive = present(o.derivePort) ? optEnum(o.derivePort, `${f}.derivePort`, ['FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT'], 'FROM_REQUEST_PORT') : undefined;
  if (port !== undefined && derive !== undefined) invalid(f, 'port and derivePort cannot both be set');
  const scheme = optStr(o.scheme, `${f}.scheme`);
  const code = optInt(o.redirectCode, `${f}.redirectCode`, 0, 999) || 301;
  if (!REDIRECT_CODES.includes(code)) invalid(`${f}.redirectCode`, `must be one of ${REDIRECT_CODES.join(', ')}, got ${code}`);
  // Envoy swaps the whole authority for `authority`, dropping the request's port; FROM_PROTOCOL_DEFAULT asks for it.
  let outPort = port;
  if (outPort === undefined && (derive === 'FROM_PROTOCOL_DEFAULT' || (authority !== undefined && derive === undefined))) {
    outPort = scheme?.toLowerCase() === 'https' ? 443 : 80;
  }
  // "the entire path will be replaced, irrespective of the request URI being matched as an exact path or prefix"
  return compact({ scheme, host: authority, port: outPort, path: uri === undefined ? undefined : { full: uri }, status: code });
}

function readDirectResponse(v: unknown, f: string): ActionSpec {
  const o = readObj(v, f);
  const status = readInt(o.status, `${f}.status`, 200, 599);
  const b = optObj(o.body, `${f}.body`);
  let body: string | undefined;
  if (b) {
    if (present(b.string) && present(b.bytes)) invalid(`${f}.body`, 'string and bytes cannot both be set');
    if (present(b.string)) body = readAnyStr(b.string, `${f}.body.string`);
    else if (present(b.bytes)) {
      const raw = readAnyStr(b.bytes, `${f}.body.bytes`);
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(raw)) invalid(`${f}.body.bytes`, 'must be base64');
      body = Buffer.from(raw, 'base64').toString('utf8');
    }
  }
  return compact({ kind: 'respond' as const, status, body });
}

function readRewrite(v: unknown, f: string, matches: HttpMatch[]): Rewrite | undefined {
  const o = optObj(v, f);
  if (!o) return undefined;
  const uri = present(o.uri) ? readAnyStr(o.uri, `${f}.uri`) : undefined;
  const rr = optObj(o.uriRegexRewrite, `${f}.uriRegexRewrite`);
  if (uri !== undefined && rr) invalid(f, 'uri and uriRegexRewrite cannot both be set');
  const authority = optStr(o.authority, `${f}.authority`);
  let path: Rewrite['path'];
  if (uri !== undefined) {
    // "If the original URI was matched based on prefix, the value provided in this field will replace the
    // corresponding matched prefix"; for exact matches it is the whole path.
    const allExact = matches.length > 0 && matches.every((m) => m.path !== undefined && 'exact' in m.path);
    path = allExact ? { full: uri } : { prefix: uri };
  } else if (rr) {
    path = { regex: normRegex(readRegex(rr.match, `${f}.uriRegexRewrite.match`)), substitution: readAnyStr(rr.rewrite, `${f}.uriRegexRewrite.rewrite`) };
  }
  const rw = compact({ path, authority });
  return Object.keys(rw).length > 0 ? rw : undefined;
}

/** `percentage.value`, else the deprecated integer `percent`; unset means none ("no request will be delayed"). */
function faultPercent(o: Obj, f: string): number {
  if (present(o.percentage)) return readPercent(readObj(o.percentage, `${f}.percentage`).value ?? 0, `${f}.percentage.value`);
  if (present(o.percent)) return readInt(o.percent, `${f}.percent`, 0, 100);
  return 0;
}

function readFault(v: unknown, f: string): Fault | undefined {
  const o = optObj(v, f);
  if (!o) return undefined;
  const d = optObj(o.delay, `${f}.delay`);
  const a = optObj(o.abort, `${f}.abort`);
  if (!d && !a) invalid(f, 'must set delay, abort or both');
  const fault: Fault = {};
  if (d) {
    if (present(d.exponentialDelay)) unsupported(`${f}.delay.exponentialDelay`, 'exponential delays are not supported; use fixedDelay');
    if (!present(d.fixedDelay)) invalid(`${f}.delay.fixedDelay`, 'is required');
    fault.delay = { ms: istioDurationMs(d.fixedDelay, `${f}.delay.fixedDelay`, 1), percent: faultPercent(d, `${f}.delay`) };
  }
  if (a) {
    const set = (['httpStatus', 'grpcStatus', 'http2Error'] as const).filter((k) => present(a[k]));
    if (set.length !== 1) invalid(`${f}.abort`, 'must set exactly one of httpStatus, grpcStatus and http2Error');
    if (set[0] === 'http2Error') unsupported(`${f}.abort.http2Error`, 'HTTP/2 error aborts are not supported; use httpStatus or grpcStatus');
    const percent = faultPercent(a, `${f}.abort`);
    if (set[0] === 'httpStatus') fault.abort = { httpStatus: readInt(a.httpStatus, `${f}.abort.httpStatus`, 200, 599), percent };
    else {
      const name = readStr(a.grpcStatus, `${f}.abort.grpcStatus`);
      const code = GRPC_STATUS[name];
      if (code === undefined) invalid(`${f}.abort.grpcStatus`, `unknown gRPC status ${JSON.stringify(name)}; use a name like UNAVAILABLE or NOT_FOUND`);
      fault.abort = { grpcStatus: code, percent };
    }
  }
  return fault;
}

/**
 * Istio's ConvertPolicy: attempts 0 disables retries; otherwise its default policy with attempts, perTryTimeout and
 * backoff replaced, and retryOn (when given) replacing both the conditions and the status codes.
 */
function readRetries(v: unknown, f: string): RetryPolicy | undefined {
  const o = optObj(v, f);
  if (!o) return undefined;
  const attempts = optInt(o.attempts, `${f}.attempts`, 0, 1000) ?? 0;
  const perTryTimeoutMs = optIstioDurationMs(o.perTryTimeout, `${f}.perTryTimeout`, 1);
  const backoffMs = optIstioDurationMs(o.backoff, `${f}.backoff`, 1);
  const raw = present(o.retryOn) ? readAnyStr(o.retryOn, `${f}.retryOn`) : '';
  const tokens: string[] = [];
  const codes: number[] = [];
  for (const t of raw.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    if (/^\d+$/.test(t)) {
      const code = Number(t);
      if (code < 100 || code > 599) invalid(`${f}.retryOn`, `${t} is not an HTTP status code`);
      if (!codes.includes(code)) codes.push(code);
    } else if (RETRY_ON.has(t)) {
      if (!tokens.includes(t)) tokens.push(t);
    } else {
      invalid(`${f}.retryOn`, `"${t}" is not a valid retryOn policy; use Envoy retry_on names (5xx, gateway-error, connect-failure, ...) or HTTP status codes`);
    }
  }
  if (attempts === 0) {
    if (perTryTimeoutMs !== undefined || raw !== '' || backoffMs !== undefined) {
      invalid(`${f}.attempts`, 'retry settings are given but attempts is 0 (retries disabled); set attempts');
    }
    return { attempts: 0, retryOn: [] };
  }
  if (codes.length > 0 && !tokens.includes('retriable-status-codes')) tokens.push('retriable-status-codes');
  const base = meshDefaultRetry();
  return compact({
    attempts,
    perTryTimeoutMs,
    retryOn: raw === '' ? base.retryOn : tokens,
    retriableStatusCodes: raw === '' ? base.retriableStatusCodes : codes.length > 0 ? codes : undefined,
    backoffMs,
  });
}

// ---- tcp ----

function readTcpRule(r: unknown, index: number, namespace: string, vsMesh: boolean): TcpRuleSpec | undefined {
  const f = `spec.tcp[${index}]`;
  const rule = readObj(r, f);
  const matches = readList(rule.match, `${f}.match`).map((m, j) => {
    const mf = `${f}.match[${j}]`;
    const mo = readObj(m, mf);
    const mesh = matchMesh(mo, mf, vsMesh);
    const port = optInt(mo.port, `${mf}.port`, 1, 65535);
    if (mesh) refuseUnsupported(mo, mf, ['destinationSubnets', 'sourceLabels', 'sourceNamespace', 'sourceSubnet']);
    return { mesh, port };
  });
  const routes = readList(rule.route, `${f}.route`);
  if (routes.length === 0) invalid(`${f}.route`, 'must list at least one destination');
  const backends = readDestinations(routes, `${f}.route`, namespace, false);
  const live = matches.filter((m) => m.mesh);
  if (matches.length > 0 && live.length === 0) return undefined;
  const ports = live.length === 0 || live.some((m) => m.port === undefined) ? [undefined] : [...new Set(live.map((m) => m.port))];
  return { index, ports, backends };
}
