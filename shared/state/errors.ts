// Errors of shared/state: an xDS resource the store refuses (the xDS client NACKs it; the store is unchanged).
import { MeshError } from '../errors.ts';

/** A resource whose name or content is malformed; the whole batch is refused so the last good state stays. */
export class InvalidResourceError extends MeshError {
  constructor(message: string) {
    super('ZT_XDS_INVALID_RESOURCE', message);
  }
}
