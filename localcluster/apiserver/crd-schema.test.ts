import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateCustomResource, schemaOf, type Schema } from './crd-schema.ts';

const schema: Schema = {
  type: 'object',
  required: ['spec'],
  properties: {
    spec: {
      type: 'object',
      required: ['host'],
      properties: {
        host: { type: 'string', minLength: 1, maxLength: 5 },
        mode: { type: 'string', enum: ['A', 'B'] },
        weight: { type: 'integer', minimum: 0, maximum: 10 },
        ratio: { type: 'number' },
        port: { 'x-kubernetes-int-or-string': true },
        list: { type: 'array', maxItems: 2, minItems: 1, items: { type: 'string', pattern: '^[a-z]+$' } },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        opaque: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        maybe: { type: 'integer', nullable: true },
      },
    },
  },
};

const run = (spec: unknown) => validateCustomResource({ apiVersion: 'x/v1', kind: 'K', metadata: { name: 'n' }, spec }, schema);

test('crd schema: valid objects pass unchanged, with apiVersion/kind/metadata untouched', () => {
  const spec = { host: 'a', mode: 'A', weight: 3, ratio: 2, port: 'http', list: ['ab'], labels: { x: 'y' }, opaque: { any: [1, { b: 2 }] }, maybe: null };
  const r = run(spec);
  assert.deepEqual(r.causes, []);
  assert.deepEqual(r.unknown, []);
  assert.deepEqual(r.pruned, { apiVersion: 'x/v1', kind: 'K', metadata: { name: 'n' }, spec });
  assert.deepEqual(run({ host: 'a', port: 8080, ratio: 0.5 }).causes, []);
});

test('crd schema: violations name the field and read as Kubernetes words them', () => {
  const table: Array<[unknown, string, string, RegExp]> = [
    [{}, 'spec.host', 'FieldValueRequired', /^Required value$/],
    [{ host: 7 }, 'spec.host', 'FieldValueTypeInvalid', /spec\.host in body must be of type string: "integer"/],
    [{ host: '' }, 'spec.host', 'FieldValueInvalid', /should be at least 1 chars long/],
    [{ host: 'abcdef' }, 'spec.host', 'FieldValueTooLong', /may not be more than 5/],
    [{ host: 'a', mode: 'C' }, 'spec.mode', 'FieldValueNotSupported', /Unsupported value: "C": supported values: "A", "B"/],
    [{ host: 'a', weight: -1 }, 'spec.weight', 'FieldValueInvalid', /should be greater than or equal to 0/],
    [{ host: 'a', weight: 11 }, 'spec.weight', 'FieldValueInvalid', /should be less than or equal to 10/],
    [{ host: 'a', weight: 1.5 }, 'spec.weight', 'FieldValueTypeInvalid', /must be of type integer: "number"/],
    [{ host: 'a', ratio: 'x' }, 'spec.ratio', 'FieldValueTypeInvalid', /must be of type number/],
    [{ host: 'a', port: true }, 'spec.port', 'FieldValueTypeInvalid', /integer or string/],
    [{ host: 'a', list: [] }, 'spec.list', 'FieldValueInvalid', /at least 1 items/],
    [{ host: 'a', list: ['a', 'b', 'c'] }, 'spec.list', 'FieldValueTooMany', /at most 2 items/],
    [{ host: 'a', list: ['A1'] }, 'spec.list[0]', 'FieldValueInvalid', /should match '\^\[a-z\]\+\$'/],
    [{ host: 'a', labels: { x: 1 } }, 'spec.labels.x', 'FieldValueTypeInvalid', /must be of type string/],
    [{ host: 'a', opaque: [] }, 'spec.opaque', 'FieldValueTypeInvalid', /must be of type object: "array"/],
    [{ host: null }, 'spec.host', 'FieldValueTypeInvalid', /must be of type string: "null"/],
    ['x', 'spec', 'FieldValueTypeInvalid', /must be of type object: "string"/],
  ];
  for (const [spec, field, reason, message] of table) {
    const r = run(spec);
    assert.equal(r.causes.length, 1, `${JSON.stringify(spec)}: ${JSON.stringify(r.causes)}`);
    assert.equal(r.causes[0]!.field, field, JSON.stringify(spec));
    assert.equal(r.causes[0]!.reason, reason, JSON.stringify(spec));
    assert.match(r.causes[0]!.message, message, JSON.stringify(spec));
  }
  assert.equal(validateCustomResource({ metadata: {} }, schema).causes[0]!.field, 'spec');
});

test('crd schema: undeclared fields are pruned and reported, at any depth; preserved where the schema says so', () => {
  const r = run({ host: 'a', extra: 1, labels: { x: 'y' }, opaque: { keep: 1 } });
  assert.deepEqual(r.causes, []);
  assert.deepEqual(r.unknown, ['spec.extra']);
  assert.deepEqual((r.pruned as { spec: unknown }).spec, { host: 'a', labels: { x: 'y' }, opaque: { keep: 1 } });
  const top = validateCustomResource({ spec: { host: 'a' }, junk: true }, schema);
  assert.deepEqual(top.unknown, ['junk']);
  assert.deepEqual(top.pruned, { spec: { host: 'a' } });
});

test('crd schema: schemaOf picks the version', () => {
  const crd = { spec: { versions: [{ name: 'v1', schema: { openAPIV3Schema: schema } }, { name: 'v2' }] } };
  assert.equal(schemaOf(crd, 'v1'), schema);
  assert.equal(schemaOf(crd, 'v2'), undefined);
  assert.equal(schemaOf(crd, 'v3'), undefined);
  assert.equal(schemaOf({}, 'v1'), undefined);
});
