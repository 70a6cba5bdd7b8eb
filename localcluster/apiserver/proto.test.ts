// Protobuf request bodies: decoding bodies captured from kubectl 1.32 (`kubectl create ...`).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeProtobuf } from './proto.ts';
import { ApiError } from './status.ts';

const hex = (h: string) => Buffer.from(h, 'hex');

describe('protobuf bodies from kubectl', () => {
  const cases: [string, string, Record<string, unknown>][] = [
    ['configmap --from-literal a=1 b=two',
      '6b3873000a0f0a0276311209436f6e6669674d617012270a130a03636d3112001a0022002a0032003800420012060a016112013112080a0162120374776f1a002200',
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm1' }, data: { a: '1', b: 'two' } }],
    ['secret generic k=v',
      '6b3873000a0c0a0276311206536563726574121e0a120a02733112001a0022002a0032003800420012060a016b1201761a001a002200',
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's1' }, data: { k: 'dg==' } }],
    ['token --audience foo,bar --duration 2h --bound-object pod/tp',
      '6b3873000a280a1861757468656e7469636174696f6e2e6b38732e696f2f7631120c546f6b656e5265717565737412380a100a0012001a0022002a00320038004200121e0a03666f6f0a036261721a0f0a03506f64120276311a027470220020a0381a040a0012001a002200',
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: {}, spec: { audiences: ['foo', 'bar'], boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'tp' }, expirationSeconds: 7200 } }],
  ];
  for (const [name, body, want] of cases) it(name, () => assert.deepEqual(decodeProtobuf(hex(body)), want));

  it('kinds without a field table answer 415 pointing at -f', () => {
    // TypeMeta{apiVersion: apps/v1, kind: Deployment} and an empty object
    const tm = Buffer.concat([hex('0a07'), Buffer.from('apps/v1'), hex('120a'), Buffer.from('Deployment')]);
    const body = Buffer.concat([hex('6b387300'), hex('0a'), Buffer.from([tm.length]), tm, hex('1200')]);
    assert.throws(() => decodeProtobuf(body), (e: ApiError) => e.httpCode === 415 && /Deployment/.test(e.message));
  });
  it('rejects a body without the k8s prefix and a truncated body', () => {
    assert.throws(() => decodeProtobuf(hex('0a0f')), (e: ApiError) => e.httpCode === 400);
    assert.throws(() => decodeProtobuf(hex('6b3873000a0f0a02')), (e: ApiError) => e.httpCode === 400);
  });
});
