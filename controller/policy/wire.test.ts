// Round-trips converted policies through the project's istio.security.Authorization codec
// (shared/proto), so every field we emit exists on the wire under the name we use.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeAuthorization, encodeAuthorization } from '../../shared/proto/index.ts';
import { convertAuthorizationPolicy, convertPeerAuthentication, staticStrictPolicy } from './index.ts';
import type { Authorization } from './index.ts';

test('converted policies survive encode/decode unchanged', () => {
  const policies: Authorization[] = [];
  const ap = convertAuthorizationPolicy({
    metadata: { name: 'p', namespace: 'shop' },
    spec: {
      action: 'DENY',
      selector: { matchLabels: { app: 'web' } },
      rules: [{
        from: [{ source: { principals: ['cluster.local/ns/a/sa/b', 'x*', '*y', '*'], notNamespaces: ['n'], ipBlocks: ['10.0.0.0/8'], notIpBlocks: ['fd00::/8'] } }],
        to: [{ operation: { ports: ['80'], notPorts: ['81'] } }],
        when: [{ key: 'destination.ip', values: ['10.1.2.3'], notValues: ['10.1.2.4'] }],
      }],
    },
  });
  assert.ok(ap.authorization);
  policies.push(ap.authorization);
  const pa = {
    metadata: { name: 'web', namespace: 'shop' },
    spec: { selector: { matchLabels: { app: 'web' } }, mtls: { mode: 'STRICT' }, portLevelMtls: { 8080: { mode: 'PERMISSIVE' } } },
  };
  const converted = convertPeerAuthentication(pa, { peerAuthentications: [pa] }).authorization;
  assert.ok(converted);
  policies.push(converted, staticStrictPolicy().authorization);
  for (const p of policies) {
    const back = decodeAuthorization(encodeAuthorization(p));
    // Compare with bytes as plain arrays (the codec decodes them as Buffers).
    const norm = (x: unknown): unknown => {
      if (x instanceof Uint8Array) return [...x];
      if (Array.isArray(x)) return x.map(norm);
      if (typeof x === 'object' && x !== null) return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, norm(v)]));
      return x;
    };
    assert.deepEqual(norm(back), norm(p), p.name);
  }
});
