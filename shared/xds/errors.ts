// Errors of shared/xds, the delta ADS client.
import { MeshError } from '../errors.ts';

/** `synced` rejects with this when the client is closed before the first state arrived. */
export class XdsClosedError extends MeshError {
  constructor() {
    super('ZT_XDS_CLOSED', 'xds client closed before the first state arrived from the control plane');
  }
}

/** A response the client cannot apply: it is NACKed (error_detail) and the last good state is kept. */
export class XdsInvalidResponseError extends MeshError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ZT_XDS_INVALID_RESPONSE', message, options);
  }
}
