// Face of controller/ambient: pure derivations of the ambient mesh state (enrolment, Workloads, Services, waypoint
// binding) from Kubernetes and Istio objects, and the incremental AmbientIndex that projects istio.workload Addresses.
export type {
  Address,
  GatewayAddress,
  LoadBalancing,
  Locality,
  NetworkAddress,
  Port,
  PortList,
  Service,
  Workload,
} from './address-types.ts';
export type { AmbientOptions, Gateway, ServiceEntry, ServiceEntryPort, WorkloadEntry, WorkloadEntrySpec } from './inputs.ts';
export type { Lookups, ResolvedOptions } from './lookups.ts';
export { resolveOptions, staticLookups } from './lookups.ts';
export type { CaptureDecision, CaptureReason } from '../../shared/ambient/enrolment.ts';
export { captureDecision, podHasWorkload, podIPs, podReady } from '../../shared/ambient/enrolment.ts';
export { canonicalService, selectsNonEmpty, workloadName } from './labels.ts';
export { hostAddressToBytes, ipToBytes } from './ip.ts';
export type { GatewayLookup, TrafficType, WaypointBinding, WaypointRef } from './waypoints.ts';
export { bindWaypoint, waypointAccepts, waypointAddress, waypointRef } from './waypoints.ts';
export {
  ipFamiliesFor,
  loadBalancingFor,
  serviceEntryPorts,
  serviceFromKube,
  serviceHostname,
  serviceResourceName,
  servicesFromServiceEntry,
} from './services.ts';
export {
  nodeLocality,
  podServices,
  podUid,
  serviceEntryEndpointUid,
  workloadEntryUid,
  workloadFromPod,
  workloadFromWorkloadEntry,
  workloadsFromServiceEntry,
} from './workloads.ts';
export { fingerprint } from './fingerprint.ts';
export type { AmbientIndexOptions, InputKind } from './ambient-index.ts';
export { AmbientIndex, inputKey } from './ambient-index.ts';
export { validateServiceEntry, validateWorkloadEntry, type Verdict } from './validate.ts';
