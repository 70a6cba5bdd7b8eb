// Owns the per-object verdict on route kinds, independent of any waypoint: the parsers are the validators (what they
// read is what they check), so a verdict and what compiles can never disagree. References to other objects
// (backends, subsets) are judged at compile time instead, where the waypoint's services are known.

import { type ConfigVerdict, type KubeObject, accepted, rejected } from '../verdict.ts';
import { parseDestinationRule } from './destination-rule.ts';
import { parseGatewayRoute } from './gateway-api.ts';
import type { RouteKind } from './model.ts';
import { RouteConfigError } from './spec.ts';
import { parseVirtualService } from './virtual-service.ts';

export function validateRouteObject(kind: RouteKind, o: KubeObject): ConfigVerdict {
  try {
    if (kind === 'VirtualService') parseVirtualService(o);
    else if (kind === 'DestinationRule') parseDestinationRule(o);
    else parseGatewayRoute(kind, o);
    return accepted(kind, o);
  } catch (err) {
    if (err instanceof RouteConfigError) return rejected(kind, o, err.reason, err.message);
    throw err;
  }
}
