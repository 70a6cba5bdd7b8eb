// Authorization decisions (pure): own identity, node-proxy impersonation, and the pod-on-node check.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decide, hasPodOnNode, type Decision } from './authz.ts';
import type { Caller } from './authn.ts';

const TD = 'cluster.local';
const proxies = [{ namespace: 'istio-system', serviceAccount: 'ztunnel' }];
const ztunnel: Caller = { namespace: 'istio-system', serviceAccount: 'ztunnel', pod: { name: 'ztunnel-a', uid: 'u1' } };
const app: Caller = { namespace: 'default', serviceAccount: 'app', pod: { name: 'app-1', uid: 'u2' } };

describe('decide', () => {
  const cases: [string, Caller, string | undefined, Decision['kind'], RegExp | string][] = [
    ['no request → own identity', app, undefined, 'self', 'spiffe://cluster.local/ns/default/sa/app'],
    ['requesting own identity explicitly', app, 'spiffe://cluster.local/ns/default/sa/app', 'self', 'spiffe://cluster.local/ns/default/sa/app'],
    ['workload asks for another identity', app, 'spiffe://cluster.local/ns/default/sa/db', 'deny', /only node proxies may impersonate/],
    ['node proxy impersonates', ztunnel, 'spiffe://cluster.local/ns/default/sa/db', 'impersonate', 'spiffe://cluster.local/ns/default/sa/db'],
    ['node proxy, other trust domain', ztunnel, 'spiffe://evil.example/ns/default/sa/db', 'deny', /outside trust domain/],
    ['node proxy, not a spiffe id', ztunnel, 'default/db', 'deny', /is not a spiffe/],
    ['node proxy, path injection', ztunnel, 'spiffe://cluster.local/ns/default/sa/db/extra', 'deny', /is not a spiffe/],
    ['node proxy token not bound to a pod', { namespace: 'istio-system', serviceAccount: 'ztunnel' }, 'spiffe://cluster.local/ns/default/sa/db', 'deny', /not bound to a pod/],
    ['same sa name in another namespace is not a proxy', { ...ztunnel, namespace: 'default' }, 'spiffe://cluster.local/ns/default/sa/db', 'deny', /only node proxies/],
  ];
  for (const [name, caller, requested, kind, expect] of cases) {
    it(name, () => {
      const d = decide(caller, requested, TD, proxies);
      assert.equal(d.kind, kind);
      if (d.kind === 'deny') assert.match(d.reason, expect as RegExp);
      else assert.equal(d.identity, expect);
    });
  }
});

describe('hasPodOnNode', () => {
  const pods = [
    { metadata: { namespace: 'default', name: 'a' }, spec: { serviceAccountName: 'db', containers: [] } },
    { metadata: { namespace: 'other', name: 'b' }, spec: { containers: [] } }, // no serviceAccountName → default
  ];
  const cases: [string, { namespace: string; serviceAccount: string }, boolean][] = [
    ['sa with a pod', { namespace: 'default', serviceAccount: 'db' }, true],
    ['implicit default sa', { namespace: 'other', serviceAccount: 'default' }, true],
    ['same sa name, other namespace', { namespace: 'other', serviceAccount: 'db' }, false],
    ['sa without pods here', { namespace: 'default', serviceAccount: 'web' }, false],
  ];
  for (const [name, sa, want] of cases) it(name, () => assert.equal(hasPodOnNode(pods, sa), want));
});
