// The outbound decision, pure: (source workload, original destination, state) → where the connection goes.
// Mirrors istio/ztunnel's OutboundConnection::build_request + ProxyState::find_upstream (src/proxy/outbound.rs,
// src/state.rs), minus multi-network (E/W gateways), locality-aware load balancing and capacity weights.
//
// Order of decisions:
//  1. dst is a Service VIP
//     a. the Service has a waypoint, and the source is not that waypoint → HBONE to the waypoint, inner target
//        the original VIP:port (the waypoint picks the endpoint);
//     b. loadBalancing.mode PASSTHROUGH → passthrough to the original destination;
//     c. otherwise pick an endpoint (below) → HBONE to its node proxy (ip:15008) or plaintext direct. A Service
//        that is addressed directly never uses its endpoints' workload waypoints (ztunnel: "don't traverse
//        waypoint if traffic was addressed to a service").
//  2. dst is a workload IP → its waypoint (unless the source is it), else HBONE/direct to dst unchanged.
//  3. anything else → passthrough.
import { ipString } from '../../shared/proto/ip.ts';
import { HBONE_PORT } from '../../shared/ambient/keys.ts';
import type { IpText, Service, ServiceKey, SpiffeId, StateView, Workload } from '../types.ts';
import type { GatewayAddress } from '../../shared/proto/types.ts';
import { NoHealthyUpstreamError, UnknownWaypointError, type RouteError } from './errors.ts';
import { workloadIdentity } from '../../shared/state/identity.ts';

export interface HostPort {
  ip: IpText;
  port: number;
}

/** Tunnel the connection over HBONE: TCP (mTLS) to `hbone`, CONNECT to `upstream`. */
export interface HboneRoute {
  kind: 'hbone';
  /** The CONNECT target (`:authority`): the endpoint's ip:targetPort, or the original VIP:port via a waypoint. */
  upstream: HostPort;
  /** The TCP next hop: the destination's node proxy (endpoint ip:15008) or the waypoint. */
  hbone: HostPort;
  /** The destination workload (for a waypoint hop: the pod-IP destination, absent for a Service). */
  workload?: Workload;
  /** The Service the client addressed, if any. */
  service?: Service;
  /** The identity the next hop (the destination workload, or the waypoint) must present. */
  identity: SpiffeId;
  /** Set when `hbone` is a waypoint rather than the destination's node proxy. */
  viaWaypoint?: true;
}

/** Plaintext TCP straight to the chosen endpoint (a destination outside the mesh's HBONE). */
export interface DirectRoute {
  kind: 'direct';
  upstream: HostPort;
  workload: Workload;
  service?: Service;
}

/** Not a destination the mesh knows: connect to the original destination unchanged. */
export interface PassthroughRoute {
  kind: 'passthrough';
  upstream: HostPort;
}

export type OutboundRoute = HboneRoute | DirectRoute | PassthroughRoute;

export type RouteView = Pick<StateView, 'workloadByIp' | 'serviceByVip' | 'endpointsOf' | 'serviceByKey'>;

export interface RouteOptions {
  /** Trust domain for workloads that do not carry one (default cluster.local). */
  trustDomain?: string;
  /** Chooses an index in [0, n) among the candidate endpoints; default uniform random. */
  pick?: (n: number) => number;
}

const randomPick = (n: number): number => Math.floor(Math.random() * n);

export function serviceKey(s: Service): ServiceKey {
  return `${s.namespace}/${s.hostname}` as ServiceKey;
}

function isV6(ip: string): boolean {
  return ip.includes(':');
}

/** The workload's address to dial: the same family as the original destination when it has one. */
function workloadIp(w: Workload, like: IpText): IpText | undefined {
  const ips = (w.addresses ?? []).filter((b) => b.length === 4 || b.length === 16).map((b) => ipString(b) as IpText);
  return ips.find((ip) => isV6(ip) === isV6(like)) ?? ips[0];
}

