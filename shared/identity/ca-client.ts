// Client of the controller's CA: istio.v1.auth.IstioCertificateService/CreateCertificate over TLS (verified against
// the mesh root and the controller's server name), authenticated with ztunnel's service account token, read
// fresh for every call because the kubelet rotates it.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { CaRequestError } from './errors.ts';
import type { SpiffeId } from '../spiffe.ts';

const CA_PROTO = fileURLToPath(new URL('../../shared/proto/ca.proto', import.meta.url));
/** The request metadata field Istio's CA reads the impersonated identity from. */
export const IMPERSONATED_IDENTITY = 'ImpersonatedIdentity';
const CALL_TIMEOUT_MS = 10_000;

export interface CaClientOptions {
  /** `host:port` of the controller's gRPC (xDS + CA) port. */
  address: string;
  /** Name the controller's TLS certificate must carry (e.g. istiod.istio-system.svc). */
  servername: string;
  rootCaPem: string;
  /** The current bearer token; called for every request. */
  token: () => string;
  /** Per-request deadline (default 10 s). */
  timeoutMs?: number;
}

export interface CaClient {
  /** Chain PEMs, leaf first, root last. Rejects with CaRequestError (carrying the gRPC status). */
  createCertificate(csrPem: string, ttlSeconds: number, impersonate?: SpiffeId): Promise<string[]>;
  close(): void;
}

interface Response { certChain?: string[] }

let definition: grpc.ServiceDefinition | undefined;
function serviceDefinition(): grpc.ServiceDefinition {
  if (!definition) {
    const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(CA_PROTO, { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true })) as any;
    definition = pkg.istio.v1.auth.IstioCertificateService.service as grpc.ServiceDefinition;
  }
  return definition;
}

export function createCaClient(o: CaClientOptions): CaClient {
  const Client = grpc.makeGenericClientConstructor(serviceDefinition(), 'IstioCertificateService');
  const client = new Client(o.address, grpc.credentials.createSsl(Buffer.from(o.rootCaPem)), {
    'grpc.ssl_target_name_override': o.servername,
    'grpc.default_authority': o.servername,
    // grpc-js backs a failed channel off up to 2 minutes by default; after a control-plane outage new pods would
    // wait that long for a certificate.
    'grpc.initial_reconnect_backoff_ms': 500,
    'grpc.max_reconnect_backoff_ms': 5000,
  }) as unknown as grpc.Client & { CreateCertificate: (req: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Response) => void) => void };
  return {
    createCertificate(csrPem, ttlSeconds, impersonate) {
      const what = `certificate request${impersonate ? ` for ${impersonate}` : ''} to ${o.address}`;
      let token: string;
      try {
        token = o.token();
      } catch (err) {
        return Promise.reject(new CaRequestError(what, grpc.status.UNAUTHENTICATED, `cannot read the service account token: ${(err as Error).message}`, err));
      }
      const md = new grpc.Metadata();
      md.set('authorization', `Bearer ${token.trim()}`);
      const req = {
        csr: csrPem,
        validityDuration: ttlSeconds,
        ...(impersonate ? { metadata: { fields: { [IMPERSONATED_IDENTITY]: { stringValue: impersonate } } } } : {}),
      };
      return new Promise((resolve, reject) => {
        client.CreateCertificate(req, md, { deadline: Date.now() + (o.timeoutMs ?? CALL_TIMEOUT_MS) }, (err, res) => {
          if (err) return reject(new CaRequestError(what, err.code, err.details || err.message, err));
          const chain = res?.certChain ?? [];
          if (chain.length === 0) return reject(new CaRequestError(what, grpc.status.INTERNAL, 'the response holds no certificate chain'));
          resolve(chain);
        });
      });
    },
    close: () => client.close(),
  };
}
