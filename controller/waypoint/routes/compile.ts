// Owns compiling route objects for one waypoint: which objects attach to each bound Service, in which order their
// rules are tried, and resolving their references (backend Services by name or host, subsets) into service keys.
//
// Attachment: HTTPRoute/GRPCRoute/TCPRoute through a `parentRefs` entry of kind Service (GAMMA; `port` or a
// `sectionName` naming a service port limits it to that port); VirtualService through `spec.hosts` (short names
// relative to its namespace; wildcards skipped). For one Service, Gateway API routes win over VirtualServices:
// any producer HTTPRoute/GRPCRoute (one in the Service's namespace) replaces the VirtualServices' `http` rules, any
// TCPRoute their `tcp` rules. A consumer HTTPRoute/GRPCRoute (another namespace) applies to its namespace's clients
// only, before everything else (see #gatewayHttp); a consumer TCPRoute is taken as a producer one (TCP routes have
// no client match).
// Order: Gateway API per precedence.ts; VirtualServices oldest first, rules in their order. VirtualService
// `sourceLabels` become the uids of the workloads carrying them.
// Reference problems become `BackendNotFound` verdicts naming the field; the route stays: an unknown Service is
// kept under the key it would have (the waypoint fails those requests), a subset no DestinationRule defines fails
// with 503 at request time (Istio's "no healthy upstream"). Gateway API rules whose every backend is unknown answer
// 500 (gRPC: 503, i.e. UNAVAILABLE), as the spec requires. A mirror to an unknown Service is dropped.
// A Gateway API reference to a Service in another namespace needs a ReferenceGrant there (reference-grant.ts);
// without one it is a `RefNotPermitted` problem and handled like an unknown Service, under a key no service has
// (`<ns>/<name>.<ns>.ref-not-permitted.invalid`), so the Service is never reached, whether it exists or not: a rule
// with no other backend answers 500, and so do the requests of that share (`WeightedBackend.invalidStatus`).

import type {
  DestinationPolicy, HttpMatch, HttpRoute, Mirror, PortProtocol, RouteAction, ServiceListener, TcpRoute, WeightedBackend,
} from '../../../shared/waypoint/config.ts';
import { type ConfigVerdict, type KubeObject, rejected } from '../verdict.ts';
import { DestinationIndex, resolveHost } from './destinations.ts';
import { parseDestinationRule } from './destination-rule.ts';
import { parseGatewayRoute } from './gateway-api.ts';
import {
  type BackendSpec, type GatewayRouteSpec, type HttpRuleSpec, type MatchSpec, type MirrorSpec, type ObjectInfo, type RouteKind, type Target,
  type VirtualServiceSpec, GATEWAY_ROUTE_KINDS, byAge, compact, objectInfo, sourceOf,
} from './model.ts';
import { comparePrecedence } from './precedence.ts';
import { portProtocol } from './protocol.ts';
import { referenceAllowed } from './reference-grant.ts';
import { RouteConfigError } from './spec.ts';
import type { RouteInputs, ServiceInfo } from './types.ts';
import { parseVirtualService } from './virtual-service.ts';

export interface CompiledRoutes {
  services: ServiceListener[];
  destinations: DestinationPolicy[];
  verdicts: ConfigVerdict[];
}

/** A Gateway API route attached to one bound service; `port` undefined: every port. */
interface Attachment {
  route: GatewayRouteSpec;
  port?: number;
}

export function compileRoutes(i: RouteInputs): CompiledRoutes {
  return new Compilation(i).run();
}

class Compilation {
  readonly #i: RouteInputs;
  /** Problems per object (`Kind/ns/name`), in the order found. */
  readonly #problems = new Map<string, { info: ObjectInfo; messages: string[]; reason: string }>();
  /** Services some compiled route forwards or mirrors to, by key. */
  readonly #referenced = new Map<string, ServiceInfo>();
  #destinations!: DestinationIndex;

  constructor(i: RouteInputs) {
    this.#i = i;
  }

