// The controller's waypoint half: keeps the inputs a waypoint's configuration is made of, and on flush compiles one
// WaypointConfig per waypoint Gateway (routes, destination policies, L7 authorization, JWT rules, rate limits) plus
// the verdict of every config object, and the "only through the waypoint" policies for bound services.
// ReferenceGrants are inputs too: creating or deleting one recompiles, so a cross-namespace backendRef starts or
// stops resolving without the route changing.
//
// Every object is validated on its own when it changes (validate*); an invalid object is left out of every waypoint
// (its last good version is not kept: a route that became invalid stops routing, and its status says why).
import type { V1Namespace, V1Pod, V1Service } from '@kubernetes/client-node';
import { bindWaypoint } from '../ambient/waypoints.ts';
import { WAYPOINT_CLASS, selectsNonEmpty } from '../ambient/labels.ts';
import { podUid } from '../ambient/workloads.ts';
import type { Gateway } from '../ambient/inputs.ts';
import { WAYPOINT_CONFIG_SCHEMA, type WaypointConfig } from '../../shared/waypoint/config.ts';
import type { ConfigVerdict, KubeObject, WaypointConfigKind } from './verdict.ts';
import { compileRoutes, validateRouteObject, type ServiceInfo, type ServiceLookup, type WorkloadInfo } from './routes/index.ts';
import { validateWaypointAuthorizationPolicy, waypointAuthorizations } from './authz.ts';
import { validateRequestAuthentication, waypointJwtPolicies } from './authn.ts';
import { validateRateLimitPolicy, waypointRateLimits } from './ratelimit.ts';
import { bypassPolicies, type BypassPolicy } from './bypass.ts';

export const WAYPOINT_INPUT_KINDS = [
  'Service', 'Namespace', 'Pod', 'Gateway', 'HTTPRoute', 'GRPCRoute', 'TCPRoute', 'VirtualService', 'DestinationRule',
  'AuthorizationPolicy', 'RequestAuthentication', 'HTTPLocalRateLimitPolicy', 'ReferenceGrant',
] as const;
type InputKind = (typeof WAYPOINT_INPUT_KINDS)[number];
const CONFIG_KINDS = new Set<string>(['HTTPRoute', 'GRPCRoute', 'TCPRoute', 'VirtualService', 'DestinationRule', 'AuthorizationPolicy', 'RequestAuthentication', 'HTTPLocalRateLimitPolicy']);

export interface WaypointCompilerOptions {
  clusterId: string;
  trustDomain: string;
  network: string;
  domainSuffix?: string;
  rootNamespace: string;
}

export interface CompileResult {
  /** xDS name (`ns/gateway`) → config, for every waypoint Gateway. */
  configs: Map<string, WaypointConfig>;
  /** One verdict per config object that concerns waypoints. */
  verdicts: ConfigVerdict[];
  /** Synthetic DENY policies refusing traffic to bound services that did not come through their waypoint. */
  bypass: BypassPolicy[];
}

const keyOf = (o: { metadata?: { namespace?: string; name?: string } }): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/** Which AuthorizationPolicies are the waypoint's to judge: those that target something (targetRef(s)). */
const targetsSomething = (o: KubeObject): boolean => {
  const s = o.spec as { targetRef?: unknown; targetRefs?: unknown[] } | undefined;
  return !!s && (s.targetRef !== undefined || (Array.isArray(s.targetRefs) && s.targetRefs.length > 0));
};

export class WaypointCompiler {
  readonly #o: WaypointCompilerOptions & { domainSuffix: string };
  readonly #inputs = new Map<InputKind, Map<string, KubeObject>>(WAYPOINT_INPUT_KINDS.map((k) => [k, new Map()]));
  /** Per-object validation verdicts (config kinds), recomputed when the object changes. */
  readonly #validation = new Map<string, ConfigVerdict>();
  #dirty = true;

  constructor(o: WaypointCompilerOptions) {
    this.#o = { ...o, domainSuffix: o.domainSuffix || 'cluster.local' };
  }

