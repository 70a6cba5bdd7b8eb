// Failures as Kubernetes metav1.Status: the ApiError class every handler throws, and the Status body it becomes.
import { MeshError } from '../../shared/errors.ts';

export type Reason =
  | 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Invalid' | 'BadRequest' | 'MethodNotAllowed'
  | 'Unauthorized' | 'Forbidden' | 'Gone' | 'UnsupportedMediaType' | 'NotAcceptable' | 'InternalError' | 'Expired';

export interface Cause { reason?: string; message: string; field?: string }
export interface Details { name?: string; group?: string; kind?: string; causes?: Cause[] }

const CODES: Record<Reason, number> = {
  NotFound: 404, AlreadyExists: 409, Conflict: 409, Invalid: 422, BadRequest: 400, MethodNotAllowed: 405,
  Unauthorized: 401, Forbidden: 403, Gone: 410, Expired: 410, UnsupportedMediaType: 415, NotAcceptable: 406,
  InternalError: 500,
};

/** An error that the HTTP layer turns into a Status response with `httpCode`. */
export class ApiError extends MeshError {
  readonly reason: Reason;
  readonly httpCode: number;
  readonly details: Details | undefined;
  constructor(reason: Reason, message: string, details?: Details, options?: { cause?: unknown }) {
    super(`APISERVER_${reason.toUpperCase()}`, message, options);
    this.reason = reason;
    this.httpCode = CODES[reason];
    this.details = details;
  }
}

export function statusBody(err: ApiError): Record<string, unknown> {
  const body: Record<string, unknown> = {
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
    message: err.message, reason: err.reason, code: err.httpCode,
  };
  if (err.details) body.details = err.details;
  return body;
}

export function successStatus(details?: Details): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', ...(details ? { details } : {}) };
}

export const notFound = (resource: string, name: string, group: string): ApiError =>
  new ApiError('NotFound', `${resource}${group ? '.' + group : ''} "${name}" not found`, { name, group, kind: resource });

export const invalid = (kind: string, name: string, group: string, causes: Cause[]): ApiError =>
  new ApiError('Invalid',
    `${kind}${group ? '.' + group : ''} "${name}" is invalid: ${causes.map((c) => (c.field ? `${c.field}: ` : '') + c.message).join(', ')}`,
    { name, group, kind, causes });

export const badRequest = (message: string): ApiError => new ApiError('BadRequest', message);
