// Pure timing and retry decisions of the certificate manager (table-tested in schedule.test.ts).
import { status } from '@grpc/grpc-js';
import { BadCertificateError, CaRequestError } from './errors.ts';

/** setTimeout's largest delay; longer ones fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/** Never rotate sooner than this after issuance, so a CA granting tiny lifetimes cannot make us spin. */
export const MIN_ROTATION_DELAY_MS = 1_000;

/** Milliseconds from `nowMs` until a certificate should be replaced: at half its lifetime (as Istio does). */
export function rotationDelayMs(notBefore: Date, notAfter: Date, nowMs: number): number {
  const half = notBefore.getTime() + (notAfter.getTime() - notBefore.getTime()) / 2;
  return Math.min(MAX_TIMER_MS, Math.max(MIN_ROTATION_DELAY_MS, Math.round(half - nowMs)));
}

export interface Backoff {
  /** First retry delay (ms). */
  initialMs: number;
  /** Longest delay (ms). */
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 200, maxMs: 30_000 };

/** Delay before retry number `attempt` (1 = after the first failure): doubling, capped, jittered down by up to half. */
export function backoffMs(attempt: number, b: Backoff, random: number): number {
  const ceiling = Math.min(b.maxMs, b.initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling * (1 - random / 2));
}

/** Is another attempt worth it? Refusals about the request itself (identity not allowed, bad CSR, unusable answer) are not. */
export function retryable(err: unknown): boolean {
  if (err instanceof BadCertificateError) return false;
  if (err instanceof CaRequestError) return err.grpcCode !== status.PERMISSION_DENIED && err.grpcCode !== status.INVALID_ARGUMENT;
  return true;
}
