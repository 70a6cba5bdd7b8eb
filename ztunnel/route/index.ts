// ztunnel/route: the outbound decision (pure) — which upstream, over HBONE or plaintext, via a waypoint or not —
// and the SPIFFE identity a destination workload must present.
export {
  decideOutbound, serviceKey,
  type DirectRoute, type HboneRoute, type HostPort, type OutboundRoute, type PassthroughRoute, type RouteOptions, type RouteView,
} from './decide.ts';
export { workloadIdentity, DEFAULT_SERVICE_ACCOUNT, DEFAULT_TRUST_DOMAIN } from '../../shared/state/identity.ts';
export { NoHealthyUpstreamError, RouteError, UnknownWaypointError } from './errors.ts';
