// The local API server: the Kubernetes REST wire protocol over TLS (client-node and kubectl work unchanged),
// backed by an in-memory store persisted in stateDir. Owns the cluster PKI, service-account tokens, kubeconfig.
//
// Files: kinds.ts (the kind table) · store.ts (objects, rv counter, history, watchers) · rest.ts (verbs, cascades,
// bootstrap objects) · admission.ts (defaults, validation) · http.ts (routing, subresources, reviews) · watch.ts ·
// selectors.ts · patch.ts · table.ts · discovery.ts (+ OpenAPI) · auth.ts · tokens.ts · pki.ts · proto.ts
// (kubectl's protobuf bodies) · wire.ts (bodies, content types) · persist.ts · status.ts (Status errors).
//
// Simplified versus Kubernetes, on purpose:
// - Authorization allows every authenticated user; RBAC objects are stored but not enforced.
// - Deletion is immediate (no graceful pod termination); metadata.finalizers are stored but never block it.
//   Namespaces go Terminating and are removed with their contents after namespaceDeletionDelayMs.
// - Garbage collection deletes a dependent when any owner is deleted (Kubernetes waits for all owners).
// - Strategic merge patch merges lists by a fixed key per field name, not OpenAPI metadata; server-side apply
//   is create-or-strategic-merge (no managedFields, no conflicts, no field removal).
// - fieldValidation is accepted, not enforced (unknown fields are kept); Pod spec immutability is not enforced.
// - Protobuf request bodies only for ConfigMap, Secret, Namespace, ServiceAccount, TokenRequest and reviews.
// - OpenAPI documents carry operations and free-form schemas only (kubectl explain shows no fields).
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { join } from 'node:path';
import { errorMessage, MeshError } from '../../shared/errors.ts';
import { logger as makeLogger, type Logger } from '../../shared/log.ts';
import { makeHandler, type PodLogProvider, type PodLogOptions } from './http.ts';
import { mintToken } from './subresources.ts';
import { loadSnapshot, Persister } from './persist.ts';
import { ensurePki } from './pki.ts';
import { Rest } from './rest.ts';
import { Store } from './store.ts';
import { ensureSigningKey } from './tokens.ts';

export type { PodLogProvider, PodLogOptions };
export { StateError } from './persist.ts';

export class ListenError extends MeshError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('APISERVER_LISTEN', message, options);
  }
}
export { ApiError } from './status.ts';
export { issueClientCert } from './pki.ts';

export interface ApiServerOptions {
  stateDir: string;
  host?: string;
  port?: number;
  serviceCidr?: string;
  extraSans?: string[];
  logger?: Logger;
  /** Interval of BOOKMARK events on watches that allow them (default 15 s). */
  bookmarkIntervalMs?: number;
  /** How long a deleted namespace stays Terminating before it and its contents go (default 1000 ms). */
  namespaceDeletionDelayMs?: number;
  /** Change events kept for watch resumption (default 20000). */
  historyLimit?: number;
}

export interface ApiServer {
  url: string;
  port: number;
  caCertPem: string;
  kubeconfigPath: string;
  attach(server: NetServer): void;
  setPodLogProvider(fn: PodLogProvider): void;
  mintServiceAccountToken(ns: string, sa: string, opts?: { audiences?: string[]; expirationSeconds?: number; pod?: { name: string; uid: string } }): string;
  /**
   * End every open watch. By default the stream ends cleanly (as when an API server restarts or a watch times
   * out: client-node informers reconnect from their resourceVersion); `{ abrupt: true }` resets the connections
   * instead (client-node reports an error and leaves restarting to its owner).
   */
  dropWatches(opts?: { abrupt?: boolean }): void;
  close(): Promise<void>;
}

