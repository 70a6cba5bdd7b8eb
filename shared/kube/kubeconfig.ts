// Where the API server is and how to authenticate to it, resolved the way kubectl does (simplified): an explicit
// kubeconfig path, else the files of $KUBECONFIG merged as kubectl merges them (the first file to set
// current-context or to name a context, cluster or user wins; relative paths are relative to the file that holds
// them), else the in-cluster service account, else ~/.kube/config. Only the current context is read. The YAML parser
// is imported on demand so an in-cluster process never loads it. No Kubernetes client library is imported (memory:
// see client.ts).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { MeshError } from '../errors.ts';

/** A client-go credential plugin (`users[].user.exec`). */
export interface ExecConfig {
  command: string;
  args?: string[];
  env?: Array<{ name: string; value: string }>;
  /** client.authentication.k8s.io/v1 (default) or v1beta1; sent to the plugin in KUBERNETES_EXEC_INFO. */
  apiVersion?: string;
  /** Directory the plugin runs in (the kubeconfig's directory, so relative commands resolve as in kubectl). */
  cwd?: string;
}

export interface KubeTarget {
  /** `https://host:port` (or http://), no trailing slash. */
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
  /** Re-read by the client when it changes (projected service-account tokens rotate). */
  tokenFile?: string;
  exec?: ExecConfig;
  insecureSkipTlsVerify?: boolean;
  tlsServerName?: string;
  /** The context's namespace (or the service account's namespace in-cluster), for callers that want a default. */
  namespace?: string;
}

export class KubeConfigError extends MeshError {}

const IN_CLUSTER_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

// kubeconfig keys we deliberately do not implement, with what to use instead.
const UNSUPPORTED_USER: Record<string, string> = {
  'auth-provider': 'auth-provider plugins were removed from Kubernetes clients; use an exec credential plugin (e.g. gke-gcloud-auth-plugin, kubelogin) or a token',
  username: 'basic authentication is not supported; use a token, a client certificate or an exec credential plugin',
  password: 'basic authentication is not supported; use a token, a client certificate or an exec credential plugin',
  as: 'impersonation is not supported; use the credentials of the identity itself',
  'as-groups': 'impersonation is not supported; use the credentials of the identity itself',
  'as-uid': 'impersonation is not supported; use the credentials of the identity itself',
  'as-user-extra': 'impersonation is not supported; use the credentials of the identity itself',
};
const UNSUPPORTED_CLUSTER: Record<string, string> = {
  'proxy-url': 'proxies are not supported; reach the API server directly',
};

