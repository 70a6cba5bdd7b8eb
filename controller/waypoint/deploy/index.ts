// Waypoint deployment management: Gateways of class istio-waypoint become a ServiceAccount, Deployment and Service
// (render.ts, pure), the Gateway's and the GatewayClass's status (status.ts, pure), kept in the cluster by the
// leader (reconcile.ts, fed by the controller's informers).
//
// Wiring (controller.ts): add waypointWatchedKinds(kc) to the informers, forward the WAYPOINT_EVENT_KINDS events, and
// pass the informers' `synced` so nothing is written from a half-listed cache:
//   let toWaypoints = (_k: string, _t: EventType, _o: KubernetesObject): void => {};
//   const watches = startWatches(kc, [...meshKinds(kc), ...waypointWatchedKinds(kc)], (k, t, obj) => {
//     pipeline.event(k, t, obj);
//     if (WAYPOINT_EVENT_KINDS.includes(k)) toWaypoints(k, t, obj);
//   }, log);
//   const waypoints = startWaypointReconciler({ kubeconfig: kc, render, isLeader: () => election.isLeader(), log, synced: watches.synced });
//   toWaypoints = (k, t, obj) => waypoints.event(k, t, obj);
export {
  renderWaypoint, checkWaypointListeners, renderHash, portName,
  WAYPOINT_CLASS, WAYPOINT_CONTROLLER, MANAGED_LABEL, MANAGED_VALUE, RENDER_HASH,
  type WaypointGateway, type WaypointRenderOptions, type RenderedWaypoint, type WaypointVerdict, type GatewayStatus,
} from './render.ts';
export { waypointStatus, sameStatus, gatewayClassStatus, type Observed } from './status.ts';
export {
  startWaypointReconciler, waypointWatchedKinds, WAYPOINT_EVENT_KINDS,
  type WaypointReconciler, type WaypointReconcilerOptions,
} from './reconcile.ts';
