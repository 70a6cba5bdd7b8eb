// Error catalogue of the delta ADS server.
import { MeshError } from '../../shared/errors.ts';

export class XdsUnauthenticatedError extends MeshError {
  constructor(reason: string, options?: { cause?: unknown }) {
    super('CTRL_XDS_UNAUTHENTICATED', `xds stream rejected: ${reason}; present a valid mesh client certificate or token`, options);
  }
}

