// Face of controller/proto: loads the mesh's .proto files (protobufjs), encodes/decodes the xDS
// resources, names their type URLs, and defines the delta ADS gRPC service for grpc-js.
import { dirname, join, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import * as grpc from '@grpc/grpc-js';
import type { Address, Authorization, DeltaDiscoveryRequest, DeltaDiscoveryResponse } from './types.ts';

export type * from './types.ts';
export { ipBytes, ipString, InvalidIpError } from './ip.ts';

export const ADDRESS_TYPE_URL = 'type.googleapis.com/istio.workload.Address';
export const AUTHORIZATION_TYPE_URL = 'type.googleapis.com/istio.security.Authorization';
export const ADS_DELTA_PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources';

const here = dirname(fileURLToPath(import.meta.url));
const FILES = ['workload.proto', 'authorization.proto', 'discovery.proto'];

function loadRoot(): protobuf.Root {
  const root = new protobuf.Root();
  // google/protobuf/* resolve to protobufjs's built-in well-known types; ours sit beside this file.
  root.resolvePath = (_origin, target) => (target.includes('google/protobuf/') ? target : join(here, basename(target)));
  root.loadSync(FILES, { keepCase: false });
  root.resolveAll();
  return root;
}

/** The loaded protobufjs root holding every message of this folder's .proto files. */
export const protoRoot: protobuf.Root = loadRoot();

const AddressT = protoRoot.lookupType('istio.workload.Address');
const AuthorizationT = protoRoot.lookupType('istio.security.Authorization');
const DeltaRequestT = protoRoot.lookupType('envoy.service.discovery.v3.DeltaDiscoveryRequest');
const DeltaResponseT = protoRoot.lookupType('envoy.service.discovery.v3.DeltaDiscoveryResponse');

/** Sparse: only fields present on the wire; enums as names; bytes as Buffer. */
const SPARSE: protobuf.IConversionOptions = { enums: String, longs: Number };
/** Dense: repeated/map fields always present (used for the transport messages). */
const DENSE: protobuf.IConversionOptions = { enums: String, longs: Number, arrays: true, objects: true };

function toBuffer(u8: Uint8Array): Buffer {
  return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

/** Encode any message of this folder's protos by full name (e.g. 'istio.workload.Workload'). */
export function encodeMessage(typeName: string, obj: object): Buffer {
  const t = protoRoot.lookupType(typeName);
  return toBuffer(t.encode(t.fromObject(obj as Record<string, unknown>)).finish());
}

/** Decode any message of this folder's protos by full name, sparse (absent fields omitted). */
export function decodeMessage<T>(typeName: string, buf: Uint8Array): T {
  const t = protoRoot.lookupType(typeName);
  return t.toObject(t.decode(buf), SPARSE) as T;
}

function sortedRecord<V>(rec: Record<string, V>): Record<string, V> {
  return Object.fromEntries(Object.entries(rec).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Encode an Address. Map keys are sorted so equal objects give equal bytes (and equal xDS versions). */
export function encodeAddress(a: Address): Buffer {
  let obj: Address = a;
  if (a.workload?.services) obj = { workload: { ...a.workload, services: sortedRecord(a.workload.services) } };
  return toBuffer(AddressT.encode(AddressT.fromObject(obj as Record<string, unknown>)).finish());
}

export function decodeAddress(buf: Uint8Array): Address {
  return AddressT.toObject(AddressT.decode(buf), SPARSE) as Address;
}

export function encodeAuthorization(a: Authorization): Buffer {
  return toBuffer(AuthorizationT.encode(AuthorizationT.fromObject(a as unknown as Record<string, unknown>)).finish());
}

export function decodeAuthorization(buf: Uint8Array): Authorization {
  return AuthorizationT.toObject(AuthorizationT.decode(buf), SPARSE) as Authorization;
}

export function encodeDeltaRequest(r: Partial<DeltaDiscoveryRequest>): Buffer {
  return toBuffer(DeltaRequestT.encode(DeltaRequestT.fromObject(r)).finish());
}

export function decodeDeltaRequest(buf: Uint8Array): DeltaDiscoveryRequest {
  return DeltaRequestT.toObject(DeltaRequestT.decode(buf), DENSE) as DeltaDiscoveryRequest;
}

export function encodeDeltaResponse(r: DeltaDiscoveryResponse): Buffer {
  return toBuffer(DeltaResponseT.encode(DeltaResponseT.fromObject(r as unknown as Record<string, unknown>)).finish());
}

export function decodeDeltaResponse(buf: Uint8Array): DeltaDiscoveryResponse {
  return DeltaResponseT.toObject(DeltaResponseT.decode(buf), DENSE) as DeltaDiscoveryResponse;
}

/** grpc-js definition of envoy.service.discovery.v3.AggregatedDiscoveryService (delta method only). */
export const adsServiceDefinition = {
  DeltaAggregatedResources: {
    path: ADS_DELTA_PATH,
    requestStream: true,
    responseStream: true,
    requestSerialize: encodeDeltaRequest,
    requestDeserialize: decodeDeltaRequest,
    responseSerialize: encodeDeltaResponse,
    responseDeserialize: decodeDeltaResponse,
    originalName: 'deltaAggregatedResources',
  },
} satisfies grpc.ServiceDefinition;

export interface AdsClient extends grpc.Client {
  DeltaAggregatedResources(metadata?: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<Partial<DeltaDiscoveryRequest>, DeltaDiscoveryResponse>;
}

/** Client constructor for the ADS service (tests, tools). */
export const AdsClient = grpc.makeGenericClientConstructor(adsServiceDefinition, 'AggregatedDiscoveryService') as unknown as new (
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: grpc.ClientOptions,
) => AdsClient;
