// Error catalogue of ztunnel's workload identity (CA client and certificate manager).
import { status } from '@grpc/grpc-js';
import { MeshError } from '../errors.ts';

export class IdentityError extends MeshError {}

const HINTS: Partial<Record<status, string>> = {
  [status.UNAUTHENTICATED]: 'is the service account token current and issued for audience istio-ca?',
  [status.PERMISSION_DENIED]: 'does this node run a pod of that service account?',
  [status.UNAVAILABLE]: 'is the controller reachable, and does its certificate match the configured root and server name?',
  [status.DEADLINE_EXCEEDED]: 'is the controller overloaded or unreachable?',
  [status.INVALID_ARGUMENT]: 'the controller refused the request itself; this is a bug in the CSR or ttl sent',
};

/** The CA answered with an error (or could not be reached); `grpcCode` is the gRPC status. */
export class CaRequestError extends IdentityError {
  readonly grpcCode: status;
  constructor(what: string, grpcCode: status, details: string, cause?: unknown) {
    const hint = HINTS[grpcCode];
    super('ZT_CA_REQUEST_FAILED', `${what} failed with ${status[grpcCode] ?? grpcCode}: ${details}${hint ? `; ${hint}` : ''}`, { cause });
    this.grpcCode = grpcCode;
  }
}

/** The CA's answer cannot be used (no chain, a certificate for another identity or another key). */
export class BadCertificateError extends IdentityError {
  constructor(message: string, cause?: unknown) {
    super('ZT_CA_BAD_CERTIFICATE', message, { cause });
  }
}

/** get() gave up: the last attempt's error is the cause. */
export class CertificateUnavailableError extends IdentityError {
  constructor(identity: string, attempts: number, cause: unknown) {
    super('ZT_CERTIFICATE_UNAVAILABLE', `no certificate for ${identity} after ${attempts} attempt(s): ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

export class ManagerClosedError extends IdentityError {
  constructor() {
    super('ZT_CERTIFICATE_MANAGER_CLOSED', 'certificate manager is closed; no certificates are issued during shutdown');
  }
}
