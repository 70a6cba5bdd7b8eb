// Face of controller/waypoint/routes: the controller's compiler of L7 routing for waypoints. HTTPRoute, GRPCRoute,
// TCPRoute (Gateway API, GAMMA parentRefs to Services), VirtualService and DestinationRule objects become the
// `ServiceListener[]` and `DestinationPolicy[]` of one WaypointConfig (shared/waypoint/config.ts), with Istio's and
// Gateway API's documented semantics. Pure functions:
// - validateRouteObject(kind, o): the object's own verdict (`Invalid` / `UnsupportedValue` naming the field);
// - compileRoutes(inputs): one waypoint's listeners and destination policies, plus `BackendNotFound` verdicts for
//   objects whose references do not resolve and `RefNotPermitted` for Gateway API references to another namespace
//   that no ReferenceGrant allows (accepted: false, but their routes stay in the config: the unresolved share of
//   traffic fails at request time, as in Istio);
// - portProtocol(port): how a Service port is read (appProtocol, port name, else sniffed).
export { validateRouteObject } from './validate.ts';
export { compileRoutes, type CompiledRoutes } from './compile.ts';
export { portProtocol } from './protocol.ts';
export type { RouteInputs, ServiceInfo, ServiceLookup, ServicePortInfo, WorkloadInfo } from './types.ts';
