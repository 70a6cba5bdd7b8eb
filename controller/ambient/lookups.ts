// What a derivation may read besides its own input object (krt's `fetch`): every read goes through Lookups, so the
// index knows what to recompute and tests pass plain in-memory collections.
import type { V1Namespace, V1Node, V1Service } from '@kubernetes/client-node';
import type { AmbientOptions, Gateway, ServiceEntry } from './inputs.ts';
import type { GatewayLookup } from './waypoints.ts';

export interface Lookups {
  namespace(name: string): V1Namespace | undefined;
  node(name: string): V1Node | undefined;
  gateway: GatewayLookup;
  /** Kubernetes Services of one namespace. */
  services(namespace: string): Iterable<V1Service>;
  /** ServiceEntries of one namespace. */
  serviceEntries(namespace: string): Iterable<ServiceEntry>;
  /** Names (`<ns>/<name>`) of the selector-based authorization policies that apply to a workload. */
  policies(namespace: string, labels: Record<string, string>): string[];
  /** Told why a requested binding (e.g. a waypoint) could not be made; log-worthy, not fatal. */
  warn(subject: string, reason: string): void;
}

export interface ResolvedOptions {
  clusterId: string;
  trustDomain: string;
  network: string;
  domainSuffix: string;
}

export function resolveOptions(o: AmbientOptions): ResolvedOptions {
  return { clusterId: o.clusterId, trustDomain: o.trustDomain, network: o.network, domainSuffix: o.domainSuffix || 'cluster.local' };
}

/** Lookups over plain arrays: for tests and one-shot derivations. */
export function staticLookups(input: {
  namespaces?: V1Namespace[];
  nodes?: V1Node[];
  gateways?: Gateway[];
  services?: V1Service[];
  serviceEntries?: ServiceEntry[];
  policies?: (namespace: string, labels: Record<string, string>) => string[];
  warn?: (subject: string, reason: string) => void;
}): Lookups {
  return {
    namespace: (name) => input.namespaces?.find((n) => n.metadata?.name === name),
    node: (name) => input.nodes?.find((n) => n.metadata?.name === name),
    gateway: (ns, name) => input.gateways?.find((g) => g.metadata?.namespace === ns && g.metadata?.name === name),
    services: (ns) => (input.services ?? []).filter((s) => s.metadata?.namespace === ns),
    serviceEntries: (ns) => (input.serviceEntries ?? []).filter((s) => s.metadata?.namespace === ns),
    policies: input.policies ?? (() => []),
    warn: input.warn ?? (() => {}),
  };
}
