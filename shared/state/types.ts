// The read-only view of the xDS state (workloads, services, authorizations) that the proxies' pure decisions
// consume, and the branded value types it is keyed by. XdsState (store.ts) implements StateView.
import type { Authorization, Service, Workload } from '../proto/types.ts';

export type { Authorization, Service, Workload };

export type { SpiffeId, ServiceAccountRef } from '../spiffe.ts';
/** An IP literal in text form (`10.244.1.5`, `fd00::5`), as Node's sockets report it. */
export type IpText = string & { readonly __brand: 'IpText' };
/** `<namespace>/<hostname>`: the xDS name of a Service and the key of Workload.services. */
export type ServiceKey = string & { readonly __brand: 'ServiceKey' };
/** `<namespace>/<name>`: the xDS name of an Authorization. */
export type PolicyKey = string & { readonly __brand: 'PolicyKey' };

/** One endpoint of a Service: the workload and the port it serves the Service port on. */
export interface Endpoint {
  workload: Workload;
  /** Target port for the requested service port (Workload.services[key].ports[].targetPort, else the service port). */
  port: number;
}

/** Read-only view of the last good xDS state (workloads, services, authorizations). */
export interface StateView {
  workloadByUid(uid: string): Workload | undefined;
  /** The workload owning this IP (network '' only; multi-network is out of scope). */
  workloadByIp(ip: IpText): Workload | undefined;
  /** The Service with this VIP. */
  serviceByVip(ip: IpText): Service | undefined;
  /** By `namespace/hostname`. */
  serviceByKey(key: ServiceKey): Service | undefined;
  /** By hostname alone (FQDN, e.g. `echo.demo.svc.cluster.local` or a ServiceEntry host); first match. */
  serviceByHostname(hostname: string): Service | undefined;
  /** Workloads that list this service in their `services` map, with the target port for `servicePort`. */
  endpointsOf(key: ServiceKey, servicePort: number): Endpoint[];
  policy(key: PolicyKey): Authorization | undefined;
  /** Authorizations that apply to a workload: GLOBAL ones (root namespace), NAMESPACE ones of its namespace, and
   *  the WORKLOAD_SELECTOR ones it lists in `authorizationPolicies`. */
  policiesFor(w: Workload): Authorization[];
  /** Workloads whose `node` is this node. */
  workloadsOnNode(node: string): Workload[];
  allWorkloads(): Iterable<Workload>;
  allServices(): Iterable<Service>;
  allPolicies(): Iterable<Authorization>;
}
