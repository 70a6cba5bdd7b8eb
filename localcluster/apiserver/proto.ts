// Kubernetes protobuf request bodies (what kubectl's typed clients send for `kubectl create configmap|secret|
// namespace|serviceaccount|token`): the `k8s\0` envelope (runtime.Unknown), a schema-less protobuf wire reader,
// and field tables for the few kinds those commands create. Other kinds answer 415 with a pointer to -f.
import { ApiError } from './status.ts';

type Obj = Record<string, any>;
type Field = { n: number; wire: number; v: bigint | Buffer };

/** Read one message's fields (pure, schema-less). */
export function readFields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = (): bigint => {
    let r = 0n;
    let shift = 0n;
    for (;;) {
      if (i >= buf.length) throw new ApiError('BadRequest', 'truncated protobuf body');
      const b = buf[i++]!;
      r |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return r;
      shift += 7n;
      if (shift > 70n) throw new ApiError('BadRequest', 'malformed protobuf varint');
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const n = key >>> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ n, wire, v: varint() });
    else if (wire === 2) {
      const len = Number(varint());
      if (i + len > buf.length) throw new ApiError('BadRequest', 'truncated protobuf body');
      out.push({ n, wire, v: buf.subarray(i, i + len) });
      i += len;
    } else if (wire === 1) { out.push({ n, wire, v: buf.readBigUInt64LE(i) }); i += 8; }
    else if (wire === 5) { out.push({ n, wire, v: BigInt(buf.readUInt32LE(i)) }); i += 4; }
    else throw new ApiError('BadRequest', `unsupported protobuf wire type ${wire}`);
  }
  return out;
}

// A schema maps field number → [json name, type]; nested messages name another schema.
type Type = 'string' | 'bytes' | 'int' | 'bool' | 'time' | 'smap' | 'bmap' | { msg: string } ;
type Schema = Record<number, [name: string, type: Type, repeated?: true]>;

// Field numbers from the Kubernetes API's protobuf definitions (k8s.io/api, k8s.io/apimachinery).
const SCHEMAS: Record<string, Schema> = {
  TypeMeta: { 1: ['apiVersion', 'string'], 2: ['kind', 'string'] },
  ObjectMeta: {
    1: ['name', 'string'], 2: ['generateName', 'string'], 3: ['namespace', 'string'], 5: ['uid', 'string'],
    6: ['resourceVersion', 'string'], 7: ['generation', 'int'], 11: ['labels', 'smap'], 12: ['annotations', 'smap'],
    13: ['ownerReferences', { msg: 'OwnerReference' }, true], 14: ['finalizers', 'string', true],
  },
  OwnerReference: { 1: ['kind', 'string'], 3: ['name', 'string'], 4: ['uid', 'string'], 5: ['apiVersion', 'string'], 6: ['controller', 'bool'], 7: ['blockOwnerDeletion', 'bool'] },
  ConfigMap: { 1: ['metadata', { msg: 'ObjectMeta' }], 2: ['data', 'smap'], 3: ['binaryData', 'bmap'], 4: ['immutable', 'bool'] },
  Secret: { 1: ['metadata', { msg: 'ObjectMeta' }], 2: ['data', 'bmap'], 3: ['type', 'string'], 4: ['stringData', 'smap'], 5: ['immutable', 'bool'] },
  Namespace: { 1: ['metadata', { msg: 'ObjectMeta' }], 2: ['spec', { msg: 'NamespaceSpec' }] },
  NamespaceSpec: { 1: ['finalizers', 'string', true] },
  ServiceAccount: {
    1: ['metadata', { msg: 'ObjectMeta' }], 2: ['secrets', { msg: 'ObjectReference' }, true],
    3: ['imagePullSecrets', { msg: 'LocalObjectReference' }, true], 4: ['automountServiceAccountToken', 'bool'],
  },
  ObjectReference: { 1: ['kind', 'string'], 2: ['namespace', 'string'], 3: ['name', 'string'], 4: ['uid', 'string'], 5: ['apiVersion', 'string'] },
  LocalObjectReference: { 1: ['name', 'string'] },
  TokenRequest: { 1: ['metadata', { msg: 'ObjectMeta' }], 2: ['spec', { msg: 'TokenRequestSpec' }] },
  TokenRequestSpec: { 1: ['audiences', 'string', true], 3: ['boundObjectRef', { msg: 'BoundObjectReference' }], 4: ['expirationSeconds', 'int'] },
  // Reviews answered from the caller's identity alone: their specs are not needed.
  SelfSubjectReview: { 1: ['metadata', { msg: 'ObjectMeta' }] },
  SelfSubjectAccessReview: { 1: ['metadata', { msg: 'ObjectMeta' }] },
  BoundObjectReference: { 1: ['kind', 'string'], 2: ['apiVersion', 'string'], 3: ['name', 'string'], 4: ['uid', 'string'] },
};

function mapEntry(buf: Buffer, bytes: boolean): [string, string] {
  let k = '';
  let v = '';
  for (const f of readFields(buf)) {
    if (f.n === 1 && Buffer.isBuffer(f.v)) k = f.v.toString('utf8');
    if (f.n === 2 && Buffer.isBuffer(f.v)) v = bytes ? f.v.toString('base64') : f.v.toString('utf8');
  }
  return [k, v];
}

function decodeMessage(buf: Buffer, schemaName: string): Obj {
  const schema = SCHEMAS[schemaName]!;
  const out: Obj = {};
  for (const f of readFields(buf)) {
    const def = schema[f.n];
    if (!def) continue; // unknown fields are dropped, like fieldValidation=Ignore
    const [name, type, repeated] = def;
    let value: unknown;
    if (type === 'smap' || type === 'bmap') {
      const [k, v] = mapEntry(f.v as Buffer, type === 'bmap');
      (out[name] ??= {})[k] = v;
      continue;
    }
    if (typeof type === 'object') value = decodeMessage(f.v as Buffer, type.msg);
    else if (type === 'string') value = (f.v as Buffer).toString('utf8');
    else if (type === 'bytes') value = (f.v as Buffer).toString('base64');
    else if (type === 'int') value = Number(BigInt.asIntN(64, f.v as bigint));
    else if (type === 'bool') value = f.v !== 0n;
    if (repeated) (out[name] ??= []).push(value);
    else if (value !== '' && value !== 0 && value !== false) out[name] = value; // zero values are absent, as in Go's omitempty JSON
  }
  return out;
}

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** Decode a `application/vnd.kubernetes.protobuf` body into the JSON form of its object. */
export function decodeProtobuf(raw: Buffer): Obj {
  if (raw.length < 4 || !raw.subarray(0, 4).equals(MAGIC)) throw new ApiError('BadRequest', 'protobuf body lacks the k8s\\0 prefix');
  let typeMeta: Obj = {};
  let inner: Buffer | undefined;
  for (const f of readFields(raw.subarray(4))) {
    if (f.n === 1 && Buffer.isBuffer(f.v)) typeMeta = decodeMessage(f.v, 'TypeMeta');
    if (f.n === 2 && Buffer.isBuffer(f.v)) inner = f.v;
  }
  const kind = String(typeMeta.kind ?? '');
  if (!SCHEMAS[kind] || !inner) {
    throw new ApiError('UnsupportedMediaType',
      `protobuf bodies for ${kind || 'this kind'} are not supported by the local api server; send JSON or YAML (for kubectl: \`kubectl create -f\` or \`kubectl apply -f\`)`);
  }
  return { apiVersion: typeMeta.apiVersion, kind, ...decodeMessage(inner, kind) };
}
