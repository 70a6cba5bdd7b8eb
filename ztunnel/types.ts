// Contracts shared by ztunnel's folders: the xDS state view and value types, which live in shared/state/ because the
// waypoint reads the same state.
export type {
  Authorization, Endpoint, IpText, PolicyKey, ServiceAccountRef, ServiceKey, Service, SpiffeId, StateView, Workload,
} from '../shared/state/types.ts';
