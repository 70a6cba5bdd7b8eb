// Face of shared/proto: loads the mesh's .proto files (protobufjs), encodes/decodes the xDS
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
const FILES = ['workload.proto', 'authorization.proto', 'discovery.proto', 'waypoint.proto'];

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
/** Encoder and decoder of one message type; `dense` decodes absent repeated/map fields as empty ones. */
function codec<T>(type: protobuf.Type, dense = false): { encode(x: T): Buffer; decode(buf: Uint8Array): T } {
  return {
    encode: (x) => toBuffer(type.encode(type.fromObject(x as Record<string, unknown>)).finish()),
    decode: (buf) => type.toObject(type.decode(buf), dense ? DENSE : SPARSE) as T,
  };
}

const addressCodec = codec<Address>(AddressT);
const authorizationCodec = codec<Authorization>(AuthorizationT);
const deltaRequestCodec = codec<Partial<DeltaDiscoveryRequest>>(DeltaRequestT, true);
const deltaResponseCodec = codec<DeltaDiscoveryResponse>(DeltaResponseT, true);

/** Encode an Address. Map keys are sorted so equal objects give equal bytes (and equal xDS versions). */
export function encodeAddress(a: Address): Buffer {
  let obj: Address = a;
  if (a.workload?.services) obj = { workload: { ...a.workload, services: sortedRecord(a.workload.services) } };
  return addressCodec.encode(obj);
}

export const decodeAddress = (buf: Uint8Array): Address => addressCodec.decode(buf);
export const encodeAuthorization = (a: Authorization): Buffer => authorizationCodec.encode(a);
export const decodeAuthorization = (buf: Uint8Array): Authorization => authorizationCodec.decode(buf);
export const encodeDeltaRequest = (r: Partial<DeltaDiscoveryRequest>): Buffer => deltaRequestCodec.encode(r);
export const decodeDeltaRequest = (buf: Uint8Array): DeltaDiscoveryRequest => deltaRequestCodec.decode(buf) as DeltaDiscoveryRequest;
export const encodeDeltaResponse = (r: DeltaDiscoveryResponse): Buffer => deltaResponseCodec.encode(r);
export const decodeDeltaResponse = (buf: Uint8Array): DeltaDiscoveryResponse => deltaResponseCodec.decode(buf);

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
