// Table test for the status the writer puts on Gateway API routes: per parent, Accepted and ResolvedRefs from the
// waypoint compiler's verdict (reference problems keep the route Accepted and set ResolvedRefs=False).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import type { KubeClient } from '../shared/kube/client.ts';
import type { Logger } from '../shared/log.ts';
import { createStatusWriter, GATEWAY_CONTROLLER_NAME } from './status-writer.ts';

interface Patch { path: string; body: { status: { parents: Array<{ parentRef: unknown; controllerName: string; conditions: Array<Record<string, unknown>> }> } } }

function fakeKube(parentRefs: unknown[]): { kube: KubeClient; patches: Patch[] } {
  const patches: Patch[] = [];
  const kube = {
    get: async () => ({ spec: { parentRefs } }),
    patch: async (path: string, body: unknown) => {
      patches.push({ path, body } as Patch);
      return {};
    },
  } as unknown as KubeClient;
  return { kube, patches };
}

const log = { warn: () => {}, info: () => {}, debug: () => {}, error: () => {} } as unknown as Logger;

test('route status: Accepted and ResolvedRefs per parent; BackendNotFound and RefNotPermitted are ResolvedRefs=False, still Accepted', async () => {
  const parent = { group: '', kind: 'Service', name: 'reviews' };
  const cases: Array<[string, { accepted: boolean; reason: string; message: string }, Array<[string, string, string, string]>]> = [
    ['accepted', { accepted: true, reason: 'Accepted', message: '' }, [['Accepted', 'True', 'Accepted', ''], ['ResolvedRefs', 'True', 'ResolvedRefs', '']]],
    ['backend not found', { accepted: false, reason: 'BackendNotFound', message: 'spec.rules[0].backendRefs[0]: Service default/gone not found' },
      [['Accepted', 'True', 'Accepted', ''], ['ResolvedRefs', 'False', 'BackendNotFound', 'spec.rules[0].backendRefs[0]: Service default/gone not found']]],
    ['ref not permitted', { accepted: false, reason: 'RefNotPermitted', message: 'spec.rules[0].backendRefs[0]: Service shop/cart is not permitted by any ReferenceGrant in namespace shop' },
      [['Accepted', 'True', 'Accepted', ''], ['ResolvedRefs', 'False', 'RefNotPermitted', 'spec.rules[0].backendRefs[0]: Service shop/cart is not permitted by any ReferenceGrant in namespace shop']]],
    ['invalid', { accepted: false, reason: 'Invalid', message: 'spec.rules[0].matches[0].path.value: must be an absolute path' },
      [['Accepted', 'False', 'Invalid', 'spec.rules[0].matches[0].path.value: must be an absolute path'], ['ResolvedRefs', 'True', 'ResolvedRefs', '']]],
  ];
  for (const [name, v, want] of cases) {
    const { kube, patches } = fakeKube([parent]);
    createStatusWriter(kube, log).record([{ kind: 'HTTPRoute', namespace: 'default', name: 'r', generation: 2, condition: 'Accepted', ...v }], true);
    for (let i = 0; i < 5 && patches.length === 0; i++) await tick();
    assert.equal(patches.length, 1, name);
    assert.equal(patches[0]!.path, '/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes/r/status', name);
    const parents = patches[0]!.body.status.parents;
    assert.deepEqual(parents.map((p) => [p.parentRef, p.controllerName]), [[parent, GATEWAY_CONTROLLER_NAME]], name);
    assert.deepEqual(parents[0]!.conditions.map((c) => [c.type, c.status, c.reason, c.message]), want, name);
    assert.ok(parents[0]!.conditions.every((c) => c.observedGeneration === 2), name);
  }
});
