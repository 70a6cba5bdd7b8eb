// Table tests for policiesForWorkload: which AuthorizationPolicies and PeerAuthentication-derived
// policies a Workload lists.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { policiesForWorkload } from './index.ts';
import type { PolicyResource } from './index.ts';

const res = (namespace: string, name: string, spec: unknown, annotations?: Record<string, string>): PolicyResource => ({
  metadata: { name, namespace, creationTimestamp: '2026-01-01T00:00:00Z', ...(annotations ? { annotations } : {}) },
  spec,
});
const rule = { rules: [{ from: [{ source: { namespaces: ['a'] } }] }] };

test('policiesForWorkload lists matching WORKLOAD_SELECTOR policies, then PeerAuthentication-derived ones', () => {
  const aps = [
    res('shop', 'z-web', { ...rule, selector: { matchLabels: { app: 'web' } } }),
    res('shop', 'a-web-v1', { ...rule, selector: { matchLabels: { app: 'web', version: 'v1' } } }),
    res('shop', 'all-in-ns', { ...rule, selector: {} }),
    res('shop', 'api', { ...rule, selector: { matchLabels: { app: 'api' } } }),
    res('shop', 'ns-wide', rule),
    res('istio-system', 'global', rule),
    res('istio-system', 'root-selector', { ...rule, selector: { matchLabels: { app: 'web' } } }),
    res('other', 'other-ns', { ...rule, selector: { matchLabels: { app: 'web' } } }),
    res('shop', 'waypoint-bound', { ...rule, targetRefs: [{ kind: 'Service', name: 'web' }] }),
    res('shop', 'audit', { ...rule, action: 'AUDIT', selector: { matchLabels: { app: 'web' } } }),
    res('shop', 'invalid', { rules: [{ to: [{ operation: { ports: ['x'] } }] }], selector: { matchLabels: { app: 'web' } } }),
    res('shop', 'dry', { ...rule, selector: { matchLabels: { app: 'web' } } }, { 'istio.io/dry-run': 'true' }),
  ];
  const pas = [res('istio-system', 'default', { mtls: { mode: 'STRICT' } })];
  const cases: { name: string; labels: Record<string, string>; ns: string; opts?: object; want: string[] }[] = [
    { name: 'web v1 in shop', labels: { app: 'web', version: 'v1' }, ns: 'shop',
      want: ['istio-system/root-selector', 'shop/a-web-v1', 'shop/all-in-ns', 'shop/z-web', 'istio-system/istio_converted_static_strict'] },
    { name: 'web v2 in shop', labels: { app: 'web', version: 'v2' }, ns: 'shop',
      want: ['istio-system/root-selector', 'shop/all-in-ns', 'shop/z-web', 'istio-system/istio_converted_static_strict'] },
    { name: 'dry-run listed when the wire carries it', labels: { app: 'web', version: 'v2' }, ns: 'shop', opts: { dryRunSupported: true },
      want: ['istio-system/root-selector', 'shop/all-in-ns', 'shop/dry', 'shop/z-web', 'istio-system/istio_converted_static_strict'] },
    { name: 'unlabelled in shop', labels: {}, ns: 'shop', want: ['shop/all-in-ns', 'istio-system/istio_converted_static_strict'] },
    { name: 'web in other namespace', labels: { app: 'web' }, ns: 'other',
      want: ['istio-system/root-selector', 'other/other-ns', 'istio-system/istio_converted_static_strict'] },
  ];
  for (const c of cases) {
    assert.deepEqual(policiesForWorkload(c.labels, c.ns, { authorizationPolicies: aps, peerAuthentications: pas }, c.opts), c.want, c.name);
  }
  assert.deepEqual(policiesForWorkload({ app: 'web' }, 'shop', {}), []);
  assert.deepEqual(
    policiesForWorkload({ app: 'web' }, 'm', { authorizationPolicies: [res('m', 'g', rule), res('m', 's', { ...rule, selector: { matchLabels: { app: 'web' } } })] }, { rootNamespace: 'm' }),
    ['m/s'],
  );
});
