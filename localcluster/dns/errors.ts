// Error catalogue of the cluster DNS: the codec's errors, which live with the codec in shared/dns/.
export { DnsError, DnsParseError } from '../../shared/dns/errors.ts';