/**
 * The waypoint's address. A GatewayAddress names it by IP (usually the waypoint Service's VIP) or by
 * namespace/hostname of its Service; undefined means "no waypoint", an error means one we cannot resolve.
 */
function waypointAddress(wp: GatewayAddress | undefined, view: RouteView, like: IpText): HostPort | RouteError | undefined {
  if (!wp) return undefined;
  const port = wp.hboneMtlsPort || HBONE_PORT;
  if (wp.address?.address && wp.address.address.length > 0) return { ip: ipString(wp.address.address) as IpText, port };
  if (wp.hostname) {
    const svc = view.serviceByKey(`${wp.hostname.namespace}/${wp.hostname.hostname}` as ServiceKey);
    const ips = (svc?.addresses ?? []).map((a) => ipString(a.address) as IpText);
    const ip = ips.find((i) => isV6(i) === isV6(like)) ?? ips[0];
    if (ip) return { ip, port };
    return new UnknownWaypointError(
      `waypoint ${wp.hostname.namespace}/${wp.hostname.hostname} has no address in the mesh state; check that the waypoint Service exists and has a cluster ip`,
    );
  }
  return undefined;
}

/** Whether `src` is the waypoint at `wp` (the waypoint pod itself, or a backend of the waypoint Service). */
function isWaypoint(src: Workload | undefined, wp: HostPort, view: RouteView): boolean {
  if (!src) return false;
  if ((src.addresses ?? []).some((b) => (b.length === 4 || b.length === 16) && ipString(b) === wp.ip)) return true;
  const wpSvc = view.serviceByVip(wp.ip);
  return wpSvc !== undefined && src.services?.[serviceKey(wpSvc)] !== undefined;
}

/**
 * The identity the waypoint must present: its pod's, or the one shared by the (healthy) backends of the
 * waypoint Service. ztunnel also fails when it cannot resolve the waypoint to a workload ("unable to determine
 * waypoint upstream"), rather than tunnelling to a peer it cannot verify.
 */
function waypointIdentity(wp: HostPort, view: RouteView, trustDomain: string | undefined): SpiffeId | RouteError {
  const pod = view.workloadByIp(wp.ip);
  if (pod) return workloadIdentity(pod, trustDomain);
  const svc = view.serviceByVip(wp.ip);
  if (!svc) {
    return new UnknownWaypointError(`waypoint ${wp.ip} is neither a workload nor a service in the mesh state; check that the waypoint is deployed`);
  }
  const ids = new Set(view.endpointsOf(serviceKey(svc), wp.port)
    .filter((e) => e.workload.status !== 'UNHEALTHY')
    .map((e) => workloadIdentity(e.workload, trustDomain)));
  const [only] = ids;
  if (ids.size === 1 && only) return only;
  return new UnknownWaypointError(ids.size === 0
    ? `waypoint ${svc.hostname} (${wp.ip}) has no healthy endpoints; check that the waypoint deployment in ${svc.namespace} is ready`
    : `waypoint ${svc.hostname} (${wp.ip}) has endpoints with different identities (${[...ids].join(', ')}); run the waypoint under one service account`);
}

function toWorkload(w: Workload, upstream: HostPort, service: Service | undefined, td: string | undefined): OutboundRoute {
  if (w.tunnelProtocol === 'HBONE') {
    return {
      kind: 'hbone', upstream, hbone: { ip: upstream.ip, port: HBONE_PORT }, workload: w,
      ...(service ? { service } : {}), identity: workloadIdentity(w, td),
    };
  }
  return { kind: 'direct', upstream, workload: w, ...(service ? { service } : {}) };
}

function viaWaypoint(
  wp: HostPort, dst: HostPort, view: RouteView, td: string | undefined, dest: { service?: Service; workload?: Workload },
): HboneRoute | RouteError {
  const identity = waypointIdentity(wp, view, td);
  if (identity instanceof Error) return identity;
  return { kind: 'hbone', viaWaypoint: true, hbone: wp, upstream: dst, ...dest, identity };
}

