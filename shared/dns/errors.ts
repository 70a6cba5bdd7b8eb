// Error catalogue of the DNS wire codec (shared by the cluster DNS and the node proxy's DNS proxy).
import { MeshError } from '../errors.ts';

export class DnsError extends MeshError {}

/** A message that cannot be decoded. `id` is set when the header was readable (so a FORMERR can be sent). */
export class DnsParseError extends DnsError {
  readonly id: number | undefined;
  constructor(message: string, id?: number) {
    super('DNS_MALFORMED', message);
    this.id = id;
  }
}
