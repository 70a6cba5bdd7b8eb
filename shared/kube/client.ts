// A thin Kubernetes REST client over node:https: the verbs the mesh uses (get, list, create, replace, patch,
// delete, watch) on plain JSON objects. Why not @kubernetes/client-node at runtime: importing it costs ~85 MB RSS
// (thousands of generated model modules); the binaries must stay small. Its types may still be imported with
// `import type`. Credentials: client certificate, static token, a token file re-read when it rotates, or an exec
// credential plugin (ExecCredential, cached until its expiry). A 401 drops cached dynamic credentials and retries once.
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { MeshError } from '../errors.ts';
import { loadKubeTarget, type KubeTarget } from './kubeconfig.ts';

export type Query = Record<string, string | number | boolean | undefined>;
export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
export interface RequestOptions {
  /** No whole answer within this long: KUBE_UNREACHABLE. Default 30 s. */
  timeoutMs?: number;
  /** Abandon the request when this aborts: it rejects with KUBE_ABORTED (an informer being stopped, say). */
  signal?: AbortSignal;
}

export interface ListResult<T> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  // JSON is YAML, so the body is sent as JSON under the apply content type.
  apply: 'application/apply-patch+yaml',
};

const REQUEST_TIMEOUT_MS = 30_000;
const TOKEN_FILE_MAX_AGE_MS = 60_000;
const EXEC_TIMEOUT_MS = 60_000;
// A watch that asked the server to end after timeoutSeconds is abandoned this long after, in case the server is gone.
const WATCH_GRACE_MS = 30_000;

const CODES: Record<number, string> = {
  401: 'KUBE_UNAUTHORIZED', 403: 'KUBE_FORBIDDEN', 404: 'KUBE_NOT_FOUND', 409: 'KUBE_CONFLICT', 410: 'KUBE_GONE', 422: 'KUBE_INVALID',
};

export class KubeApiError extends MeshError {
  /** HTTP status (or a watch ERROR event's Status code); 0 when the API server could not be reached. */
  readonly statusCode: number;
  /** The Status `reason` (NotFound, AlreadyExists, Conflict, Expired, ...), when the server sent one. */
  readonly reason?: string;
  constructor(code: string, message: string, o: { statusCode: number; reason?: string; cause?: unknown }) {
    super(code, message, o.cause === undefined ? undefined : { cause: o.cause });
    this.statusCode = o.statusCode;
    if (o.reason !== undefined) this.reason = o.reason;
  }

  /** From an error status and its (Status) body. */
  static fromStatus(method: string, path: string, statusCode: number, body: unknown): KubeApiError {
    const s = (body && typeof body === 'object' ? body : {}) as { message?: string; reason?: string };
    const text = s.message ?? (typeof body === 'string' && body ? body.slice(0, 300) : http.STATUS_CODES[statusCode] ?? 'error');
    const reason = s.reason ? ` ${s.reason}` : '';
    return new KubeApiError(CODES[statusCode] ?? 'KUBE_API_ERROR', `${method} ${path}: ${statusCode}${reason}: ${text}`,
      s.reason ? { statusCode, reason: s.reason } : { statusCode });
  }
}

/** The caller's signal (RequestOptions.signal) aborted the request: nothing went wrong with the API server. */
export class KubeAbortedError extends KubeApiError {
  constructor(method: string, path: string) {
    super('KUBE_ABORTED', `${method} ${path}: abandoned by the caller (it is stopping)`, { statusCode: 0 });
  }
}

export const isNotFound = (err: unknown): boolean => err instanceof KubeApiError && err.statusCode === 404;
export const isConflict = (err: unknown): boolean => err instanceof KubeApiError && err.statusCode === 409;
export const isGone = (err: unknown): boolean => err instanceof KubeApiError && err.statusCode === 410;

