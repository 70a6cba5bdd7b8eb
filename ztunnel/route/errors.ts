// Error catalogue of the outbound decision. Errors are returned (not thrown) by decideOutbound: a bad
// destination is bad traffic, which the outbound listener logs and counts, never a crash.
import { MeshError } from '../../shared/errors.ts';

export class RouteError extends MeshError {}

/** The destination is a Service we know, but nothing can serve this connection. */
export class NoHealthyUpstreamError extends RouteError {
  constructor(message: string) {
    super('ZT_NO_HEALTHY_UPSTREAM', message);
  }
}

/** The destination has a waypoint we cannot resolve to an address. */
export class UnknownWaypointError extends RouteError {
  constructor(message: string) {
    super('ZT_UNKNOWN_WAYPOINT', message);
  }
}
