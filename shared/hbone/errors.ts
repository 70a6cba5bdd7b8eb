// HBONE's error catalogue: tunnel refused by the peer, TLS or identity failures, splice failures.
import { MeshError } from '../errors.ts';

/** The peer answered the CONNECT with a status other than 200. */
export class HboneRejectedError extends MeshError {
  readonly status: number;
  constructor(authority: string, status: number) {
    super('ZT_HBONE_REJECTED', `hbone connect to ${authority} was refused with status ${status}${hint(status)}`);
    this.status = status;
  }
}

function hint(status: number): string {
  if (status === 401 || status === 403) return '; does an authorization policy deny this identity?';
  if (status === 503) return '; is the destination workload listening on that port?';
  return '';
}

/** The TLS handshake failed or the peer is not who the route said it must be. */
export class HboneTlsError extends MeshError {
  constructor(message: string, cause?: unknown) {
    super('ZT_HBONE_TLS', message, { cause });
  }
}

/** The tunnel's connection failed for a reason other than TLS (dial, reset, GOAWAY before the response). */
export class HboneConnectError extends MeshError {
  constructor(message: string, cause?: unknown) {
    super('ZT_HBONE_CONNECT', message, { cause });
  }
}

/**
 * The peer reset the stream with REFUSED_STREAM: it did not process it (RFC 9113 §8.7), typically because the
 * stream crossed the peer's GOAWAY. Safe to send again on another connection; the pool does so itself.
 */
export class HboneStreamRefusedError extends HboneConnectError {}

export class HbonePoolClosedError extends MeshError {
  constructor() {
    super('ZT_HBONE_POOL_CLOSED', 'hbone pool is closed; the proxy is shutting down');
  }
}

/** One side of a splice failed; both were destroyed. Carries the bytes moved before the failure. */
export class SpliceError extends MeshError {
  readonly aToB: number;
  readonly bToA: number;
  constructor(aToB: number, bToA: number, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super('ZT_CONNECTION_FAILED', `connection failed after ${aToB} bytes out and ${bToA} bytes back: ${why}`, { cause });
    this.aToB = aToB;
    this.bToA = bToA;
  }
}
