import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { testPki } from './certs.ts';

test('testPki: leaves carry the SPIFFE URI SAN, chain to their own root only, and are cached', () => {
  const a = testPki({ trustDomain: 'td.example' });
  const b = testPki();
  const leaf = a.issue({ ns: 'ns1', sa: 'sa1' });
  assert.equal(leaf.identity, 'spiffe://td.example/ns/ns1/sa/sa1');
  const x = new X509Certificate(leaf.chainPem);
  assert.equal(x.subjectAltName, 'URI:spiffe://td.example/ns/ns1/sa/sa1');
  assert.ok(x.checkIssued(new X509Certificate(a.rootPem)));
  assert.ok(x.verify(new X509Certificate(a.rootPem).publicKey));
  assert.ok(!x.verify(new X509Certificate(b.rootPem).publicKey));
  assert.ok(x.checkPrivateKey(createPrivateKey(leaf.keyPem)));
  assert.equal(a.issue({ ns: 'ns1', sa: 'sa1' }), leaf);
  assert.equal(a.issue('spiffe://td.example/ns/ns1/sa/sa1').chainPem, leaf.chainPem);
  const expired = a.issue({ ns: 'ns1', sa: 'sa1' }, { notBefore: new Date(0), notAfter: new Date(1000) });
  assert.ok(new X509Certificate(expired.chainPem).validToDate.getTime() <= 1000);
});
