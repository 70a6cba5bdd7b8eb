// The controller's certificate authority (Istio's CreateCertificate): owns the root of trust (a self-signed root in
// Secret istio-ca-secret, or the plug-in intermediate in Secret cacerts), authenticates callers by TokenReview,
// authorizes identities (own, or node-proxy impersonation for pods on its node), and signs SPIFFE certificates.
import { generateKeyPairSync, createPublicKey, X509Certificate } from 'node:crypto';
import type { KubeClient } from '../../shared/kube/client.ts';
import type * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { logger, type Logger } from '../../shared/log.ts';
import { tokenReviewAuthenticator } from './authn.ts';
import { apiNodeLookup } from './authz.ts';
import { caMetrics } from './metrics.ts';
import { loadOrCreateCa, publishRootCert as publish } from './root.ts';
import { caServiceDefinition, caServiceImplementation, chainFor, leafValidity, type CertPolicy } from './service.ts';
import { parseServiceAccountRef } from './identity.ts';
import { signLeaf } from './x509.ts';

export { CaError } from './errors.ts';
export { ROOT_CONFIGMAP, ROOT_CONFIGMAP_KEY, PLUGGED_SECRET, SELF_SIGNED_SECRET } from './root.ts';
export { CA_PROTO, LOADER_OPTIONS, caServiceDefinition, IMPERSONATED_IDENTITY } from './service.ts';
export type { SpiffeId } from './identity.ts';

export interface CaOptions {
  kube: KubeClient;
  /** Where the CA secrets live (default istio-system; created if missing). */
  namespace?: string;
  trustDomain?: string;
  /** TokenReview audience callers' tokens must carry (default istio-ca). */
  audience?: string;
  /** Node proxy service accounts allowed to impersonate, as ns/name (default ['istio-system/ztunnel']). */
  nodeProxies?: string[];
  defaultTtlSeconds?: number;
  maxTtlSeconds?: number;
  registry?: Registry;
  log?: Logger;
}

export interface ServingCert {
  certPem: string;
  keyPem: string;
  /** Leaf, intermediates, root: what a TLS server presents (the root is harmless at the end). */
  chainPem: string;
  rootCertPem: string;
}

export interface Ca {
  rootCertPem: string;
  source: 'self-signed' | 'plugged';
  /** Add to a grpc.Server: `server.addService(ca.service.definition, ca.service.implementation)`. */
  service: { definition: grpc.ServiceDefinition; implementation: grpc.UntypedServiceImplementation };
  /** A TLS serving certificate (EC P-256, DNS SANs) for the controller's own endpoints. */
  issueServingCert(dnsNames: string[], ttlSeconds?: number): ServingCert;
  /** Create/update ConfigMap istio-ca-root-cert in `namespace`. */
  publishRootCert(namespace: string): Promise<void>;
}

export async function createCa(opts: CaOptions): Promise<Ca> {
  const log = opts.log ?? logger('ca');
  const namespace = opts.namespace ?? 'istio-system';
  const policy: CertPolicy = {
    trustDomain: opts.trustDomain ?? 'cluster.local',
    defaultTtlSeconds: opts.defaultTtlSeconds ?? 24 * 3600,
    maxTtlSeconds: opts.maxTtlSeconds ?? 90 * 24 * 3600,
    nodeProxies: (opts.nodeProxies ?? ['istio-system/ztunnel']).map(parseServiceAccountRef),
  };
  const ca = await loadOrCreateCa(opts.kube, namespace, policy.trustDomain, log);
  const metrics = caMetrics(opts.registry ?? new Registry());
  metrics.rootExpiry.set(Math.floor(new X509Certificate(ca.rootCertPem).validToDate.getTime() / 1000));
  metrics.chainExpiry.set(Math.floor(ca.issuer.notAfter.getTime() / 1000));
  const implementation = caServiceImplementation({
    ca, policy, metrics, log,
    authenticate: tokenReviewAuthenticator(opts.kube, opts.audience ?? 'istio-ca'),
    lookup: apiNodeLookup(opts.kube),
  });
  return {
    rootCertPem: ca.rootCertPem,
    source: ca.source,
    service: { definition: caServiceDefinition(), implementation },
    issueServingCert(dnsNames, ttlSeconds = policy.defaultTtlSeconds) {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
      const leaf = signLeaf(ca.issuer, { spki, dnsNames, ...leafValidity(ttlSeconds, { ...policy, maxTtlSeconds: ttlSeconds }, ca.issuer.notAfter, new Date()) });
      return { certPem: leaf, keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), chainPem: chainFor(leaf, ca).join(''), rootCertPem: ca.rootCertPem };
    },
    publishRootCert: (ns) => publish(opts.kube, ns, ca.rootCertPem),
  };
}