  run(): CompiledRoutes {
    const i = this.#i;
    const gateway = [
      ...this.#parseAll('HTTPRoute', i.httpRoutes, (o) => parseGatewayRoute('HTTPRoute', o)),
      ...this.#parseAll('GRPCRoute', i.grpcRoutes, (o) => parseGatewayRoute('GRPCRoute', o)),
      ...this.#parseAll('TCPRoute', i.tcpRoutes, (o) => parseGatewayRoute('TCPRoute', o)),
    ].sort(byAge);
    const virtualServices = this.#parseAll('VirtualService', i.virtualServices, parseVirtualService).filter((v) => v.mesh).sort(byAge);
    const rules = this.#parseAll('DestinationRule', i.destinationRules, parseDestinationRule);
    this.#destinations = new DestinationIndex(rules, i.domainSuffix, i.workloads);

    const bound = [...i.bound].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const services = bound.map((svc) => this.#listener(svc, gateway, virtualServices));

    const keys = new Map<string, ServiceInfo>(bound.map((s) => [s.key, s]));
    for (const [k, s] of this.#referenced) keys.set(k, s);
    const destinations: DestinationPolicy[] = [];
    for (const k of [...keys.keys()].sort()) {
      const p = this.#destinations.policyFor(keys.get(k)!);
      if (p) destinations.push(p);
    }

    const verdicts = [...this.#problems.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, p]) => rejected(p.info.kind, p.info.object, p.reason, p.messages.join('; ')));
    // Routes compiled for several services share rule objects; the config must not alias them.
    return structuredClone({ services, destinations, verdicts });
  }

  #parseAll<T>(kind: RouteKind, objects: KubeObject[], parse: (o: KubeObject) => T): T[] {
    const out: T[] = [];
    for (const o of objects) {
      try {
        out.push(parse(o));
      } catch (err) {
        // Callers pass validated objects; one that slipped through is left out, with its reason.
        if (!(err instanceof RouteConfigError)) throw err;
        this.#problem(objectInfo(kind, o), err.message, err.reason);
      }
    }
    return out;
  }

  #problem(info: ObjectInfo, message: string, reason = 'BackendNotFound'): void {
    const key = `${info.kind}/${info.namespace}/${info.name}`;
    const p = this.#problems.get(key) ?? { info, messages: [], reason };
    // One reason per object: a reference the route may not make outweighs one that does not resolve.
    if (reason === 'RefNotPermitted') p.reason = reason;
    if (!p.messages.includes(message)) p.messages.push(message);
    this.#problems.set(key, p);
  }

  // ---- listeners ----

  #listener(svc: ServiceInfo, gateway: GatewayRouteSpec[], virtualServices: VirtualServiceSpec[]): ServiceListener {
    const attached = gateway.flatMap((route) => this.#attachments(route, svc));
    const httpAttached = attached.filter((a) => a.route.kind !== 'TCPRoute');
    const tcpAttached = attached.filter((a) => a.route.kind === 'TCPRoute');
    const vs = virtualServices.filter((v) => v.hosts.some((h) => resolveHost(h, v.namespace, this.#i.domainSuffix) === svc.hostname));

    const vsHttp = (): HttpRoute[] => vs.flatMap((v) => v.http.map((rule) => this.#httpRoute(v, rule, rule.matches)));
    const http = httpAttached.length > 0 ? this.#gatewayHttp(svc, httpAttached, vsHttp) : vsHttp();
    const tcp = tcpAttached.length > 0
      ? tcpAttached.map((a) => this.#tcpRoute(a.route, 0, a.port, a.route.tcp ?? []))
      : vs.flatMap((v) => v.tcp.flatMap((rule) => rule.ports.map((port) => this.#tcpRoute(v, rule.index, port, rule.backends))));

    const grpcPorts = httpAttached.filter((a) => a.route.kind === 'GRPCRoute').map((a) => a.port);
    const ports = svc.ports.map((p) => {
      let protocol: PortProtocol = portProtocol(p);
      if (grpcPorts.some((gp) => gp === undefined || gp === p.port) && protocol !== 'HTTP2' && protocol !== 'GRPC') protocol = 'GRPC';
      return { port: p.port, protocol };
    });
    return { service: svc.key, ports, http, tcp };
  }

  /** The parentRefs of `route` naming `svc`; a sectionName must name one of its ports (and agree with `port`). */
  #attachments(route: GatewayRouteSpec, svc: ServiceInfo): Attachment[] {
    const out: Attachment[] = [];
    for (const p of route.parents) {
      if (this.#i.services.byName(p.namespace, p.name)?.key !== svc.key) continue;
      let port = p.port;
      if (p.sectionName !== undefined) {
        const named = svc.ports.find((sp) => sp.name === p.sectionName);
        if (!named || (port !== undefined && port !== named.port)) continue;
        port = named.port;
      }
      if (!out.some((a) => a.port === port)) out.push({ route, port });
    }
    return out;
  }

  /**
   * GAMMA: a route in the Service's namespace is a producer route, for every client; one in another namespace is a
   * consumer route, for clients in that namespace only, and for them it replaces the producer routes (a request of
   * theirs that no consumer route matches gets 404, as with any routes attached). Consumer routes come first, each
   * match limited to its namespace's clients. Without producer routes, other clients get the VirtualServices'
   * rules (`otherwise`), or without those the Service itself.
   */
  #gatewayHttp(svc: ServiceInfo, attached: Attachment[], otherwise: () => HttpRoute[]): HttpRoute[] {
    const consumers = [...new Set(attached.map((a) => a.route.namespace).filter((ns) => ns !== svc.namespace))].sort();
    const out: HttpRoute[] = [];
    for (const ns of consumers) {
      const source = { namespaces: [ns] };
      out.push(...this.#precedenceOrdered(attached.filter((a) => a.route.namespace === ns), source));
      out.push({ id: `consumer/${ns}#no-route`, source: { kind: 'Default', namespace: ns, name: '' }, matches: [{ source }], action: { kind: 'respond', status: 404 } });
    }
    const producer = attached.filter((a) => a.route.namespace === svc.namespace);
    if (producer.length > 0) return [...out, ...this.#precedenceOrdered(producer)];
    const rest = otherwise();
    if (rest.length > 0) return [...out, ...rest];
    return [...out, { id: 'default', source: { kind: 'Default', namespace: '', name: '' }, matches: [], action: { kind: 'forward', backends: [{ service: svc.key, weight: 1 }] } }];
  }

  #precedenceOrdered(attached: Attachment[], source?: HttpMatch['source']): HttpRoute[] {
    const entries: Array<{ route: GatewayRouteSpec; rule: HttpRuleSpec; match: HttpMatch; matchAll: boolean }> = [];
    for (const { route, port } of attached) {
      for (const rule of route.http) {
        const matches = rule.matches.length > 0 ? rule.matches : [{}];
        for (const m of matches) entries.push({ route, rule, match: compact({ ...m, port, source }), matchAll: rule.matchAll });
      }
    }
    // `attached` is oldest first and rules/matches in list order, so a stable sort keeps the spec's tie-breaks.
    entries.sort(comparePrecedence);
    return entries.map((e) => this.#httpRoute(e.route, e.rule, [e.match]));
  }

  /** VirtualService `sourceLabels` → the uids of the workloads carrying them (in `sourceNamespace` when given). */
  #sourceResolved(m: MatchSpec): HttpMatch {
    const { sourceLabels, ...match } = m;
    if (!sourceLabels) return match;
    const namespaces = match.source?.namespaces;
    const workloads = this.#i.workloads
      .filter((w) => (!namespaces || namespaces.includes(w.namespace)) && Object.entries(sourceLabels).every(([k, v]) => w.labels[k] === v))
      .map((w) => w.uid)
      .sort();
    return { ...match, source: { ...match.source, workloads } };
  }

  #httpRoute(obj: ObjectInfo, rule: HttpRuleSpec, matches: MatchSpec[]): HttpRoute {
    let action: RouteAction;
    if (rule.action.kind === 'forward') {
      const resolved = rule.action.backends.map((b) => this.#backend(b, obj));
      const invalid = rule.allInvalidStatus;
      action = invalid !== undefined && resolved.every((r) => !r.found)
        ? { kind: 'respond', status: invalid }
        // Gateway API: the share of an invalid backend gets the same status, decided here rather than by the waypoint.
        : { kind: 'forward', backends: resolved.map((r) => (r.found || invalid === undefined ? r.backend : { ...r.backend, invalidStatus: invalid })) };
    } else {
      action = rule.action;
    }
    const mirrors = rule.mirrors.flatMap((m) => this.#mirror(m, obj));
    return compact({
      id: `${obj.kind}/${obj.namespace}/${obj.name}#${rule.index}`,
      source: sourceOf(obj),
      matches: matches.map((m) => this.#sourceResolved(m)),
      action,
      requestHeaders: rule.requestHeaders,
      responseHeaders: rule.responseHeaders,
      rewrite: rule.rewrite,
      fault: rule.fault,
      mirrors: mirrors.length > 0 ? mirrors : undefined,
      timeoutMs: rule.timeoutMs,
      retries: rule.retries,
    });
  }

  #tcpRoute(obj: ObjectInfo, index: number, port: number | undefined, backends: BackendSpec[]): TcpRoute {
    return compact({
      id: `${obj.kind}/${obj.namespace}/${obj.name}#${index}`,
      source: sourceOf(obj),
      port,
      backends: backends.map((b) => this.#backend(b, obj).backend),
    });
  }

  // ---- references ----

  /**
   * The service `t` names, as `obj` may see it: `svc` undefined when unknown or, for a Gateway API route, in another
   * namespace without a ReferenceGrant (`denied`; the key then names no service).
   */
  #resolve(t: Target, obj: ObjectInfo): { key: string; svc?: ServiceInfo; what: string; denied?: string } {
    const suffix = this.#i.domainSuffix;
    if (t.by === 'name' && GATEWAY_ROUTE_KINDS.has(obj.kind) && !referenceAllowed(this.#i.referenceGrants, obj, t)) {
      return {
        key: `${t.namespace}/${t.name}.${t.namespace}.ref-not-permitted.invalid`,
        what: `Service ${t.namespace}/${t.name}`,
        denied: `is not permitted by any ReferenceGrant in namespace ${t.namespace}`,
      };
    }
    if (t.by === 'name') {
      const svc = this.#i.services.byName(t.namespace, t.name);
      return { key: svc?.key ?? `${t.namespace}/${t.name}.${t.namespace}.svc.${suffix}`, svc, what: `Service ${t.namespace}/${t.name}` };
    }
    const host = resolveHost(t.host, t.namespace, suffix);
    const svc = this.#i.services.byHost(host);
    const ns = new RegExp(`^[^.]+\\.([^.]+)\\.svc\\.${suffix.replaceAll('.', '\\.')}$`).exec(host)?.[1] ?? t.namespace;
    return { key: svc?.key ?? `${ns}/${host}`, svc, what: `service host ${host}` };
  }

  #subset(svc: ServiceInfo, subset: string, field: string, obj: ObjectInfo): void {
    if (this.#destinations.hasSubset(svc, subset)) return;
    this.#problem(obj, `${field}: no DestinationRule for ${svc.hostname} defines subset "${subset}"; requests routed to it fail with 503`);
  }

  #backend(b: BackendSpec, obj: ObjectInfo): { found: boolean; backend: WeightedBackend } {
    const r = this.#resolve(b.target, obj);
    if (r.denied) this.#problem(obj, `${b.fields.target}: ${r.what} ${r.denied}`, 'RefNotPermitted');
    else if (!r.svc) this.#problem(obj, `${b.fields.target}: ${r.what} not found`);
    else {
      this.#referenced.set(r.svc.key, r.svc);
      if (b.subset !== undefined) this.#subset(r.svc, b.subset, b.fields.subset ?? b.fields.target, obj);
    }
    return {
      found: r.svc !== undefined,
      backend: compact({
        service: r.key, port: b.port, subset: b.subset, weight: b.weight, requestHeaders: b.requestHeaders, responseHeaders: b.responseHeaders,
      }),
    };
  }

  #mirror(m: MirrorSpec, obj: ObjectInfo): Mirror[] {
    const r = this.#resolve(m.target, obj);
    if (!r.svc) {
      if (r.denied) this.#problem(obj, `${m.fields.target}: ${r.what} ${r.denied}; the mirror is not applied`, 'RefNotPermitted');
      else this.#problem(obj, `${m.fields.target}: ${r.what} not found; the mirror is not applied`);
      return [];
    }
    this.#referenced.set(r.svc.key, r.svc);
    if (m.subset !== undefined) this.#subset(r.svc, m.subset, m.fields.subset ?? m.fields.target, obj);
    return [{ backend: compact({ service: r.svc.key, port: m.port, subset: m.subset }), percent: m.percent }];
  }
}
