import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateServiceEntry, validateWorkloadEntry } from './validate.ts';

const good = { hosts: ['api.example.com'], addresses: ['240.0.0.1', '10.0.0.0/24'], ports: [{ number: 443, name: 'https', protocol: 'TLS' }], location: 'MESH_EXTERNAL', resolution: 'STATIC', endpoints: [{ address: '10.0.0.5' }] };

const seCases: Array<[string, unknown, RegExp | null]> = [
  ['a valid entry', good, null],
  ['no hosts', { ...good, hosts: [] }, /spec.hosts must list at least one host/],
  ['a bad host', { ...good, hosts: ['not a host'] }, /invalid host "not a host"/],
  ['wrong type for hosts', { ...good, hosts: 'api.example.com' }, /spec.hosts must list/],
  ['a bad address', { ...good, addresses: ['300.1.1.1'] }, /not an IP or CIDR/],
  ['a bad CIDR length', { ...good, addresses: ['10.0.0.0/40'] }, /not an IP or CIDR/],
  ['a port out of range', { ...good, ports: [{ number: 70000, name: 'x' }] }, /ports\[0\].number must be a port number/],
  ['a port given as a string', { ...good, ports: [{ number: '443', name: 'x' }] }, /ports\[0\].number/],
  ['an unknown protocol', { ...good, ports: [{ number: 80, protocol: 'SMTPS' }] }, /protocol must be one of/],
  ['an unknown location', { ...good, location: 'OUTSIDE' }, /spec.location must be one of MESH_EXTERNAL, MESH_INTERNAL/],
  ['an unknown resolution', { ...good, resolution: 'MAGIC' }, /spec.resolution must be one of/],
  ['a bad selector key', { ...good, workloadSelector: { labels: { 'bad key!': 'x' } } }, /invalid label key "bad key!"/],
  ['a bad endpoint address', { ...good, endpoints: [{ address: '10.0.0.5:80' }] }, /endpoints\[0\].address/],
  ['not an object', 'x', /spec must be an object/],
];
for (const [name, spec, want] of seCases) {
  test(`ServiceEntry: ${name}`, () => {
    const v = validateServiceEntry(spec);
    if (want === null) assert.deepEqual(v, { accepted: true, reason: 'Accepted', message: 'accepted by the controller' });
    else {
      assert.equal(v.accepted, false);
      assert.equal(v.reason, 'Invalid');
      assert.match(v.message, want);
    }
  });
}

const weCases: Array<[string, unknown, RegExp | null]> = [
  ['a valid entry', { address: '10.1.2.3', ports: { http: 8080 }, labels: { app: 'vm' }, serviceAccount: 'vm' }, null],
  ['a DNS address', { address: 'vm1.example.com' }, null],
  ['no address', { labels: { app: 'vm' } }, /spec.address is required/],
  ['a bad port', { address: '10.1.2.3', ports: { http: 0 } }, /spec.ports.http must be a port number/],
  ['a non-string label', { address: '10.1.2.3', labels: { app: 3 } }, /spec.labels.app must be a string/],
];
for (const [name, spec, want] of weCases) {
  test(`WorkloadEntry: ${name}`, () => {
    const v = validateWorkloadEntry(spec);
    if (want === null) assert.equal(v.accepted, true, v.message);
    else {
      assert.equal(v.accepted, false);
      assert.match(v.message, want);
    }
  });
}
