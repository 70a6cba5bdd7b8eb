// Rotation timing, backoff and retry decisions (pure).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { backoffMs, MAX_TIMER_MS, retryable, rotationDelayMs } from './schedule.ts';
import { BadCertificateError, CaRequestError } from './errors.ts';

const t0 = Date.parse('2030-01-01T00:00:00Z');
const at = (s: number): Date => new Date(t0 + s * 1000);

describe('rotationDelayMs', () => {
  const cases: [string, Date, Date, number, number][] = [
    ['half of a day from issuance', at(0), at(86_400), t0, 43_200_000],
    ['backdated notBefore counts', at(-60), at(3600), t0, 1_770_000],
    ['later in life: the rest of the half', at(0), at(3600), t0 + 1_000_000, 800_000],
    ['past half-life: soon, not at once', at(0), at(3600), t0 + 3_000_000, 1_000],
    ['a 90-day cert fits setTimeout', at(0), at(90 * 86_400), t0, MAX_TIMER_MS],
  ];
  for (const [name, nb, na, now, want] of cases) it(name, () => assert.equal(rotationDelayMs(nb, na, now), want));
});

describe('backoffMs', () => {
  const b = { initialMs: 200, maxMs: 30_000 };
  const cases: [number, number, number][] = [
    [1, 0, 200], [2, 0, 400], [3, 0, 800], [1, 1, 100], [3, 0.5, 600], [20, 0, 30_000], [20, 1, 15_000],
  ];
  for (const [attempt, random, want] of cases) it(`attempt ${attempt}, random ${random} → ${want}`, () => assert.equal(backoffMs(attempt, b, random), want));
});

describe('retryable', () => {
  const ca = (code: status): CaRequestError => new CaRequestError('x', code, 'y');
  const cases: [string, unknown, boolean][] = [
    ['unavailable', ca(status.UNAVAILABLE), true],
    ['deadline', ca(status.DEADLINE_EXCEEDED), true],
    ['unauthenticated (token may be rotating)', ca(status.UNAUTHENTICATED), true],
    ['internal', ca(status.INTERNAL), true],
    ['permission denied', ca(status.PERMISSION_DENIED), false],
    ['invalid argument', ca(status.INVALID_ARGUMENT), false],
    ['unusable answer', new BadCertificateError('z'), false],
    ['anything else', new Error('boom'), true],
  ];
  for (const [name, err, want] of cases) it(name, () => assert.equal(retryable(err), want));
});
