// Table tests for label and field selector parsing and matching.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fieldPredicate, labelPredicate } from './selectors.ts';
import { labelSelectorMatches as selectorObjectMatches } from '../../shared/labels.ts';
import { ApiError } from './status.ts';

const obj = (labels: Record<string, string>) => ({ metadata: { name: 'n', namespace: 'ns', labels } });

describe('label selectors', () => {
  const cases: [string, Record<string, string>, boolean][] = [
    ['app=web', { app: 'web' }, true],
    ['app==web', { app: 'web' }, true],
    ['app=web', { app: 'db' }, false],
    ['app!=web', { app: 'db' }, true],
    ['app!=web', {}, true],
    ['app!=web', { app: 'web' }, false],
    ['env in (prod, staging)', { env: 'staging' }, true],
    ['env in (prod,staging)', { env: 'dev' }, false],
    ['env notin (prod)', { env: 'dev' }, true],
    ['env notin (prod)', {}, true],
    ['env notin (prod)', { env: 'prod' }, false],
    ['app', { app: '' }, true],
    ['app', {}, false],
    ['!app', {}, true],
    ['!app', { app: 'x' }, false],
    ['app=web,tier in (fe),!legacy', { app: 'web', tier: 'fe' }, true],
    ['app=web,tier in (fe),!legacy', { app: 'web', tier: 'fe', legacy: 'y' }, false],
    ['example.com/role=x', { 'example.com/role': 'x' }, true],
  ];
  for (const [sel, labels, want] of cases) {
    it(`${sel} on ${JSON.stringify(labels)} → ${want}`, () => assert.equal(labelPredicate(sel)!(obj(labels)), want));
  }
  for (const bad of ['a in (b', 'a=b=c', '=x', 'a in b']) {
    it(`rejects ${bad}`, () => assert.throws(() => labelPredicate(bad), (e: ApiError) => e.httpCode === 400));
  }
  it('empty selector selects everything', () => assert.equal(labelPredicate(''), undefined));
});

describe('field selectors', () => {
  const pod = { metadata: { name: 'p', namespace: 'ns' }, spec: { nodeName: 'node-1' }, status: { phase: 'Running' } };
  const cases: [string, string, object, boolean][] = [
    ['metadata.name=p', 'Pod', pod, true],
    ['metadata.name!=p', 'Pod', pod, false],
    ['metadata.namespace=ns,spec.nodeName=node-1', 'Pod', pod, true],
    ['spec.nodeName=', 'Pod', { metadata: { name: 'x' }, spec: {} }, true],
    ['status.phase==Running', 'Pod', pod, true],
    ['involvedObject.name=p,involvedObject.kind=Pod', 'Event', { metadata: { name: 'e' }, involvedObject: { name: 'p', kind: 'Pod' } }, true],
    ['involvedObject.uid=u', 'Event', { metadata: { name: 'e' }, involvedObject: { uid: 'v' } }, false],
  ];
  for (const [sel, kind, o, want] of cases) {
    it(`${kind} ${sel} → ${want}`, () => assert.equal(fieldPredicate(sel, kind)!(o), want));
  }
  it('unsupported fields are a 400 naming the field', () => {
    assert.throws(() => fieldPredicate('spec.nodeName=x', 'ConfigMap'), (e: ApiError) => e.httpCode === 400 && /field label not supported: spec.nodeName/.test(e.message));
  });
});

describe('LabelSelector objects', () => {
  const cases: [object, Record<string, string>, boolean][] = [
    [{ matchLabels: { a: 'b' } }, { a: 'b', c: 'd' }, true],
    [{ matchLabels: { a: 'b' } }, { a: 'c' }, false],
    [{ matchExpressions: [{ key: 'a', operator: 'In', values: ['x', 'y'] }] }, { a: 'y' }, true],
    [{ matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }] }, { a: 'y' }, false],
  ];
  for (const [sel, labels, want] of cases) {
    it(`${JSON.stringify(sel)} on ${JSON.stringify(labels)} → ${want}`, () => assert.equal(selectorObjectMatches(sel, labels), want));
  }
});