export async function loadKubeTarget(o: { kubeconfig?: string | undefined; env?: NodeJS.ProcessEnv; inClusterDir?: string } = {}): Promise<KubeTarget> {
  const env = o.env ?? process.env;
  if (o.kubeconfig) return fromKubeconfigFile(o.kubeconfig);
  if (env.KUBECONFIG) {
    const found = env.KUBECONFIG.split(':').filter((p) => p !== '' && isFile(p));
    if (found.length === 1) return fromKubeconfigFile(found[0]!);
    if (found.length > 1) {
      const docs = await Promise.all(found.map(async (p) => ({ doc: await readKubeconfig(p), dir: dirname(resolve(p)) })));
      return targetFromKubeconfig(mergeKubeconfigs(docs), dirname(resolve(found[0]!)), `$KUBECONFIG (${found.join(':')})`);
    }
  }
  const inCluster = fromInCluster(env, o.inClusterDir ?? IN_CLUSTER_DIR);
  if (inCluster) return inCluster;
  const home = join(env.HOME ?? homedir(), '.kube', 'config');
  if (isFile(home)) return fromKubeconfigFile(home);
  throw new KubeConfigError('KUBE_CONFIG_NOT_FOUND',
    `no kubeconfig found (tried ${env.KUBECONFIG ? `$KUBECONFIG=${env.KUBECONFIG}, ` : ''}the in-cluster service account and ${home}); pass --kubeconfig or set KUBECONFIG`);
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The pod's own service account, when running in a cluster (env set by the kubelet, token mounted). */
function fromInCluster(env: NodeJS.ProcessEnv, dir: string): KubeTarget | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  const tokenFile = join(dir, 'token');
  if (!host || !port || !existsSync(tokenFile)) return undefined;
  const caFile = join(dir, 'ca.crt');
  const nsFile = join(dir, 'namespace');
  const t: KubeTarget = { server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`, tokenFile };
  if (existsSync(caFile)) t.ca = readFileSync(caFile);
  if (existsSync(nsFile)) t.namespace = readFileSync(nsFile, 'utf8').trim();
  return t;
}

async function fromKubeconfigFile(path: string): Promise<KubeTarget> {
  return targetFromKubeconfig(await readKubeconfig(path), dirname(resolve(path)), path);
}

async function readKubeconfig(path: string): Promise<unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new KubeConfigError('KUBE_CONFIG_NOT_FOUND', `cannot read kubeconfig ${path} (${(err as Error).message}); check the path`, { cause: err });
  }
  const { parse } = await import('yaml');
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new KubeConfigError('KUBE_CONFIG_INVALID', `kubeconfig ${path} is not valid YAML (${(err as Error).message})`, { cause: err });
  }
  return doc;
}

type Obj = Record<string, any>;

/** Fields holding a file path, per section, that kubectl resolves against the directory of the file they are in. */
const PATH_FIELDS = { cluster: ['certificate-authority'], user: ['client-certificate', 'client-key', 'tokenFile'] } as const;

/**
 * kubectl's merge of several kubeconfigs (pure): `current-context` from the first file that sets it; contexts,
 * clusters and users by name, the first definition winning. Relative paths (and exec commands with a `/`) are made
 * absolute against their own file's directory first, so entries keep meaning what they meant in their file.
 */
export function mergeKubeconfigs(files: ReadonlyArray<{ doc: unknown; dir: string }>): Obj {
  const out: Obj = { contexts: [], clusters: [], users: [] };
  const abs = (p: unknown, dir: string): unknown => (typeof p === 'string' && p !== '' && !isAbsolute(p) ? join(dir, p) : p);
  for (const { doc, dir } of files) {
    if (!doc || typeof doc !== 'object') continue;
    const cfg = doc as Obj;
    if (out['current-context'] === undefined && cfg['current-context']) out['current-context'] = cfg['current-context'];
    for (const list of ['contexts', 'clusters', 'users'] as const) {
      for (const entry of Array.isArray(cfg[list]) ? cfg[list] as Obj[] : []) {
        if (!entry?.name || (out[list] as Obj[]).some((e) => e.name === entry.name)) continue;
        const section = list === 'clusters' ? 'cluster' : list === 'users' ? 'user' : undefined;
        if (!section || !entry[section] || typeof entry[section] !== 'object') {
          (out[list] as Obj[]).push(entry);
          continue;
        }
        const body: Obj = { ...entry[section] };
        for (const f of PATH_FIELDS[section]) if (body[f] !== undefined) body[f] = abs(body[f], dir);
        if (section === 'user' && body.exec && typeof body.exec.command === 'string' && body.exec.command.includes('/')) {
          body.exec = { ...body.exec, command: abs(body.exec.command, dir) };
        }
        (out[list] as Obj[]).push({ ...entry, [section]: body });
      }
    }
  }
  return out;
}

/** The current context's cluster and user, as a target. Pure apart from reading referenced files under `dir`. */
export function targetFromKubeconfig(doc: unknown, dir: string, source = 'kubeconfig'): KubeTarget {
  const invalid = (what: string): never => {
    throw new KubeConfigError('KUBE_CONFIG_INVALID', `${source}: ${what}`);
  };
  if (!doc || typeof doc !== 'object') invalid('not a kubeconfig (expected a mapping)');
  const cfg = doc as Obj;
  const ctxName = cfg['current-context'];
  if (!ctxName) invalid('no current-context; set one with `kubectl config use-context`');
  const named = (list: unknown, name: string, field: string, kind: string): Obj => {
    const entry = Array.isArray(list) ? list.find((e: Obj) => e?.name === name) : undefined;
    if (!entry) invalid(`${kind} "${name}" not found`);
    const v = entry[field];
    if (!v || typeof v !== 'object') invalid(`${kind} "${name}" has no ${field} section`);
    return v as Obj;
  };
  const ctx = named(cfg.contexts, ctxName, 'context', 'context');
  if (!ctx.cluster) invalid(`context "${ctxName}" names no cluster`);
  if (!ctx.user) invalid(`context "${ctxName}" names no user`);
  const cluster = named(cfg.clusters, ctx.cluster, 'cluster', 'cluster');
  // A user entry may legitimately be empty (`user: {}`), e.g. for an http server without auth.
  const userEntry = Array.isArray(cfg.users) ? cfg.users.find((e: Obj) => e?.name === ctx.user) : undefined;
  if (!userEntry) invalid(`user "${ctx.user}" not found`);
  const user: Obj = userEntry.user ?? {};

  for (const [k, why] of Object.entries(UNSUPPORTED_CLUSTER)) {
    if (cluster[k] !== undefined) throw new KubeConfigError('KUBE_CONFIG_UNSUPPORTED', `${source}: cluster "${ctx.cluster}" uses ${k}: ${why}`);
  }
  for (const [k, why] of Object.entries(UNSUPPORTED_USER)) {
    if (user[k] !== undefined) throw new KubeConfigError('KUBE_CONFIG_UNSUPPORTED_AUTH', `${source}: user "${ctx.user}" uses ${k}: ${why}`);
  }

  const server = cluster.server;
  if (typeof server !== 'string' || !server) invalid(`cluster "${ctx.cluster}" has no server`);
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    return invalid(`cluster "${ctx.cluster}" server "${server}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') invalid(`cluster "${ctx.cluster}" server "${server}" is not http(s)`);

  const file = (p: string): Buffer => {
    const full = isAbsolute(p) ? p : join(dir, p);
    try {
      return readFileSync(full);
    } catch (err) {
      throw new KubeConfigError('KUBE_CONFIG_INVALID', `${source}: cannot read ${full} (${(err as Error).message})`, { cause: err });
    }
  };
  // `<name>-data` (base64) wins over `<name>` (a file path), as in client-go.
  const material = (sec: Obj, name: string): Buffer | undefined => {
    if (sec[`${name}-data`]) return Buffer.from(String(sec[`${name}-data`]), 'base64');
    if (sec[name]) return file(String(sec[name]));
    return undefined;
  };

  const t: KubeTarget = { server: server.replace(/\/+$/, '') };
  const ca = material(cluster, 'certificate-authority');
  if (ca) t.ca = ca;
  if (cluster['insecure-skip-tls-verify'] === true) t.insecureSkipTlsVerify = true;
  if (cluster['tls-server-name']) t.tlsServerName = String(cluster['tls-server-name']);
  const cert = material(user, 'client-certificate');
  const key = material(user, 'client-key');
  if (!cert !== !key) invalid(`user "${ctx.user}" has a client ${cert ? 'certificate without a key' : 'key without a certificate'}`);
  if (cert && key) {
    t.cert = cert;
    t.key = key;
  }
  if (user.token) t.token = String(user.token);
  if (user.tokenFile) t.tokenFile = isAbsolute(user.tokenFile) ? user.tokenFile : join(dir, user.tokenFile);
  if (user.exec) {
    const e = user.exec as Obj;
    if (!e.command) invalid(`user "${ctx.user}" exec has no command`);
    // kubectl resolves a command with a path separator against the kubeconfig's directory.
    const command = String(e.command);
    const exec: ExecConfig = { command: command.includes('/') && !isAbsolute(command) ? join(dir, command) : command, cwd: dir };
    if (Array.isArray(e.args)) exec.args = e.args.map(String);
    if (Array.isArray(e.env)) exec.env = e.env.map((v: Obj) => ({ name: String(v.name), value: String(v.value ?? '') }));
    if (e.apiVersion) exec.apiVersion = String(e.apiVersion);
    t.exec = exec;
  }
  if (ctx.namespace) t.namespace = String(ctx.namespace);
  return t;
}