export function encodeQuery(q: Query | undefined): string {
  if (!q) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue;
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

interface Credentials { token?: string; cert?: Buffer; key?: Buffer }
interface ExecCredentialStatus { token?: string; clientCertificateData?: string; clientKeyData?: string; expirationTimestamp?: string }

export class KubeClient {
  readonly target: KubeTarget;
  private readonly url: URL;
  private readonly secure: boolean;
  private agent: http.Agent;
  // Agents replaced after an exec plugin rotated the client certificate; destroyed by close().
  private readonly retired: http.Agent[] = [];
  private agentCert?: Buffer;
  private tokenFileCache?: { token: string; mtimeMs: number; readAt: number };
  private execCache?: { creds: Credentials; expiresAt: number };
  private execRunning?: Promise<Credentials>;

  /** From `kubeconfig` when given, else $KUBECONFIG, the in-cluster service account, then ~/.kube/config. */
  static async load(o: { kubeconfig?: string | undefined } = {}): Promise<KubeClient> {
    return new KubeClient(await loadKubeTarget(o));
  }

  constructor(target: KubeTarget) {
    this.target = target;
    this.url = new URL(target.server);
    this.secure = this.url.protocol === 'https:';
    this.agent = this.makeAgent(target.cert, target.key);
  }

  /** Close idle keep-alive connections (and any open watches). */
  close(): void {
    this.agent.destroy();
    for (const a of this.retired) a.destroy();
    this.retired.length = 0;
  }

  /** `timeoutMs`: give up (KUBE_UNREACHABLE) when no whole answer came within it; default 30 s. */
  get<T>(path: string, query?: Query, o: RequestOptions = {}): Promise<T> {
    return this.request<T>('GET', path, query, undefined, undefined, o);
  }

  /** GET, with a 404 answered as undefined (any other failure still rejects). */
  async find<T>(path: string, query?: Query, o: RequestOptions = {}): Promise<T | undefined> {
    try {
      return await this.get<T>(path, query, o);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** List; with `limit` in the query, follows `continue` until every page is in. */
  async list<T>(path: string, query?: Query, o: RequestOptions = {}): Promise<ListResult<T>> {
    const first = await this.request<ListResult<T>>('GET', path, query, undefined, undefined, o);
    const items = [...(first.items ?? [])];
    let meta = first.metadata ?? {};
    while (query?.limit !== undefined && meta.continue) {
      const page = await this.request<ListResult<T>>('GET', path, { ...query, continue: meta.continue }, undefined, undefined, o);
      items.push(...(page.items ?? []));
      meta = page.metadata ?? {};
    }
    const out: ListResult<T> = { metadata: { ...(first.metadata?.resourceVersion !== undefined ? { resourceVersion: first.metadata.resourceVersion } : {}) }, items };
    if (query?.limit === undefined && meta.continue) out.metadata.continue = meta.continue;
    if (first.apiVersion !== undefined) out.apiVersion = first.apiVersion;
    if (first.kind !== undefined) out.kind = first.kind;
    return out;
  }

  create<T>(path: string, body: unknown, query?: Query): Promise<T> {
    return this.request<T>('POST', path, query, body);
  }

  replace<T>(path: string, body: unknown, query?: Query): Promise<T> {
    return this.request<T>('PUT', path, query, body);
  }

  /** `apply` needs a `fieldManager` in the query on a real API server. */
  patch<T>(path: string, body: unknown, type: PatchType, query?: Query): Promise<T> {
    return this.request<T>('PATCH', path, query, body, PATCH_CONTENT_TYPES[type]);
  }

  delete<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('DELETE', path, query);
  }

  /**
   * Stream watch events to `onEvent` until the server ends the stream (resolves) or `signal` aborts (resolves).
   * Rejects on an HTTP error, on a connection error, on an ERROR event (after delivering it; a 410 Status becomes
   * a KubeApiError with statusCode 410, so the caller re-lists), or when `onEvent` throws.
   */
  async watch(path: string, query: Query, onEvent: (type: WatchEventType, obj: any) => void, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return;
    const q = { ...query, watch: 1 };
    let res: http.IncomingMessage;
    let req: http.ClientRequest;
    for (let attempt = 0; ; attempt++) {
      const opened = await this.open('GET', path, q, undefined, undefined, signal);
      if (!opened) return; // aborted before the response
      ({ res, req } = opened);
      if (res.statusCode === 200) break;
      const body = await readBody(res).catch(() => '');
      const err = KubeApiError.fromStatus('GET', path, res.statusCode ?? 0, parseMaybe(body));
      if (!(res.statusCode === 401 && attempt === 0 && this.invalidateCredentials())) throw err;
    }
    if (signal?.aborted) {
      req.destroy();
      return;
    }
    return new Promise<void>((resolve, reject) => {
      let buf = '';
      let done = false;
      const finish = (err?: unknown): void => {
        if (done) return;
        done = true;
        signal?.removeEventListener('abort', onAbort);
        clearTimeout(timer);
        if (err) {
          req.destroy();
          reject(err);
        } else {
          resolve();
        }
      };
      const onAbort = (): void => {
        finish();
        req.destroy();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const timeoutS = Number(query.timeoutSeconds);
      const timer = timeoutS > 0 ? setTimeout(onAbort, timeoutS * 1000 + WATCH_GRACE_MS) : undefined;
      const line = (l: string): void => {
        if (!l.trim()) return;
        let ev: { type?: WatchEventType; object?: any };
        try {
          ev = JSON.parse(l);
        } catch (err) {
          return finish(new KubeApiError('KUBE_API_ERROR', `GET ${path} (watch): undecodable event (${(err as Error).message})`, { statusCode: 0, cause: err }));
        }
        const type = ev.type as WatchEventType;
        try {
          onEvent(type, ev.object);
        } catch (err) {
          return finish(err);
        }
        if (type === 'ERROR') {
          const code = Number(ev.object?.code) || 500;
          finish(KubeApiError.fromStatus('GET', `${path} (watch)`, code, ev.object));
        }
      };
      res.setEncoding('utf8'); // decodes multi-byte characters split across chunks
      res.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while (!done && (nl = buf.indexOf('\n')) >= 0) {
          const l = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          line(l);
        }
      });
      res.on('end', () => {
        if (!done && buf) line(buf);
        finish();
      });
      res.on('error', (err) => finish(signal?.aborted ? undefined : this.unreachable('GET', path, err)));
      res.on('close', () => {
        // Closed without 'end': the connection was reset mid-stream.
        if (!res.complete && !signal?.aborted) finish(this.unreachable('GET', path, new Error('watch connection closed')));
        else finish();
      });
    });
  }

  private async request<T>(method: string, path: string, query: Query | undefined, body?: unknown, contentType?: string,
    o: RequestOptions = {}): Promise<T> {
    const timeoutMs = o.timeoutMs ?? REQUEST_TIMEOUT_MS;
    for (let attempt = 0; ; attempt++) {
      if (o.signal?.aborted) throw new KubeAbortedError(method, path);
      const deadline = o.signal ? AbortSignal.any([AbortSignal.timeout(timeoutMs), o.signal]) : AbortSignal.timeout(timeoutMs);
      let opened: { res: http.IncomingMessage; req: http.ClientRequest } | undefined;
      let text: string;
      try {
        opened = await this.open(method, path, query, body, contentType, deadline);
        if (!opened) throw new Error('timed out');
        const req = opened.req;
        const onDeadline = (): void => { req.destroy(); };
        deadline.addEventListener('abort', onDeadline, { once: true });
        try {
          text = await readBody(opened.res);
        } finally {
          deadline.removeEventListener('abort', onDeadline);
        }
      } catch (err) {
        if (err instanceof MeshError) throw err;
        opened?.req.destroy();
        if (o.signal?.aborted) throw new KubeAbortedError(method, path);
        throw this.unreachable(method, path, deadline.aborted ? new Error(`no response within ${timeoutMs / 1000} s`) : err);
      }
      const status = opened.res.statusCode ?? 0;
      const parsed = parseMaybe(text);
      if (status >= 200 && status < 300) return parsed as T;
      if (status === 401 && attempt === 0 && this.invalidateCredentials()) continue;
      throw KubeApiError.fromStatus(method, path, status, parsed);
    }
  }

  /** Send one request; resolves with the response headers in, or undefined when `signal` aborted first. */
  private async open(method: string, path: string, query: Query | undefined, body: unknown, contentType: string | undefined,
    signal: AbortSignal | undefined): Promise<{ res: http.IncomingMessage; req: http.ClientRequest } | undefined> {
    const creds = await this.credentials(method, path);
    if (creds.cert && creds.key) this.useClientCert(creds.cert, creds.key);
    const headers: http.OutgoingHttpHeaders = { Accept: 'application/json' };
    if (creds.token) headers.Authorization = `Bearer ${creds.token}`;
    let data: Buffer | undefined;
    if (body !== undefined) {
      data = Buffer.from(JSON.stringify(body));
      headers['Content-Type'] = contentType ?? 'application/json';
      headers['Content-Length'] = data.length;
    }
    const opts: https.RequestOptions = {
      method, headers, agent: this.agent,
      protocol: this.url.protocol, hostname: this.url.hostname.replace(/^\[|\]$/g, ''), port: this.url.port || (this.secure ? 443 : 80),
      path: `${this.url.pathname.replace(/\/$/, '')}${path}${encodeQuery(query)}`,
    };
    if (this.secure && this.target.tlsServerName) opts.servername = this.target.tlsServerName;
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return resolve(undefined);
      const req = (this.secure ? https : http).request(opts);
      const onAbort = (): void => {
        req.destroy();
        resolve(undefined);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      req.once('response', (res) => {
        signal?.removeEventListener('abort', onAbort);
        resolve({ res, req });
      });
      req.once('error', (err) => {
        signal?.removeEventListener('abort', onAbort);
        if (signal?.aborted) resolve(undefined);
        else reject(this.unreachable(method, path, err));
      });
      req.end(data);
    });
  }

  private unreachable(method: string, path: string, err: unknown): KubeApiError {
    const why = err instanceof Error ? err.message : String(err);
    return new KubeApiError('KUBE_UNREACHABLE',
      `${method} ${path}: cannot reach the api server at ${this.target.server} (${why}); is it running, and is the kubeconfig's server address right?`,
      { statusCode: 0, cause: err });
  }

  private makeAgent(cert: Buffer | undefined, key: Buffer | undefined): http.Agent {
    this.agentCert = cert;
    if (!this.secure) return new http.Agent({ keepAlive: true });
    const t = this.target;
    return new https.Agent({
      keepAlive: true,
      ...(t.ca ? { ca: t.ca } : {}),
      ...(cert && key ? { cert, key } : {}),
      rejectUnauthorized: !t.insecureSkipTlsVerify,
      ...(t.tlsServerName ? { servername: t.tlsServerName } : {}),
    });
  }

  /** Switch to a (rotated) exec-plugin client certificate. */
  private useClientCert(cert: Buffer, key: Buffer): void {
    if (this.agentCert?.equals(cert)) return;
    this.retired.push(this.agent);
    this.agent = this.makeAgent(cert, key);
  }

  /** Drop cached dynamic credentials after a 401; true when there were any (worth one retry). */
  private invalidateCredentials(): boolean {
    if (this.target.exec) {
      this.execCache = undefined;
      return true;
    }
    if (this.target.tokenFile) {
      this.tokenFileCache = undefined;
      return true;
    }
    return false;
  }

  private async credentials(method: string, path: string): Promise<Credentials> {
    const t = this.target;
    if (t.exec) return this.execCredentials(method, path);
    if (t.tokenFile) {
      const token = this.readTokenFile(method, path);
      if (token) return { token };
    }
    return t.token ? { token: t.token } : {};
  }

  // Re-read when the file's mtime changes, and at least once a minute (as client-go does).
  private readTokenFile(method: string, path: string): string | undefined {
    const file = this.target.tokenFile!;
    const c = this.tokenFileCache;
    try {
      const mtimeMs = statSync(file).mtimeMs;
      if (c && c.mtimeMs === mtimeMs && Date.now() - c.readAt < TOKEN_FILE_MAX_AGE_MS) return c.token;
      const token = readFileSync(file, 'utf8').trim();
      this.tokenFileCache = { token, mtimeMs, readAt: Date.now() };
      return token;
    } catch (err) {
      if (c) return c.token; // keep the last good token through a rotation's brief absence
      if (this.target.token) return undefined;
      throw new KubeApiError('KUBE_CREDENTIALS', `${method} ${path}: cannot read token file ${file} (${(err as Error).message})`, { statusCode: 0, cause: err });
    }
  }

  private async execCredentials(method: string, path: string): Promise<Credentials> {
    const c = this.execCache;
    if (c && Date.now() < c.expiresAt) return c.creds;
    // Concurrent requests share one plugin run.
    this.execRunning ??= runExecPlugin(this.target).then(({ expiresAt, ...creds }) => {
      this.execCache = { creds, expiresAt };
      return creds;
    }).finally(() => { this.execRunning = undefined; });
    try {
      return await this.execRunning;
    } catch (err) {
      throw new KubeApiError('KUBE_CREDENTIALS', `${method} ${path}: ${(err as Error).message}`, { statusCode: 0, cause: err });
    }
  }
}

