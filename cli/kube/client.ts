// The CLI's connection to a cluster: which kubeconfig, raw requests (for server-side Tables and
// log streams), and readable errors from Kubernetes Status bodies. TLS and credentials always come
// from @kubernetes/client-node's KubeConfig, so a real cluster and the local one share one path.
import { KubeConfig } from '@kubernetes/client-node';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { existsSync } from 'node:fs';
import { MeshError } from '../../shared/errors.ts';

export class KubeError extends MeshError {
  readonly status: number;
  readonly reason: string | undefined;
  constructor(status: number, message: string, reason?: string) {
    super('MESHCTL_KUBE_API', message);
    this.status = status;
    this.reason = reason;
  }
}

/** --kubeconfig, else $KUBECONFIG, else the local cluster's kubeconfig when it exists, else ~/.kube/config. */
export function loadKubeConfig(explicit: string | undefined, localClusterKubeconfig: string): KubeConfig {
  const kc = new KubeConfig();
  // An empty $KUBECONFIG counts as unset, as it does for kubectl.
  const path = explicit || process.env.KUBECONFIG || (existsSync(localClusterKubeconfig) ? localClusterKubeconfig : undefined);
  if (path) {
    if (!existsSync(path)) throw new MeshError('MESHCTL_NO_KUBECONFIG', `kubeconfig ${path} does not exist`);
    kc.loadFromFile(path);
  } else {
    kc.loadFromDefault();
  }
  if (!kc.getCurrentCluster()) {
    throw new MeshError('MESHCTL_NO_CLUSTER', 'no cluster to talk to; start the local one with `meshctl up` or pass --kubeconfig');
  }
  return kc;
}

export interface RawResponse {
  status: number;
  body: string;
  json<T = any>(): T;
}

export interface RawOptions {
  body?: unknown;
  contentType?: string;
  accept?: string;
}

/** Open a request and return the response stream (for follow-mode logs). */
export async function openStream(kc: KubeConfig, method: string, path: string, opts: RawOptions = {}): Promise<IncomingMessage> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new MeshError('MESHCTL_NO_CLUSTER', 'the kubeconfig has no current cluster');
  const url = new URL(path, cluster.server);
  const options: RequestOptions = { method, headers: { accept: opts.accept ?? 'application/json' } };
  await kc.applyToHTTPSOptions(options);
  const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  if (body !== undefined) {
    options.headers = { ...options.headers, 'content-type': opts.contentType ?? 'application/json', 'content-length': Buffer.byteLength(body) };
  }
  const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options);
  return await new Promise<IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', (err) => reject(new MeshError('MESHCTL_UNREACHABLE', `cannot reach the API server at ${cluster.server}: ${err.message}; is the cluster up (meshctl status)?`, { cause: err })));
    req.end(body);
  });
}

export async function raw(kc: KubeConfig, method: string, path: string, opts: RawOptions = {}): Promise<RawResponse> {
  const res = await openStream(kc, method, path, opts);
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  const status = res.statusCode ?? 0;
  return { status, body: text, json: () => JSON.parse(text) };
}

/** Raw request that throws a KubeError carrying the Status message on any non-2xx answer. */
export async function call(kc: KubeConfig, method: string, path: string, opts: RawOptions = {}): Promise<any> {
  const r = await raw(kc, method, path, opts);
  if (r.status < 200 || r.status >= 300) throw statusError(r.status, r.body);
  return r.body === '' ? undefined : r.json();
}

export function statusError(status: number, body: string): KubeError {
  try {
    const s = JSON.parse(body) as { message?: string; reason?: string };
    if (s && typeof s.message === 'string') return new KubeError(status, s.message, s.reason);
  } catch {}
  return new KubeError(status, `the API server answered ${status}: ${body.slice(0, 200)}`);
}
