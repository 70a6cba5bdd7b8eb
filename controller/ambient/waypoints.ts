// Waypoint binding: which waypoint (a Gateway of class istio-waypoint) a Service or Workload sends its traffic
// through, and the GatewayAddress ztunnel is told to use for it.
import type { V1Namespace, V1ObjectMeta } from '@kubernetes/client-node';
import type { GatewayAddress } from './address-types.ts';
import type { Gateway } from './inputs.ts';
import { ipToBytes } from './ip.ts';
import { GATEWAY_NAME, HBONE_PORT, USE_WAYPOINT, USE_WAYPOINT_NAMESPACE, WAYPOINT_CLASS, WAYPOINT_FOR } from './labels.ts';

/** What is asking for a waypoint: Services bind to `service`/`all` waypoints, Workloads to `workload`/`all`. */
export type TrafficType = 'service' | 'workload';

export interface WaypointRef {
  namespace: string;
  name: string;
}

/** `undefined`: no waypoint requested (or opted out with `none`). Otherwise the ref, and an address or a reason. */
export type WaypointBinding =
  | { ref: WaypointRef; address: GatewayAddress; reason?: undefined }
  | { ref: WaypointRef; address?: undefined; reason: string };

export type GatewayLookup = (namespace: string, name: string) => Gateway | undefined;

/**
 * The waypoint an object asks for: its own `istio.io/use-waypoint` label wins over its namespace's; `none` opts out.
 * The waypoint's namespace comes from the same object's `istio.io/use-waypoint-namespace`, else that object's namespace.
 */
export function waypointRef(meta: V1ObjectMeta | undefined, namespace: V1Namespace | undefined): WaypointRef | undefined {
  const own = meta?.labels?.[USE_WAYPOINT];
  if (own !== undefined) {
    if (own === '' || own === 'none') return undefined;
    return { name: own, namespace: meta?.labels?.[USE_WAYPOINT_NAMESPACE] || meta?.namespace || '' };
  }
  const nsLabel = namespace?.metadata?.labels?.[USE_WAYPOINT];
  if (nsLabel === undefined || nsLabel === '' || nsLabel === 'none') return undefined;
  return {
    name: nsLabel,
    namespace: namespace?.metadata?.labels?.[USE_WAYPOINT_NAMESPACE] || namespace?.metadata?.name || meta?.namespace || '',
  };
}

/** Whether a waypoint Gateway accepts traffic of this type (`istio.io/waypoint-for`, default `service`). */
export function waypointAccepts(gateway: Gateway, traffic: TrafficType): boolean {
  const forLabel = gateway.metadata?.labels?.[WAYPOINT_FOR] ?? 'service';
  if (forLabel === 'all') return true;
  if (forLabel === 'none') return false;
  if (forLabel === 'workload') return traffic === 'workload';
  return traffic === 'service';
}

/** The address ztunnel reaches a waypoint at: its first status address (IP, else hostname) on the HBONE port. */
export function waypointAddress(gateway: Gateway, network: string): GatewayAddress | undefined {
  const first = gateway.status?.addresses?.[0]?.value;
  if (!first) return undefined;
  const ip = ipToBytes(first);
  if (ip) return { address: { network, address: ip }, hboneMtlsPort: HBONE_PORT };
  return { hostname: { namespace: gateway.metadata?.namespace ?? '', hostname: first }, hboneMtlsPort: HBONE_PORT };
}

/** True when the object is itself a pod of a waypoint: waypoints never route through a waypoint. */
export function isWaypointInstance(meta: V1ObjectMeta | undefined, lookup: GatewayLookup): boolean {
  const gwName = meta?.labels?.[GATEWAY_NAME];
  if (!gwName) return false;
  return lookup(meta?.namespace ?? '', gwName)?.spec?.gatewayClassName === WAYPOINT_CLASS;
}

/** Resolve the binding of a Service's or Workload's metadata to a waypoint. */
export function bindWaypoint(
  meta: V1ObjectMeta | undefined,
  namespace: V1Namespace | undefined,
  traffic: TrafficType,
  lookup: GatewayLookup,
  network: string,
): WaypointBinding | undefined {
  // A waypoint's own pods and Service never go through a waypoint (not even through itself).
  if (isWaypointInstance(meta, lookup)) return undefined;
  const ref = waypointRef(meta, namespace);
  if (!ref) return undefined;
  const where = `${ref.namespace}/${ref.name}`;
  const gateway = lookup(ref.namespace, ref.name);
  if (!gateway) return { ref, reason: `waypoint ${where} not found` };
  if (gateway.spec?.gatewayClassName !== WAYPOINT_CLASS) {
    return { ref, reason: `gateway ${where} is not a waypoint (class ${gateway.spec?.gatewayClassName ?? 'unset'}, want ${WAYPOINT_CLASS})` };
  }
  if (!waypointAccepts(gateway, traffic)) {
    return { ref, reason: `waypoint ${where} does not accept ${traffic} traffic (istio.io/waypoint-for=${gateway.metadata?.labels?.[WAYPOINT_FOR] ?? 'service'})` };
  }
  const address = waypointAddress(gateway, network);
  if (!address) return { ref, reason: `waypoint ${where} has no address in its status yet` };
  return { ref, address };
}
