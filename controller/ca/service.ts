// The gRPC face of the CA: istio.v1.auth.IstioCertificateService/CreateCertificate.
// authenticate (TokenReview) → parse + verify the CSR → authorize the identity → sign a SPIFFE leaf → chain.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { CaError } from './errors.ts';
import { parseCsrPem } from './csr.ts';
import { authorize, type NodeLookup } from './authz.ts';
import { signLeaf } from './x509.ts';
import type { Authenticator } from './authn.ts';
import type { CaMaterial } from './root.ts';
import type { CaMetrics } from './metrics.ts';
import type { ServiceAccountRef } from './identity.ts';
import type { Logger } from '../../shared/log.ts';

export const CA_PROTO = fileURLToPath(new URL('../../shared/proto/ca.proto', import.meta.url));
export const IMPERSONATED_IDENTITY = 'ImpersonatedIdentity';

/** Decoded request, as @grpc/proto-loader yields it with the options below. */
export interface IstioCertificateRequest {
  csr: string;
  validityDuration: number;
  metadata?: { fields?: Record<string, { stringValue?: string; kind?: string }> } | null;
}
export interface IstioCertificateResponse {
  certChain: string[];
}

export const LOADER_OPTIONS: protoLoader.Options = { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true };

/** The loaded service definition (also used by tests to build clients). */
export function caServiceDefinition(): grpc.ServiceDefinition {
  const def = protoLoader.loadSync(CA_PROTO, LOADER_OPTIONS);
  const pkg = grpc.loadPackageDefinition(def) as any;
  return pkg.istio.v1.auth.IstioCertificateService.service as grpc.ServiceDefinition;
}

export interface CertPolicy {
  trustDomain: string;
  /** Lifetime when the request asks for none (seconds). */
  defaultTtlSeconds: number;
  /** Longest lifetime granted (seconds); longer requests are capped. */
  maxTtlSeconds: number;
  nodeProxies: ServiceAccountRef[];
}

/** notBefore a minute back (clock skew), notAfter = requested (or default) TTL, capped by policy and the issuer. */
export function leafValidity(requestedSeconds: number, policy: CertPolicy, issuerNotAfter: Date, now: Date): { notBefore: Date; notAfter: Date } {
  const ttl = requestedSeconds > 0 ? Math.min(requestedSeconds, policy.maxTtlSeconds) : policy.defaultTtlSeconds;
  const notAfter = Math.min(now.getTime() + ttl * 1000, issuerNotAfter.getTime());
  return { notBefore: new Date(now.getTime() - 60_000), notAfter: new Date(notAfter) };
}

export function chainFor(leafPem: string, ca: CaMaterial): string[] {
  return [leafPem, ...ca.intermediates, ca.rootCertPem];
}

export interface CaServiceDeps {
  ca: CaMaterial;
  policy: CertPolicy;
  authenticate: Authenticator;
  lookup: NodeLookup;
  metrics: CaMetrics;
  log: Logger;
  now?: () => Date;
}

export function caServiceImplementation(deps: CaServiceDeps): grpc.UntypedServiceImplementation {
  const { ca, policy, metrics, log } = deps;
  const now = deps.now ?? (() => new Date());

  async function create(call: grpc.ServerUnaryCall<IstioCertificateRequest, IstioCertificateResponse>): Promise<IstioCertificateResponse> {
    metrics.csr.inc();
    let caller;
    try {
      caller = await deps.authenticate(call.metadata);
    } catch (err) {
      metrics.authnFailure.inc();
      throw err;
    }
    const req = call.request;
    let csr;
    try {
      csr = parseCsrPem(req.csr ?? '');
    } catch (err) {
      metrics.csrParsingErr.inc();
      throw err;
    }
    const requested = req.metadata?.fields?.[IMPERSONATED_IDENTITY]?.stringValue || undefined;
    const identity = await authorize(caller, requested, policy.trustDomain, policy.nodeProxies, deps.lookup);
    const validity = leafValidity(Number(req.validityDuration ?? 0), policy, ca.issuer.notAfter, now());
    let leaf: string;
    try {
      leaf = signLeaf(ca.issuer, { spki: csr.spki, uris: [identity], ...validity });
    } catch (err) {
      metrics.csrSignErr.inc({ error: 'sign' });
      throw err;
    }
    metrics.success.inc();
    log.info({ identity, caller: `${caller.namespace}/${caller.serviceAccount}`, notAfter: validity.notAfter.toISOString() }, 'issued workload certificate');
    return { certChain: chainFor(leaf, ca) };
  }

  return {
    CreateCertificate(call: grpc.ServerUnaryCall<IstioCertificateRequest, IstioCertificateResponse>, callback: grpc.sendUnaryData<IstioCertificateResponse>) {
      create(call).then((res) => callback(null, res), (err: unknown) => {
        if (err instanceof CaError) {
          log.warn({ code: err.code, err: err.message }, 'certificate request refused');
          callback({ code: err.grpcCode, details: err.message });
        } else {
          log.error({ err }, 'certificate request failed');
          callback({ code: grpc.status.INTERNAL, details: `certificate request failed: ${(err as Error).message}` });
        }
      });
    },
  };
}
