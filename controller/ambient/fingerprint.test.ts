import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fingerprint } from './fingerprint.ts';
import type { Address } from './address-types.ts';

const svc = (extra: object, addr = [10, 0, 0, 1]): Address => ({
  service: { name: 's', namespace: 'n', hostname: 'h', addresses: [{ network: '', address: Uint8Array.from(addr) }], ports: [], subjectAltNames: [], ...extra },
});

test('fingerprint', async (t) => {
  const cases = [
    { name: 'same content', a: svc({}), b: svc({}), equal: true },
    { name: 'unset field ignored', a: svc({ waypoint: undefined }), b: svc({}), equal: true },
    { name: 'key order ignored', a: svc({ loadBalancing: { mode: 'STRICT', routingPreference: ['NODE'] } }), b: svc({ loadBalancing: { routingPreference: ['NODE'], mode: 'STRICT' } }), equal: true },
    { name: 'address bytes differ', a: svc({}), b: svc({}, [10, 0, 0, 2]), equal: false },
    { name: 'list order matters', a: svc({ subjectAltNames: ['a', 'b'] }), b: svc({ subjectAltNames: ['b', 'a'] }), equal: false },
  ];
  for (const c of cases) await t.test(c.name, () => assert.equal(fingerprint(c.a) === fingerprint(c.b), c.equal));
});
