// Pure pieces of the proxies' delta ADS client: the node identity as Istio's ztunnel presents it, the requests it
// sends (initial wildcard or named subscription with the versions it holds, ACK, NACK), decoding a response into store
// deltas (any failure → one NACK message), and the reconnect backoff.
import { status } from '@grpc/grpc-js';
import { ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL, decodeAddress, decodeAuthorization } from '../proto/index.ts';
import type { DeltaDiscoveryRequest, DeltaDiscoveryResponse } from '../proto/types.ts';
import { errorMessage } from '../errors.ts';
import type { AddressUpsert, AuthorizationUpsert } from '../state/index.ts';
import { XdsInvalidResponseError } from './errors.ts';

/** The types ztunnel subscribes to, in the order it subscribes. */
export const SUBSCRIBED_TYPES = [ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL] as const;

export interface XdsNode {
  /** Istio ztunnel: `ztunnel~<ip>~<pod>.<ns>~<ns>.svc.cluster.local` (see ztunnelNodeId). */
  id: string;
  /** Sent as a google.protobuf.Struct of strings (Istio ztunnel: NODE_NAME, NAMESPACE, CLUSTER_ID, INSTANCE_IPS, ...). */
  metadata?: Record<string, string>;
}

/** Istio's node id for a ztunnel pod. The controller only logs it (identity comes from the bearer token). */
export function ztunnelNodeId(o: { ip: string; podName: string; namespace: string; domain?: string }): string {
  return `ztunnel~${o.ip}~${o.podName}.${o.namespace}~${o.namespace}.svc.${o.domain ?? 'cluster.local'}`;
}

/** The wire form of the node: metadata as a protobuf Struct (protobufjs has no JSON mapping for Struct). */
export function nodeMessage(node: XdsNode): NonNullable<DeltaDiscoveryRequest['node']> {
  const fields = Object.fromEntries(Object.entries(node.metadata ?? {}).map(([k, v]) => [k, { stringValue: v }]));
  return { id: node.id, metadata: { fields } };
}

/**
 * First request of a type on a stream: wildcard (or the named resources), with what the store holds so unchanged
 * resources are not resent.
 */
export function initialRequest(typeUrl: string, node: XdsNode, versions: Record<string, string>, names: readonly string[] = ['*']): Partial<DeltaDiscoveryRequest> {
  return { node: nodeMessage(node), typeUrl, resourceNamesSubscribe: [...names], initialResourceVersions: versions };
}

export function ackRequest(typeUrl: string, nonce: string): Partial<DeltaDiscoveryRequest> {
  return { typeUrl, responseNonce: nonce };
}

export function nackRequest(typeUrl: string, nonce: string, message: string): Partial<DeltaDiscoveryRequest> {
  return { typeUrl, responseNonce: nonce, errorDetail: { code: status.INVALID_ARGUMENT, message } };
}

/** One resource of a response, still encoded. */
export interface RawResource {
  name: string;
  version: string;
  value: Uint8Array;
}

/** The resources of a response of an expected type; throws XdsInvalidResponseError naming the first bad one. */
export function responseResources(r: DeltaDiscoveryResponse, expected: ReadonlySet<string>): { upserts: RawResource[]; removed: string[] } {
  if (!expected.has(r.typeUrl)) {
    throw new XdsInvalidResponseError(`response for type ${r.typeUrl || '<empty>'}, which this client did not subscribe to`);
  }
  const upserts = r.resources.map((res) => {
    if (!res.name) throw new XdsInvalidResponseError(`a ${r.typeUrl} resource has no name`);
    if (!res.resource) throw new XdsInvalidResponseError(`resource ${res.name} has no body`);
    if (res.resource.typeUrl && res.resource.typeUrl !== r.typeUrl) {
      throw new XdsInvalidResponseError(`resource ${res.name} is a ${res.resource.typeUrl} in a ${r.typeUrl} response`);
    }
    return { name: res.name, version: res.version ?? '', value: res.resource.value };
  });
  return { upserts, removed: [...r.removedResources] };
}

/** Decode one resource with `f`; a failure becomes XdsInvalidResponseError naming the type and resource. */
export function decodeResource<T>(typeUrl: string, name: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw new XdsInvalidResponseError(`cannot decode ${typeUrl} ${name}: ${errorMessage(err)}`, { cause: err });
  }
}

export type DecodedResponse =
  | { typeUrl: typeof ADDRESS_TYPE_URL; upserts: AddressUpsert[]; removed: string[] }
  | { typeUrl: typeof AUTHORIZATION_TYPE_URL; upserts: AuthorizationUpsert[]; removed: string[] };

const STATE_TYPES = new Set<string>([ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL]);

/** Decode an Address or Authorization response into store deltas; throws XdsInvalidResponseError naming the first bad one. */
export function decodeResponse(r: DeltaDiscoveryResponse): DecodedResponse {
  const { upserts, removed } = responseResources(r, STATE_TYPES);
  if (r.typeUrl === ADDRESS_TYPE_URL) {
    return { typeUrl: r.typeUrl, removed, upserts: upserts.map((v) => ({ name: v.name, version: v.version, address: decodeResource(r.typeUrl, v.name, () => decodeAddress(v.value)) })) };
  }
  return { typeUrl: AUTHORIZATION_TYPE_URL, removed, upserts: upserts.map((v) => ({ name: v.name, version: v.version, authorization: decodeResource(r.typeUrl, v.name, () => decodeAuthorization(v.value)) })) };
}

export interface Backoff {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 500, maxMs: 15_000 };

/**
 * Delay before reconnect attempt `attempt` (0-based): exponential, capped, with "equal jitter" (half fixed, half
 * random) so a fleet of ztunnels restarted with the controller do not reconnect in lockstep.
 */
export function backoffDelay(attempt: number, b: Backoff, random: () => number = Math.random): number {
  const ceiling = Math.min(b.maxMs, b.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
