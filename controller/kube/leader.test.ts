import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideLease } from './leader.ts';

const now = Date.parse('2026-01-01T00:01:00Z');
const lease = (holder: string | undefined, renewedSecondsAgo: number) => ({
  spec: { holderIdentity: holder, leaseDurationSeconds: 15, renewTime: new Date(now - renewedSecondsAgo * 1000).toISOString() as never },
});

const cases: Array<[string, ReturnType<typeof lease> | undefined, string]> = [
  ['no lease yet', undefined, 'create'],
  ['we hold it', lease('me', 5), 'renew'],
  ['we hold it even if late', lease('me', 60), 'renew'],
  ['another holder, fresh', lease('other', 5), 'follow'],
  ['another holder, expired', lease('other', 16), 'takeover'],
  ['released (no holder)', lease(undefined, 1), 'takeover'],
];
for (const [name, l, want] of cases) {
  test(`lease: ${name} → ${want}`, () => assert.equal(decideLease(l as never, 'me', now), want));
}