  /** Feed an informer event; returns whether it may change a waypoint's configuration. */
  event(kind: string, type: 'add' | 'update' | 'delete', obj: KubeObject): boolean {
    const m = this.#inputs.get(kind as InputKind);
    if (!m) return false;
    const k = keyOf(obj);
    // A pod matters here only by its labels (which services it backs): status churn is not a change.
    if (kind === 'Pod' && type !== 'delete') {
      const before = m.get(k);
      m.set(k, obj);
      if (before && sameLabels(before.metadata?.labels, obj.metadata?.labels)) return false;
      this.#dirty = true;
      return true;
    }
    if (type === 'delete') {
      m.delete(k);
      this.#validation.delete(`${kind}/${k}`);
    } else {
      m.set(k, obj);
      if (CONFIG_KINDS.has(kind)) this.#validation.set(`${kind}/${k}`, this.#validate(kind as WaypointConfigKind, obj));
    }
    this.#dirty = true;
    return true;
  }

  get dirty(): boolean {
    return this.#dirty;
  }

  #validate(kind: WaypointConfigKind, o: KubeObject): ConfigVerdict {
    switch (kind) {
      case 'AuthorizationPolicy': return validateWaypointAuthorizationPolicy(o);
      case 'RequestAuthentication': return validateRequestAuthentication(o);
      case 'HTTPLocalRateLimitPolicy': return validateRateLimitPolicy(o);
      default: return validateRouteObject(kind, o);
    }
  }

  #valid(kind: InputKind): KubeObject[] {
    return [...this.#inputs.get(kind)!.values()].filter((o) => this.#validation.get(`${kind}/${keyOf(o)}`)?.accepted !== false);
  }

  #all<T>(kind: InputKind): T[] {
    return [...this.#inputs.get(kind)!.values()] as T[];
  }

  compile(): CompileResult {
    this.#dirty = false;
    const o = this.#o;
    const namespaces = new Map(this.#all<V1Namespace>('Namespace').map((n) => [n.metadata?.name ?? '', n]));
    const gateways = this.#all<Gateway>('Gateway');
    const gatewayLookup = (ns: string, name: string): Gateway | undefined => this.#inputs.get('Gateway')!.get(`${ns}/${name}`) as Gateway | undefined;
    const services = this.#all<V1Service>('Service');
    const pods = this.#all<V1Pod>('Pod');

    const info = (s: V1Service): ServiceInfo => {
      const ns = s.metadata?.namespace ?? '';
      const name = s.metadata?.name ?? '';
      const hostname = `${name}.${ns}.svc.${o.domainSuffix}`;
      return {
        key: `${ns}/${hostname}`, namespace: ns, name, hostname,
        ports: (s.spec?.ports ?? []).map((p) => ({
          port: p.port, ...(p.name ? { name: p.name } : {}), ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
          ...(typeof p.targetPort === 'number' ? { targetPort: p.targetPort } : {}),
        })),
      };
    };
    const infos = services.map(info);
    const byName = new Map(infos.map((i) => [`${i.namespace}/${i.name}`, i]));
    const byHost = new Map(infos.map((i) => [i.hostname, i]));
    const lookup: ServiceLookup = { byName: (ns, name) => byName.get(`${ns}/${name}`), byHost: (h) => byHost.get(h) };

    const waypointGateways = gateways.filter((gw) => gw.spec?.gatewayClassName === WAYPOINT_CLASS);
    // Which services back each pod, found through an index on one selector label (not every service per pod:
    // 2000 pods × 1000 services made this compile the controller's largest cost per flush). Only computed
    // when a waypoint exists: subsets resolve to the workloads behind a route's destination.
    const workloads: WorkloadInfo[] = waypointGateways.length === 0 ? [] : backingServices(pods, services).map(({ pod: p, services: backs }) => {
      const ns = p.metadata?.namespace ?? '';
      return { uid: podUid(o.clusterId, ns, p.metadata?.name ?? ''), namespace: ns, labels: p.metadata?.labels ?? {}, services: backs.map((s) => info(s).key) };
    });

    // Which waypoint each Service asks for (even one without an address yet: its config must be ready first).
    const boundTo = new Map<string, V1Service[]>();
    for (const s of services) {
      const b = bindWaypoint(s.metadata, namespaces.get(s.metadata?.namespace ?? ''), 'service', gatewayLookup, o.network);
      if (!b) continue;
      const k = `${b.ref.namespace}/${b.ref.name}`;
      boundTo.set(k, [...(boundTo.get(k) ?? []), s]);
    }

    const policies = this.#valid('AuthorizationPolicy').filter(targetsSomething);
    const jwt = this.#valid('RequestAuthentication');
    const limits = this.#valid('HTTPLocalRateLimitPolicy');
    const routeInputs = {
      domainSuffix: o.domainSuffix, services: lookup, workloads,
      httpRoutes: this.#valid('HTTPRoute'), grpcRoutes: this.#valid('GRPCRoute'), tcpRoutes: this.#valid('TCPRoute'),
      virtualServices: this.#valid('VirtualService'), destinationRules: this.#valid('DestinationRule'),
      // Not validated on their own: a malformed entry grants nothing (routes/reference-grant.ts).
      referenceGrants: this.#all<KubeObject>('ReferenceGrant'),
    };

    const configs = new Map<string, WaypointConfig>();
    const reference = new Map<string, ConfigVerdict>();
    const bypassInputs: Array<{ gateway: Gateway; services: V1Service[] }> = [];
    for (const gw of waypointGateways) {
      const ns = gw.metadata?.namespace ?? '';
      const name = gw.metadata?.name ?? '';
      const bound = boundTo.get(`${ns}/${name}`) ?? [];
      bypassInputs.push({ gateway: gw, services: bound });
      const boundInfos = bound.map(info);
      const compiled = compileRoutes({ ...routeInputs, bound: boundInfos });
      for (const v of compiled.verdicts) if (!v.accepted) reference.set(`${v.kind}/${v.namespace}/${v.name}`, v);
      const podLabels = { 'gateway.networking.k8s.io/gateway-name': name };
      const ctx = {
        rootNamespace: o.rootNamespace, trustDomain: o.trustDomain,
        waypoint: { namespace: ns, name, podLabels },
        boundServices: boundInfos.map((b) => ({ key: b.key, namespace: b.namespace, name: b.name })),
      };
      const routeIds = compiled.services.flatMap((l) => l.http.map((r) => r.id));
      configs.set(`${ns}/${name}`, {
        schema: WAYPOINT_CONFIG_SCHEMA, namespace: ns, name,
        services: compiled.services, destinations: compiled.destinations,
        authorization: waypointAuthorizations(policies, ctx),
        authentication: waypointJwtPolicies(jwt, ctx),
        rateLimits: waypointRateLimits(limits, {
          ...ctx, routeIdsOf: (rns: string, rname: string) => routeIds.filter((id) => id.startsWith(`HTTPRoute/${rns}/${rname}#`)),
        }),
      });
    }
    const verdicts: ConfigVerdict[] = [];
    for (const [k, v] of this.#validation) {
      if (v.kind === 'AuthorizationPolicy') {
        const obj = this.#inputs.get('AuthorizationPolicy')!.get(k.slice('AuthorizationPolicy/'.length));
        if (!obj || !targetsSomething(obj)) continue;
      }
      verdicts.push(v.accepted ? (reference.get(k) ?? v) : v);
    }
    return {
      configs, verdicts,
      bypass: bypassPolicies(bypassInputs, { trustDomain: o.trustDomain, namespaces: (n) => namespaces.get(n) }),
    };
  }
}

