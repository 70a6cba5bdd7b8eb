// Owns policy/'s error catalogue. Conversions never throw to callers: parsing throws
// PolicyInvalidError internally and the converter turns it into `accepted: false` status.

import { MeshError } from '../../shared/errors.ts';

/** A policy resource that fails validation; `field` is the JSON path of the offending value. */
export class PolicyInvalidError extends MeshError {
  readonly field: string;
  constructor(field: string, message: string) {
    super('CTRL_POLICY_INVALID', `${field}: ${message}`);
    this.field = field;
  }
}
