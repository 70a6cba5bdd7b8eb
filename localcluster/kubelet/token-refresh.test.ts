// Token refresh timing: tokens are reused until 80% of their life, then reissued; the loop wakes in time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextDelayMs, refreshAtMs, TokenCache } from './token-refresh.ts';

test('refreshAtMs is 80% into the lifetime', () => {
  assert.equal(refreshAtMs(0, 1000_000), 800_000);
  assert.equal(refreshAtMs(5000, 5000 + 3600_000), 5000 + 2880_000);
  assert.equal(refreshAtMs(10, 5), 10, 'an already expired token is due at once');
});

test('nextDelayMs: poll period unless a token is due sooner', () => {
  const cases: [number, number, number | undefined, number][] = [
    [0, 5000, undefined, 5000], [0, 5000, 10_000, 5000], [0, 5000, 1200, 1200], [1000, 5000, 500, 0],
  ];
  for (const [now, poll, due, want] of cases) assert.equal(nextDelayMs(now, poll, due), want, JSON.stringify({ now, poll, due }));
});

test('TokenCache reissues at 80% of the lifetime and when the spec changes (mock timers)', async (t) => {
  t.mock.timers.enable({ apis: ['Date', 'setTimeout'], now: 1_000_000 });
  let issued = 0;
  const cache = new TokenCache(async (spec) => ({ token: `t${++issued}:${spec.audience ?? 'default'}`, expiresAtMs: Date.now() + spec.expirationSeconds * 1000 }));
  const spec = { audience: 'istio-ca', expirationSeconds: 1000 };
  assert.equal(await cache.get('v/token', spec), 't1:istio-ca');
  assert.equal(cache.nextRefreshAt(), 1_000_000 + 800_000);
  t.mock.timers.tick(799_999);
  assert.equal(await cache.get('v/token', spec), 't1:istio-ca', 'still fresh just before 80%');
  t.mock.timers.tick(1);
  assert.equal(await cache.get('v/token', spec), 't2:istio-ca', 'reissued at 80%');
  assert.equal(cache.nextRefreshAt(), 1_800_000 + 800_000);
  assert.equal(await cache.get('v/token', { expirationSeconds: 1000 }), 't3:default', 'audience changed');
  assert.equal(await cache.get('other', spec), 't4:istio-ca', 'keys are separate');
});