function sameLabels(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {});
  return ka.length === Object.keys(b ?? {}).length && ka.every((k) => a![k] === b?.[k]);
}

/** Each pod with the services (same namespace, non-empty selector) that select it. */
export function backingServices(pods: readonly V1Pod[], services: readonly V1Service[]): Array<{ pod: V1Pod; services: V1Service[] }> {
  const byLabel = new Map<string, V1Service[]>(); // `ns\0key\0value` of one selector entry → services
  const order = new Map(services.map((s, i) => [s, i]));
  for (const s of services) {
    const first = Object.entries(s.spec?.selector ?? {})[0];
    if (!first) continue;
    const k = `${s.metadata?.namespace ?? ''}\0${first[0]}\0${first[1]}`;
    const list = byLabel.get(k);
    if (list) list.push(s);
    else byLabel.set(k, [s]);
  }
  return pods.map((pod) => {
    const ns = pod.metadata?.namespace ?? '';
    const labels = pod.metadata?.labels ?? {};
    const backs: V1Service[] = [];
    for (const [k, v] of Object.entries(labels)) {
      for (const s of byLabel.get(`${ns}\0${k}\0${v}`) ?? []) if (selectsNonEmpty(s.spec?.selector, labels)) backs.push(s);
    }
    return { pod, services: backs.sort((a, b) => order.get(a)! - order.get(b)!) };
  });
}
