// ztunnel's workload identity: the CA client (CreateCertificate with the node proxy's token, impersonating the
// node's workloads), local key + CSR generation (EC P-256; private keys never leave the node), and the
// CertificateManager that caches, rotates and forgets workload certificates.
export { createCaClient, IMPERSONATED_IDENTITY, type CaClient, type CaClientOptions } from './ca-client.ts';
export { CertificateManager, workloadIdentity, type CertificateManagerOptions, type CertificateDump, type CertificateState, type WorkloadCertificate } from './manager.ts';
export { newWorkloadKey, type WorkloadKey } from './csr.ts';
export { IdentityError, CaRequestError, BadCertificateError, CertificateUnavailableError, ManagerClosedError } from './errors.ts';
