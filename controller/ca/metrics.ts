// CA metrics with istiod's names (citadel_server_*), registered on the caller's prom-client Registry. Creating the
// CA twice on one registry reuses the existing metrics instead of throwing "already registered".
import { Counter, Gauge, type Registry } from 'prom-client';

export interface CaMetrics {
  csr: Counter;
  authnFailure: Counter;
  csrParsingErr: Counter;
  idExtractionErr: Counter;
  csrSignErr: Counter<'error'>;
  success: Counter;
  rootExpiry: Gauge;
  chainExpiry: Gauge;
}

export function caMetrics(registry: Registry): CaMetrics {
  const registers = [registry];
  const counter = <L extends string = string>(name: string, help: string, labelNames: L[] = []): Counter<L> =>
    (registry.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter<L>({ name, help, labelNames, registers });
  const gauge = (name: string, help: string): Gauge =>
    (registry.getSingleMetric(name) as Gauge | undefined) ?? new Gauge({ name, help, registers });
  return {
    csr: counter('citadel_server_csr_count', 'The number of CSRs received by Citadel server.'),
    authnFailure: counter('citadel_server_authentication_failure_count', 'The number of authentication failures.'),
    csrParsingErr: counter('citadel_server_csr_parsing_err_count', 'The number of errors occurred when parsing the CSR.'),
    idExtractionErr: counter('citadel_server_id_extraction_err_count', 'The number of errors occurred when extracting the ID from CSR.'),
    csrSignErr: counter('citadel_server_csr_sign_err_count', 'The number of errors occurred when signing the CSR.', ['error']),
    success: counter('citadel_server_success_cert_issuance_count', 'The number of certificates issuances that have succeeded.'),
    rootExpiry: gauge('citadel_server_root_cert_expiry_timestamp', 'The unix timestamp, in seconds, when Citadel root cert will expire.'),
    chainExpiry: gauge('citadel_server_cert_chain_expiry_timestamp', 'The unix timestamp, in seconds, when Citadel cert chain will expire.'),
  };
}
