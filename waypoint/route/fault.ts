// Fault injection decisions (VirtualService `fault`, Envoy's fault filter): whether this request is delayed and/or
// aborted. Pure: the caller draws `rand` in [0,100) once per decision (Envoy draws delay and abort independently).
import type { Fault } from '../../shared/waypoint/config.ts';

/** Delay to inject before forwarding, 0 for none. Percentages may be fractional (Istio `percentage.value`). */
export function faultDelayMs(f: Fault | undefined, rand: number): number {
  const d = f?.delay;
  if (!d || !(d.ms > 0) || !(rand < d.percent)) return 0;
  return d.ms;
}

/**
 * The abort to answer with instead of forwarding, if this request is picked. A gRPC abort is answered as gRPC does
 * (HTTP 200 with `grpc-status` in a trailers-only response); an HTTP abort with its status.
 */
export function faultAbort(f: Fault | undefined, rand: number): { httpStatus?: number; grpcStatus?: number } | undefined {
  const a = f?.abort;
  if (!a || !(rand < a.percent)) return undefined;
  if (a.grpcStatus !== undefined) return { grpcStatus: a.grpcStatus };
  if (a.httpStatus !== undefined) return { httpStatus: a.httpStatus };
  return undefined;
}
