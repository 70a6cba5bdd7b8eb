// Test fixtures for controller/waypoint/routes: services, a lookup over them, Kubernetes objects (from JS or from
// YAML documents, so Istio's task manifests can be pasted verbatim) and RouteInputs with everything else empty.

import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../verdict.ts';
import type { RouteInputs, ServiceInfo, ServiceLookup, ServicePortInfo, WorkloadInfo } from './types.ts';

export const SUFFIX = 'cluster.local';

export function svc(namespace: string, name: string, ports: ServicePortInfo[] = [{ port: 9080, name: 'http' }]): ServiceInfo {
  const hostname = `${name}.${namespace}.svc.${SUFFIX}`;
  return { key: `${namespace}/${hostname}`, namespace, name, hostname, ports };
}

export function lookup(all: ServiceInfo[]): ServiceLookup {
  return {
    byName: (ns, name) => all.find((s) => s.namespace === ns && s.name === name),
    byHost: (h) => all.find((s) => s.hostname === h),
  };
}

export function obj(kind: string, namespace: string, name: string, spec: unknown, created?: string): KubeObject {
  const apiVersion = kind === 'VirtualService' || kind === 'DestinationRule' ? 'networking.istio.io/v1'
    : kind === 'ReferenceGrant' ? 'gateway.networking.k8s.io/v1beta1' : 'gateway.networking.k8s.io/v1';
  return {
    apiVersion,
    kind,
    metadata: { namespace, name, generation: 1, ...(created ? { creationTimestamp: created } : {}) } as KubeObject['metadata'],
    spec,
  };
}

/** Objects from a multi-document YAML manifest, namespaced into `namespace` when they say nothing (kubectl -n). */
export function fromYaml(text: string, namespace = 'default'): KubeObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null)
    .map((o) => ({ ...o, metadata: { namespace, ...o.metadata } }));
}

/** RouteInputs for `bound`, with `objects` sorted by kind and every service of `all` known. */
export function inputs(opts: { bound: ServiceInfo[]; all?: ServiceInfo[]; objects?: KubeObject[]; workloads?: WorkloadInfo[] }): RouteInputs {
  const objects = opts.objects ?? [];
  const of = (kind: string): KubeObject[] => objects.filter((o) => o.kind === kind);
  return {
    domainSuffix: SUFFIX,
    bound: opts.bound,
    services: lookup(opts.all ?? opts.bound),
    workloads: opts.workloads ?? [],
    httpRoutes: of('HTTPRoute'),
    grpcRoutes: of('GRPCRoute'),
    tcpRoutes: of('TCPRoute'),
    virtualServices: of('VirtualService'),
    destinationRules: of('DestinationRule'),
    referenceGrants: of('ReferenceGrant'),
  };
}

/** A pod backing `services`, labelled. */
export function pod(uid: string, namespace: string, labels: Record<string, string>, services: ServiceInfo[]): WorkloadInfo {
  return { uid, namespace, labels, services: services.map((s) => s.key) };
}
