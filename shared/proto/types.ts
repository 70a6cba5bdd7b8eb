// TS shapes of the mesh's proto messages (workload.proto, authorization.proto, discovery.proto), as
// protobufjs presents them: lowerCamelCase fields, bytes as Uint8Array/Buffer (IPs are raw 4/16-byte
// network order), enums as their string names, a oneof as only its set member. Absent = proto default.

// ---- istio.workload ----

export type TunnelProtocol = 'NONE' | 'HBONE';
export type WorkloadStatus = 'HEALTHY' | 'UNHEALTHY';
export type WorkloadType = 'DEPLOYMENT' | 'CRONJOB' | 'POD' | 'JOB';
export type NetworkMode = 'STANDARD' | 'HOST_NETWORK';
export type IPFamilies = 'AUTOMATIC' | 'IPV4_ONLY' | 'IPV6_ONLY' | 'DUAL';
export type LoadBalancingScope = 'UNSPECIFIED_SCOPE' | 'REGION' | 'ZONE' | 'SUBZONE' | 'NODE' | 'CLUSTER' | 'NETWORK';
export type LoadBalancingMode = 'UNSPECIFIED_MODE' | 'STRICT' | 'FAILOVER' | 'PASSTHROUGH';
export type LoadBalancingHealthPolicy = 'ONLY_HEALTHY' | 'ALLOW_ALL';
export type DnsConnectStrategy = 'DEFAULT' | 'FIRST_HEALTHY_RACE';
export type ApplicationTunnelProtocol = 'NONE' | 'PROXY';

/** The resource under type.googleapis.com/istio.workload.Address: exactly one member is set. */
export type Address = { workload: Workload; service?: undefined } | { service: Service; workload?: undefined };

export interface NetworkAddress {
  network?: string;
  /** Raw IP bytes (4 or 16). */
  address: Uint8Array;
}

export interface NamespacedHostname {
  namespace: string;
  hostname: string;
}

/** oneof destination: hostname | address; plus the HBONE port (15008). */
export interface GatewayAddress {
  hostname?: NamespacedHostname;
  address?: NetworkAddress;
  hboneMtlsPort?: number;
}

export interface Port {
  servicePort: number;
  targetPort?: number;
}

export interface PortList {
  ports: Port[];
}

export interface LoadBalancing {
  routingPreference?: LoadBalancingScope[];
  mode?: LoadBalancingMode;
  healthPolicy?: LoadBalancingHealthPolicy;
  dnsConnectStrategy?: DnsConnectStrategy;
}

export interface Locality {
  region?: string;
  zone?: string;
  subzone?: string;
}

export interface ApplicationTunnel {
  protocol?: ApplicationTunnelProtocol;
  port?: number;
}

export interface Extension {
  name: string;
  config?: { typeUrl: string; value: Uint8Array };
}

export interface Service {
  name: string;
  namespace: string;
  hostname: string;
  addresses?: NetworkAddress[];
  ports?: Port[];
  subjectAltNames?: string[];
  waypoint?: GatewayAddress;
  loadBalancing?: LoadBalancing;
  ipFamilies?: IPFamilies;
  extensions?: Extension[];
  canonical?: boolean;
}

export interface Workload {
  uid: string;
  name?: string;
  namespace?: string;
  /** Raw IP bytes (4 or 16). */
  addresses?: Uint8Array[];
  hostname?: string;
  network?: string;
  tunnelProtocol?: TunnelProtocol;
  trustDomain?: string;
  serviceAccount?: string;
  waypoint?: GatewayAddress;
  networkGateway?: GatewayAddress;
  node?: string;
  canonicalName?: string;
  canonicalRevision?: string;
  workloadType?: WorkloadType;
  workloadName?: string;
  nativeTunnel?: boolean;
  applicationTunnel?: ApplicationTunnel;
  /** Key: `namespace/hostname` of a Service this workload backs. */
  services?: Record<string, PortList>;
  /** Selector-based policies that apply, as `namespace/name`. */
  authorizationPolicies?: string[];
  status?: WorkloadStatus;
  clusterId?: string;
  locality?: Locality;
  networkMode?: NetworkMode;
  extensions?: Extension[];
  /** google.protobuf.UInt32Value */
  capacity?: { value: number };
}

// ---- istio.security ----

export type AuthorizationScope = 'GLOBAL' | 'NAMESPACE' | 'WORKLOAD_SELECTOR';
export type AuthorizationAction = 'ALLOW' | 'DENY';

/** oneof match_type: exactly one of these. `presence` is google.protobuf.Empty ({}). */
export type StringMatch = { exact: string } | { prefix: string } | { suffix: string } | { presence: Record<string, never> };

/** A CIDR: raw IP bytes + prefix length. */
export interface CidrAddress {
  address: Uint8Array;
  length: number;
}

export interface Match {
  namespaces?: StringMatch[];
  notNamespaces?: StringMatch[];
  principals?: StringMatch[];
  notPrincipals?: StringMatch[];
  sourceIps?: CidrAddress[];
  notSourceIps?: CidrAddress[];
  destinationIps?: CidrAddress[];
  notDestinationIps?: CidrAddress[];
  destinationPorts?: number[];
  notDestinationPorts?: number[];
}

/** Matches are OR-ed. */
export interface Clause {
  matches?: Match[];
}

/** Clauses are AND-ed. */
export interface Rule {
  clauses?: Clause[];
}

/** The resource under type.googleapis.com/istio.security.Authorization; xDS name `namespace/name`. */
export interface Authorization {
  name: string;
  namespace: string;
  scope?: AuthorizationScope;
  action?: AuthorizationAction;
  /** Rules are OR-ed. */
  rules?: Rule[];
}

// ---- envoy.service.discovery.v3 (delta ADS) ----

export interface Node {
  id?: string;
  cluster?: string;
  metadata?: unknown;
  locality?: { region?: string; zone?: string; subZone?: string };
  userAgentName?: string;
}

export interface RpcStatus {
  code?: number;
  message?: string;
  details?: Array<{ typeUrl: string; value: Uint8Array }>;
}

export interface DeltaDiscoveryRequest {
  node?: Node;
  typeUrl: string;
  resourceNamesSubscribe: string[];
  resourceNamesUnsubscribe: string[];
  initialResourceVersions: Record<string, string>;
  responseNonce: string;
  errorDetail?: RpcStatus;
}

export interface DeltaResource {
  name: string;
  version: string;
  resource?: { typeUrl: string; value: Uint8Array };
  aliases?: string[];
}

export interface DeltaDiscoveryResponse {
  systemVersionInfo?: string;
  typeUrl: string;
  nonce: string;
  resources: DeltaResource[];
  removedResources: string[];
}