/** Run the exec credential plugin (non-interactive) and parse what it prints. */
async function runExecPlugin(target: KubeTarget): Promise<Credentials & { expiresAt: number }> {
  const e = target.exec!;
  const apiVersion = e.apiVersion ?? 'client.authentication.k8s.io/v1';
  const env = { ...process.env };
  for (const v of e.env ?? []) env[v.name] = v.value;
  env.KUBERNETES_EXEC_INFO = JSON.stringify({ apiVersion, kind: 'ExecCredential', spec: { interactive: false } });
  const { stdout, stderr, code } = await new Promise<{ stdout: string; stderr: string; code: number | null }>((resolve, reject) => {
    const child = spawn(e.command, e.args ?? [], { env, stdio: ['ignore', 'pipe', 'pipe'], ...(e.cwd ? { cwd: e.cwd } : {}) });
    // Our own timer: spawn's `timeout` option leaves its timer running when the command fails to start.
    const timer = setTimeout(() => child.kill('SIGKILL'), EXEC_TIMEOUT_MS);
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    child.once('error', (x) => {
      clearTimeout(timer);
      reject(new Error(`exec credential plugin ${e.command} failed to start (${x.message}); is it installed and on PATH?`, { cause: x }));
    });
    child.once('close', (c, signal) => {
      clearTimeout(timer);
      resolve({ stdout: out, stderr: signal ? `killed by ${signal} (no answer within ${EXEC_TIMEOUT_MS / 1000} s) ${err}` : err, code: c });
    });
  });
  if (code !== 0) throw new Error(`exec credential plugin ${e.command} exited ${code}: ${stderr.trim().slice(0, 500)}`);
  return parseExecCredential(stdout, e.command);
}

