// The CA's error catalogue. Each error carries the gRPC status the CreateCertificate handler answers with.
import { status } from '@grpc/grpc-js';
import { MeshError } from '../../shared/errors.ts';

export class CaError extends MeshError {
  readonly grpcCode: status;
  constructor(code: string, grpcCode: status, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.grpcCode = grpcCode;
  }
}

/** No, malformed, expired or rejected bearer token. */
export const unauthenticated = (message: string, cause?: unknown): CaError =>
  new CaError('CTRL_CA_UNAUTHENTICATED', status.UNAUTHENTICATED, message, { cause });
/** The caller is authenticated but may not have the identity it asks for. */
export const permissionDenied = (message: string): CaError =>
  new CaError('CTRL_CA_PERMISSION_DENIED', status.PERMISSION_DENIED, message);
/** The CSR (or another request field) cannot be used. */
export const invalidCsr = (message: string, cause?: unknown): CaError =>
  new CaError('CTRL_CA_INVALID_CSR', status.INVALID_ARGUMENT, message, { cause });
/** The Kubernetes API could not be asked (TokenReview, pod lookups). */
export const apiUnavailable = (message: string, cause?: unknown): CaError =>
  new CaError('CTRL_CA_API_UNAVAILABLE', status.UNAVAILABLE, message, { cause });
/** Bad CA material at startup (unparsable or mismatched cacerts); crash early. */
export const badCaMaterial = (message: string, cause?: unknown): CaError =>
  new CaError('CTRL_CA_BAD_MATERIAL', status.INTERNAL, message, { cause });
