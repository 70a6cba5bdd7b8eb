// Error catalogue of the cluster DNS.
import { MeshError } from '../../shared/errors.ts';

export class DnsError extends MeshError {}

/** A message that cannot be decoded. `id` is set when the header was readable (so a FORMERR can be sent). */
export class DnsParseError extends DnsError {
  readonly id: number | undefined;
  constructor(message: string, id?: number) {
    super('DNS_MALFORMED', message);
    this.id = id;
  }
}
