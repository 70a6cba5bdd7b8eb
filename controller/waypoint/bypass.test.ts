import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Service } from '@kubernetes/client-node';
import { bypassPolicies, ALLOW_BYPASS_ANNOTATION } from './bypass.ts';
import { convertAuthorizationPolicy } from '../policy/index.ts';

const gw = { metadata: { namespace: 'demo', name: 'waypoint' }, spec: { gatewayClassName: 'istio-waypoint' } };
const svc = (name: string, o: Partial<V1Service['spec']> = {}, annotations?: Record<string, string>): V1Service => ({
  metadata: { namespace: 'demo', name, ...(annotations ? { annotations } : {}) },
  spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 as never }], ...o },
});
const none = { trustDomain: 'cluster.local', namespaces: () => undefined };

test('a bound service gets a DENY for every source but its waypoint, on its target ports', () => {
  const [p, ...rest] = bypassPolicies([{ gateway: gw, services: [svc('reviews')] }], none);
  assert.equal(rest.length, 0);
  assert.equal(p!.metadata.name, 'waypoint-only.reviews');
  assert.deepEqual(p!.spec, {
    selector: { matchLabels: { app: 'reviews' } }, action: 'DENY',
    rules: [{ from: [{ source: { notPrincipals: ['cluster.local/ns/demo/sa/waypoint'] } }], to: [{ operation: { ports: ['8080'] } }] }],
  });
  // It converts to a ztunnel Authorization like any user policy.
  const c = convertAuthorizationPolicy(p!, { rootNamespace: 'istio-system' });
  assert.equal(c.status.accepted, true, c.status.message);
  assert.equal(c.authorization?.action, 'DENY');
  assert.equal(c.authorization?.scope, 'WORKLOAD_SELECTOR');
});

test('named target ports: all ports of the pods are covered', () => {
  const [p] = bypassPolicies([{ gateway: gw, services: [svc('web', { ports: [{ port: 80, targetPort: 'http' as never }] })] }], none);
  assert.equal((p!.spec.rules as Array<Record<string, unknown>>)[0]!.to, undefined);
});

test('opt-outs and services without selector get nothing', () => {
  const opt = { [ALLOW_BYPASS_ANNOTATION]: 'true' };
  assert.equal(bypassPolicies([{ gateway: gw, services: [svc('a', {}, opt)] }], none).length, 0);
  assert.equal(bypassPolicies([{ gateway: { ...gw, metadata: { ...gw.metadata, annotations: opt } }, services: [svc('a')] }], none).length, 0);
  assert.equal(bypassPolicies([{ gateway: gw, services: [svc('a')] }], { trustDomain: 'cluster.local', namespaces: () => ({ metadata: { name: 'demo', annotations: opt } }) }).length, 0);
  assert.equal(bypassPolicies([{ gateway: gw, services: [svc('a', { selector: undefined })] }], none).length, 0);
});
