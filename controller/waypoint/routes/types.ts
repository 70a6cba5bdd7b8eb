// Owns the inputs of the route compiler: the Services and workloads it resolves references against, and the route
// objects themselves (plain Kubernetes JSON; only objects validateRouteObject accepted should be passed), and the
// ReferenceGrants that let Gateway API routes refer to Services in other namespaces.

import type { KubeObject } from '../verdict.ts';

export interface ServicePortInfo {
  port: number;
  name?: string;
  appProtocol?: string;
  targetPort?: number;
}

export interface ServiceInfo {
  /** `<namespace>/<hostname>`, the service's key in the waypoint config. */
  key: string;
  namespace: string;
  name: string;
  /** `<name>.<namespace>.svc.<domainSuffix>`. */
  hostname: string;
  ports: ServicePortInfo[];
}

export interface ServiceLookup {
  byName(namespace: string, name: string): ServiceInfo | undefined;
  byHost(hostname: string): ServiceInfo | undefined;
}

export interface WorkloadInfo {
  uid: string;
  namespace: string;
  labels: Record<string, string>;
  /** Keys of the services this workload backs (subset resolution looks only at these). */
  services: string[];
}

export interface RouteInputs {
  /** e.g. `cluster.local`. */
  domainSuffix: string;
  /** Services bound to THIS waypoint. */
  bound: ServiceInfo[];
  /** Every known service (backends, VirtualService hosts, DestinationRule hosts). */
  services: ServiceLookup;
  workloads: WorkloadInfo[];
  httpRoutes: KubeObject[];
  grpcRoutes: KubeObject[];
  tcpRoutes: KubeObject[];
  virtualServices: KubeObject[];
  destinationRules: KubeObject[];
  /** Every ReferenceGrant (gateway.networking.k8s.io): which cross-namespace backendRefs of Gateway API routes are allowed. */
  referenceGrants: KubeObject[];
}