function kubeconfig(url: string, ca: string, cert: string, key: string): string {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  return [
    'apiVersion: v1', 'kind: Config', 'preferences: {}',
    'clusters:', '- name: localcluster', '  cluster:', `    server: ${url}`, `    certificate-authority-data: ${b64(ca)}`,
    'users:', '- name: admin', '  user:', `    client-certificate-data: ${b64(cert)}`, `    client-key-data: ${b64(key)}`,
    'contexts:', '- name: localcluster', '  context:', '    cluster: localcluster', '    user: admin', '    namespace: default',
    'current-context: localcluster', '',
  ].join('\n');
}

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const log = opts.logger ?? makeLogger('apiserver');
  const host = opts.host ?? '127.0.0.1';
  mkdirSync(opts.stateDir, { recursive: true });
  const pki = ensurePki(opts.stateDir, opts.extraSans ?? []);
  const key = ensureSigningKey(opts.stateDir);
  const store = new Store(opts.historyLimit);
  const snap = loadSnapshot(opts.stateDir);
  if (snap) store.load(snap);
  const rest = new Rest(store, opts.serviceCidr ?? '10.96.0.0/16', log);
  if (opts.namespaceDeletionDelayMs !== undefined) rest.namespaceDeletionDelayMs = opts.namespaceDeletionDelayMs;
  rest.bootstrap();
  const persister = new Persister(opts.stateDir, store, log);
  store.onChange = () => persister.changed();
  store.onWatcherError = (err) => log.error({ err: errorMessage(err) }, 'watch delivery failed; that watch may miss an event');
  persister.changed();

  const watches = new Set<(abrupt?: boolean) => void>();
  let podLogs: PodLogProvider | undefined;
  let address = '';
  const handler = makeHandler({
    rest, key, log, watches, serverAddress: () => address, podLogs: () => podLogs,
    bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 15_000,
  });
  const server: HttpsServer = createServer({
    key: pki.serving.keyPem, cert: pki.serving.certPem, ca: pki.ca.certPem, requestCert: true, rejectUnauthorized: false,
  }, handler);
  server.keepAliveTimeout = 60_000;
  // Every raw connection, own or attached: closeAllConnections() only knows sockets that got as far as an HTTP
  // request, so idle TLS connections would otherwise keep close() waiting forever.
  const sockets = new Set<Socket>();
  server.on('connection', (sock: Socket) => {
    sockets.add(sock);
    sock.once('close', () => sockets.delete(sock));
  });
  server.on('clientError', (err, sock) => { log.debug({ err: err.message }, 'client error'); sock.destroy(); });
  // Listeners the daemon opened elsewhere (e.g. 10.100.0.1:6443 in the fabric netns); they stay the daemon's to close.
  const attached: [NetServer, (sock: Socket) => void][] = [];
  await new Promise<void>((resolve, reject) => {
    const fail = (err: Error): void => {
      reject(new ListenError(`api server cannot listen on ${host}:${opts.port ?? 0} (${err.message}); is another cluster using that port?`, { cause: err }));
    };
    server.once('error', fail);
    server.listen(opts.port ?? 0, host, () => { server.off('error', fail); resolve(); });
  });
  const port = (server.address() as AddressInfo).port;
  address = `${host}:${port}`;
  const url = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const kubeconfigPath = join(opts.stateDir, 'kubeconfig');
  writeFileSync(kubeconfigPath, kubeconfig(url, pki.ca.certPem, pki.admin.certPem, pki.admin.keyPem), { mode: 0o600 });
  log.info({ url, objects: store.resourceVersion }, 'api server listening');

  const dropWatches = (o: { abrupt?: boolean } = {}): void => { for (const end of [...watches]) end(o.abrupt ?? false); };
  return {
    url, port, caCertPem: pki.ca.certPem, kubeconfigPath,
    attach(s: NetServer) {
      const onConnection = (sock: Socket): void => { server.emit('connection', sock); };
      attached.push([s, onConnection]);
      s.on('connection', onConnection);
    },
    setPodLogProvider(fn) { podLogs = fn; },
    mintServiceAccountToken(ns, sa, o = {}) { return mintToken(rest, key, ns, sa, o).token; },
    dropWatches,
    async close() {
      rest.close();
      for (const [s, fn] of attached) s.off('connection', fn);
      dropWatches();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const sock of sockets) sock.destroy();
      });
      persister.flush();
    },
  };
}