/** The credentials in an ExecCredential document, with when they expire (pure). */
export function parseExecCredential(stdout: string, command = 'plugin'): Credentials & { expiresAt: number } {
  let doc: { kind?: string; status?: ExecCredentialStatus };
  try {
    doc = JSON.parse(stdout);
  } catch {
    throw new Error(`exec credential plugin ${command} printed no ExecCredential JSON`);
  }
  const s = doc?.status;
  if (doc?.kind !== 'ExecCredential' || !s) throw new Error(`exec credential plugin ${command} printed no ExecCredential status`);
  const out: Credentials & { expiresAt: number } = { expiresAt: Infinity };
  if (s.token) out.token = s.token;
  if (s.clientCertificateData && s.clientKeyData) {
    out.cert = Buffer.from(s.clientCertificateData);
    out.key = Buffer.from(s.clientKeyData);
  }
  if (!out.token && !out.cert) throw new Error(`exec credential plugin ${command} returned neither a token nor a client certificate`);
  if (s.expirationTimestamp) {
    const t = Date.parse(s.expirationTimestamp);
    if (Number.isNaN(t)) throw new Error(`exec credential plugin ${command} returned a bad expirationTimestamp "${s.expirationTimestamp}"`);
    out.expiresAt = t;
  }
  return out;
}

function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.once('error', reject);
    res.once('close', () => { if (!res.complete) reject(new Error('connection closed before the response ended')); });
  });
}

function parseMaybe(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
