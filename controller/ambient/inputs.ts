// Input object shapes the derivations read: Kubernetes core kinds from client-node, and the few fields of the Istio and
// Gateway API CRDs that matter here (structural, so informer objects and test literals both fit).
import type { V1Namespace, V1Node, V1ObjectMeta, V1Pod, V1Service } from '@kubernetes/client-node';

export type { V1Namespace, V1Node, V1ObjectMeta, V1Pod, V1Service };

/** Derivation options: where the mesh runs and how it names things. */
export interface AmbientOptions {
  clusterId: string;
  trustDomain: string;
  network: string;
  /** Kubernetes cluster domain; default `cluster.local`. */
  domainSuffix?: string;
}

export interface ServiceEntryPort {
  number: number;
  name?: string;
  protocol?: string;
  targetPort?: number;
}

export interface WorkloadEntrySpec {
  address?: string;
  ports?: Record<string, number>;
  labels?: Record<string, string>;
  network?: string;
  locality?: string;
  weight?: number;
  serviceAccount?: string;
}

export interface ServiceEntry {
  metadata?: V1ObjectMeta;
  spec?: {
    hosts?: string[];
    addresses?: string[];
    ports?: ServiceEntryPort[];
    location?: 'MESH_EXTERNAL' | 'MESH_INTERNAL';
    resolution?: string;
    endpoints?: WorkloadEntrySpec[];
    workloadSelector?: { labels?: Record<string, string> };
    subjectAltNames?: string[];
    exportTo?: string[];
  };
}

export interface WorkloadEntry {
  metadata?: V1ObjectMeta;
  spec?: WorkloadEntrySpec;
}

export interface Gateway {
  metadata?: V1ObjectMeta;
  spec?: { gatewayClassName?: string; listeners?: unknown[] };
  status?: { addresses?: { type?: string; value: string }[] };
}
