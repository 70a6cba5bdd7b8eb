// The CA client's failure paths (the happy path runs against the real controller in test/ztunnel/identity-ca.test.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { createCaClient } from './ca-client.ts';
import { CaRequestError } from './errors.ts';
import { freePort } from '../../test/support/ports.ts';
import { fakeCa } from './testing.ts';

const isCa = (code: status, msg: RegExp) => (err: unknown): boolean => {
  assert.ok(err instanceof CaRequestError, String(err));
  assert.equal(err.code, 'ZT_CA_REQUEST_FAILED');
  assert.equal(err.grpcCode, code);
  assert.match(err.message, msg);
  return true;
};

describe('createCaClient', () => {
  const rootCaPem = fakeCa().rootPem;

  it('reports an unreadable token as UNAUTHENTICATED without calling the CA', async () => {
    const ca = createCaClient({ address: '127.0.0.1:1', servername: 'istiod.istio-system.svc', rootCaPem, token: () => { throw new Error('ENOENT: token file'); } });
    try {
      await assert.rejects(ca.createCertificate('csr', 60), isCa(status.UNAUTHENTICATED, /cannot read the service account token: ENOENT/));
    } finally {
      ca.close();
    }
  });

  it('reports an unreachable controller as UNAVAILABLE with a hint', { timeout: 15_000 }, async () => {
    const port = await freePort();
    const ca = createCaClient({ address: `127.0.0.1:${port}`, servername: 'istiod.istio-system.svc', rootCaPem, token: () => 't', timeoutMs: 3_000 });
    try {
      await assert.rejects(ca.createCertificate('csr', 60), isCa(status.UNAVAILABLE, /is the controller reachable/));
    } finally {
      ca.close();
    }
  });
});
