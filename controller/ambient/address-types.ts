// The istio.workload shapes this folder produces: the project's proto types (shared/proto), narrowed so that
// every field a derivation always sets is required — consumers need no `?.` on what is always there.
import type * as proto from '../../shared/proto/index.ts';

export type {
  GatewayAddress,
  IPFamilies,
  LoadBalancing,
  LoadBalancingMode,
  LoadBalancingScope,
  Locality,
  NamespacedHostname,
  NetworkAddress,
  NetworkMode,
  Port,
  PortList,
  TunnelProtocol,
  WorkloadStatus,
  WorkloadType,
} from '../../shared/proto/index.ts';

export type Workload = proto.Workload &
  Required<
    Pick<
      proto.Workload,
      | 'name'
      | 'namespace'
      | 'addresses'
      | 'hostname'
      | 'network'
      | 'tunnelProtocol'
      | 'trustDomain'
      | 'serviceAccount'
      | 'node'
      | 'canonicalName'
      | 'canonicalRevision'
      | 'workloadType'
      | 'workloadName'
      | 'services'
      | 'authorizationPolicies'
      | 'status'
      | 'clusterId'
    >
  >;

export type Service = proto.Service & Required<Pick<proto.Service, 'addresses' | 'ports' | 'subjectAltNames'>>;

/** oneof type: exactly one member is set. Assignable to the proto Address. */
export type Address = { workload: Workload; service?: undefined } | { service: Service; workload?: undefined };