/**
 * Port rule (ztunnel state.rs, ServiceResolutionMode::Standard + find_upstream_from_service):
 * - the Service must declare the requested port; if it does not, there is no upstream, and since the traffic
 *   was addressed to a (non-PASSTHROUGH) Service this is ZT_NO_HEALTHY_UPSTREAM, not passthrough;
 * - the target port is the endpoint's own mapping (Workload.services[key].ports) if non-zero, else the
 *   Service's targetPort if non-zero; an endpoint with neither (a named targetPort the workload does not
 *   resolve) is skipped.
 * Endpoint.port from the store is not used, because its fallback (the service port) would dial an endpoint
 * ztunnel skips.
 */
function endpointPort(w: Workload, key: ServiceKey, servicePort: number, svcTarget: number): number | undefined {
  const own = w.services?.[key]?.ports?.find((p) => p.servicePort === servicePort)?.targetPort;
  if (own) return own;
  return svcTarget || undefined;
}

function toService(
  svc: Service, dst: HostPort, view: RouteView, opts: RouteOptions,
): OutboundRoute | RouteError {
  const key = serviceKey(svc);
  const declared = (svc.ports ?? []).find((p) => p.servicePort === dst.port);
  if (!declared) {
    const ports = (svc.ports ?? []).map((p) => p.servicePort).join(', ') || 'none';
    return new NoHealthyUpstreamError(
      `service ${svc.hostname} (${dst.ip}:${dst.port}) does not declare port ${dst.port} (its ports: ${ports}); connect to a declared port or add it to the service`,
    );
  }
  const allowUnhealthy = svc.loadBalancing?.healthPolicy === 'ALLOW_ALL';
  const candidates: Array<{ w: Workload; upstream: HostPort }> = [];
  for (const ep of view.endpointsOf(key, dst.port)) {
    if (ep.workload.status === 'UNHEALTHY' && !allowUnhealthy) continue;
    const port = endpointPort(ep.workload, key, dst.port, declared.targetPort ?? 0);
    const ip = workloadIp(ep.workload, dst.ip);
    if (port === undefined || ip === undefined) continue;
    candidates.push({ w: ep.workload, upstream: { ip, port } });
  }
  if (candidates.length === 0) {
    return new NoHealthyUpstreamError(
      `service ${svc.hostname} (${dst.ip}:${dst.port}) has no healthy endpoints; check that its pods are ready and ` +
      `selected by the service (kubectl get endpointslices -n ${svc.namespace}) and that they serve port ${dst.port}`,
    );
  }
  const n = candidates.length;
  const i = (((opts.pick ?? randomPick)(n) % n) + n) % n;
  const chosen = candidates[i]!;
  return toWorkload(chosen.w, chosen.upstream, svc, opts.trustDomain);
}

/** Decide where an outbound connection from `src` to `dst` goes. Never throws for bad traffic: returns a RouteError. */
export function decideOutbound(
  src: Workload | undefined, dst: { ip: IpText; port: number }, view: RouteView, opts: RouteOptions = {},
): OutboundRoute | RouteError {
  const target: HostPort = { ip: dst.ip, port: dst.port };
  const svc = view.serviceByVip(dst.ip);
  if (svc) {
    const wp = waypointAddress(svc.waypoint, view, dst.ip);
    if (wp instanceof Error) return wp;
    if (wp && !isWaypoint(src, wp, view)) return viaWaypoint(wp, target, view, opts.trustDomain, { service: svc });
    if (svc.loadBalancing?.mode === 'PASSTHROUGH') return { kind: 'passthrough', upstream: target };
    return toService(svc, target, view, opts);
  }
  const w = view.workloadByIp(dst.ip);
  if (w) {
    const wp = waypointAddress(w.waypoint, view, dst.ip);
    if (wp instanceof Error) return wp;
    if (wp && !isWaypoint(src, wp, view)) return viaWaypoint(wp, target, view, opts.trustDomain, { workload: w });
    return toWorkload(w, target, undefined, opts.trustDomain);
  }
  return { kind: 'passthrough', upstream: target };
}
