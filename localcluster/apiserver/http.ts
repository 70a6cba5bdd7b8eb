// The request handler: authentication, routing of the Kubernetes URL space (discovery, OpenAPI, health,
// resources and their subresources) to the REST verbs, and Status responses for every failure.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Logger } from '../../shared/log.ts';
import { errorMessage } from '../../shared/errors.ts';
import { authenticate, type LiveCheck, type UserInfo } from './auth.ts';
import { allows, forbiddenMessage, isRbacSubject, type RbacObjects, type RequestAttributes } from './rbac.ts';
import * as discovery from './discovery.ts';
import { kindByResource, resourceKey, apiVersionOf, type KindInfo } from './kinds.ts';
import { patchTypeOf } from './patch.ts';
import { present, type Rest } from './rest.ts';
import { andPredicates, fieldPredicate, labelPredicate } from './selectors.ts';
import { ApiError } from './status.ts';
import { REVIEWS, SCALABLE, binding, liveCheck, podLog, scale, tokenRequest, tokenReview } from './subresources.ts';
import { toTable } from './table.ts';
import type { SigningKey } from './tokens.ts';
import { serveWatch } from './watch.ts';
import { checkFieldValidation, decodeBody, intParam, isDryRun, readBody, readObject, sendError, sendJson, wantsTable } from './wire.ts';

type Obj = Record<string, any>;

export interface PodLogOptions { container?: string; follow: boolean; tailLines?: number; previous?: boolean }
export type PodLogProvider = (namespace: string, pod: string, opts: PodLogOptions) => Readable | undefined;

export interface HandlerContext {
  rest: Rest;
  key: SigningKey;
  log: Logger;
  watches: Set<(abrupt?: boolean) => void>;
  serverAddress: () => string;
  podLogs: () => PodLogProvider | undefined;
  bookmarkIntervalMs: number;
}

const PUBLIC = new Set(['/healthz', '/livez', '/readyz', '/version']);

export interface Route { group: string; version: string; namespace?: string; plural: string; name?: string; sub?: string }

/** Split a resource URL (`/api/v1/...` or `/apis/<g>/<v>/...`) into its parts (pure). */
export function parseResourcePath(path: string): Route | undefined {
  const segs = path.split('/').filter((s) => s !== '').map(decodeURIComponent);
  let group = '';
  let version: string;
  let rest: string[];
  if (segs[0] === 'api' && segs.length >= 3) { version = segs[1]!; rest = segs.slice(2); }
  else if (segs[0] === 'apis' && segs.length >= 4) { group = segs[1]!; version = segs[2]!; rest = segs.slice(3); }
  else return undefined;
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && kindByResource(group, version, rest[2]!)?.namespaced) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  if (rest.length > 3) return undefined;
  return { group, version, plural: rest[0]!, ...(namespace !== undefined ? { namespace } : {}), ...(rest[1] ? { name: rest[1] } : {}), ...(rest[2] ? { sub: rest[2] } : {}) };
}

export function makeHandler(ctx: HandlerContext): (req: IncomingMessage, res: ServerResponse) => void {
  const live = liveCheck(ctx.rest);
  return (req, res) => {
    if (ctx.log.isLevelEnabled('debug')) {
      res.on('finish', () => ctx.log.debug({ method: req.method, url: req.url, status: res.statusCode }, 'request'));
    }
    handle(ctx, live, req, res).catch((err: unknown) => {
      if (err instanceof ApiError) {
        if (err.httpCode >= 500) ctx.log.error({ err: err.message, url: req.url }, 'request failed');
        sendError(res, err);
      } else {
        ctx.log.error({ err: errorMessage(err), stack: (err as Error)?.stack, method: req.method, url: req.url }, 'handler crashed');
        sendError(res, new ApiError('InternalError', `internal error: ${errorMessage(err)}`));
      }
    });
  };
}

async function handle(ctx: HandlerContext, live: LiveCheck, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://localhost');
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const q = url.searchParams;
  const method = req.method ?? 'GET';

  const base = path.split('/').slice(0, 2).join('/');
  let user: UserInfo | undefined;
  if (!PUBLIC.has(base)) {
    const auth = authenticate(req, ctx.key, live);
    if (!auth || !auth.ok) {
      throw new ApiError('Unauthorized', auth ? `Unauthorized: ${auth.error}` : 'Unauthorized: no client certificate or bearer token; use the kubeconfig from the cluster state directory');
    }
    user = auth.user;
  }

  if (path === '/healthz' || path === '/livez' || path === '/readyz' || /^\/(healthz|livez|readyz)\//.test(path)) {
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
    return;
  }
  if (path === '/version') return sendJson(res, 200, discovery.versionInfo());
  if (path === '/api') return sendJson(res, 200, discovery.apiVersions(ctx.serverAddress()));
  if (path === '/apis') return sendJson(res, 200, discovery.apiGroupList());
  if (path === '/openapi/v2') return sendJson(res, 200, discovery.openApiV2());
  if (path === '/openapi/v3') return sendJson(res, 200, discovery.openApiV3Index());
  if (path.startsWith('/openapi/v3/')) {
    const doc = discovery.openApiV3Doc(path.slice('/openapi/v3/'.length));
    if (!doc) throw new ApiError('NotFound', `no OpenAPI document at ${path}`);
    return sendJson(res, 200, doc);
  }
  const segs = path.split('/').filter((s) => s);
  if (segs[0] === 'api' && segs.length === 2) {
    const list = discovery.resourceList('', segs[1]!);
    if (!list) throw new ApiError('NotFound', `the server could not find the requested resource: api version ${segs[1]} is not served`);
    return sendJson(res, 200, list);
  }
  if (segs[0] === 'apis' && segs.length === 2) {
    const g = discovery.apiGroup(segs[1]!);
    if (!g) throw new ApiError('NotFound', `the server could not find the requested resource: API group ${segs[1]} is not served`);
    return sendJson(res, 200, g);
  }
  if (segs[0] === 'apis' && segs.length === 3) {
    const list = discovery.resourceList(segs[1]!, segs[2]!);
    if (!list) throw new ApiError('NotFound', `the server could not find the requested resource: ${segs[1]}/${segs[2]} is not served`);
    return sendJson(res, 200, list);
  }

  const route = parseResourcePath(path);
  if (!route) throw new ApiError('NotFound', `the server could not find the requested resource (${method} ${path})`);
  if (user && isRbacSubject(user)) authorize(ctx, user, route, method, q);
  if (route.group === 'authentication.k8s.io' && route.version === 'v1' && route.plural === 'tokenreviews' && !route.name) {
    if (method !== 'POST') throw new ApiError('MethodNotAllowed', `${method} is not supported on tokenreviews; POST a TokenReview`);
    return tokenReview(ctx, live, req, res);
  }
  const review = REVIEWS[`${route.group}/${route.version}/${route.plural}`];
  if (review && !route.name && route.namespace === undefined) {
    if (method !== 'POST') throw new ApiError('MethodNotAllowed', `${method} is not supported on ${route.plural}; POST one`);
    return sendJson(res, 201, review(await readObject(req), user!));
  }
  const kind = kindByResource(route.group, route.version, route.plural);
  if (!kind) {
    throw new ApiError('NotFound', `the server could not find the requested resource: no resource "${route.plural}" in ${apiVersionOf(route.group, route.version)}`);
  }
  if ((kind.namespaced && route.name && route.namespace === undefined) || (!kind.namespaced && route.namespace !== undefined)) {
    throw new ApiError('NotFound', `the server could not find the requested resource: ${kind.plural} are ${kind.namespaced ? '' : 'not '}namespaced`);
  }
  return resource(ctx, kind, route, q, method, req, res);
}

/** RBAC for service-account callers (rbac.ts); throws 403 Forbidden as Kubernetes words it. */
function authorize(ctx: HandlerContext, user: UserInfo, r: Route, method: string, q: URLSearchParams): void {
  const watch = q.get('watch') === 'true' || q.get('watch') === '1';
  const verb = method === 'GET' ? (r.name ? 'get' : watch ? 'watch' : 'list')
    : method === 'DELETE' ? (r.name ? 'delete' : 'deletecollection')
    : ({ POST: 'create', PUT: 'update', PATCH: 'patch' } as Record<string, string>)[method] ?? method.toLowerCase();
  const a: RequestAttributes = {
    verb, apiGroup: r.group, resource: r.plural,
    ...(r.sub ? { subresource: r.sub } : {}), ...(r.namespace !== undefined ? { namespace: r.namespace } : {}), ...(r.name ? { name: r.name } : {}),
  };
  const all = (plural: string): Obj[] => ctx.rest.list(kindByResource('rbac.authorization.k8s.io', 'v1', plural)!, undefined);
  const objects = { clusterRoles: all('clusterroles'), roles: all('roles'), clusterRoleBindings: all('clusterrolebindings'), roleBindings: all('rolebindings') } as unknown as RbacObjects;
  if (!allows(user, a, objects)) throw new ApiError('Forbidden', forbiddenMessage(user, a));
}

async function resource(ctx: HandlerContext, kind: KindInfo, r: Route, q: URLSearchParams, method: string,
  req: IncomingMessage, res: ServerResponse): Promise<void> {
  const rest = ctx.rest;
  const version = r.version;
  const out = (o: Obj): Obj => present(kind, o, version);
  const sub = r.sub;
  if (sub && !(sub === 'status' && kind.status) && !(kind.kind === 'Pod' && kind.group === '' && (sub === 'log' || sub === 'binding'))
    && !(kind.kind === 'ServiceAccount' && kind.group === '' && sub === 'token') && !(sub === 'scale' && SCALABLE.has(kind.kind))) {
    throw new ApiError('NotFound', `the server could not find the requested resource: ${kind.plural}/${sub} is not served`);
  }
  if (sub === 'scale') return scale(ctx, kind, r, q, method, req, res);
  const table = wantsTable(req);
  const tableOpts = { includeObject: q.get('includeObject') ?? 'Metadata' };

  switch (method) {
    case 'GET': {
      if (r.name) {
        if (sub === 'log') return podLog(ctx, r.namespace!, r.name, q, res);
        if (sub && sub !== 'status') throw new ApiError('MethodNotAllowed', `GET is not supported on ${kind.plural}/${sub}`);
        const o = rest.get(kind, r.namespace, r.name);
        if (table) return sendJson(res, 200, toTable(kind.printer, [out(o)], { ...tableOpts, resourceVersion: o.metadata.resourceVersion }));
        return sendJson(res, 200, out(o));
      }
      const pred = andPredicates(labelPredicate(q.get('labelSelector') ?? undefined), fieldPredicate(q.get('fieldSelector') ?? undefined, kind.kind));
      if (q.get('watch') === 'true' || q.get('watch') === '1') {
        const timeoutSeconds = intParam(q, 'timeoutSeconds') ?? 1800 + Math.floor(Math.random() * 1800);
        return serveWatch(res, {
          store: rest.store, resource: resourceKey(kind), namespace: kind.namespaced ? r.namespace : undefined, predicate: pred,
          resourceVersion: q.get('resourceVersion') ?? undefined, sendInitialEvents: q.get('sendInitialEvents') === 'true', bookmarks: q.get('allowWatchBookmarks') === 'true',
          bookmarkIntervalMs: ctx.bookmarkIntervalMs, timeoutSeconds, registry: ctx.watches,
          encode: (o, first) => (table ? toTable(kind.printer, [out(o)], { ...tableOpts, withColumns: first, resourceVersion: o.metadata.resourceVersion }) : out(o)),
          bookmarkObject: (rv) => ({ kind: kind.kind, apiVersion: apiVersionOf(kind.group, version), metadata: { resourceVersion: rv } }),
        });
      }
      return list(ctx, kind, r, q, pred, table, tableOpts, res);
    }
    case 'POST': {
      const dryRun = isDryRun(q);
      const fieldValidation = checkFieldValidation(q);
      if (!r.name) {
        if (sub) throw new ApiError('MethodNotAllowed', 'POST needs a collection URL');
        const body = await readObject(req);
        checkApiVersion(kind, body);
        return sendJson(res, 201, out(rest.create(kind, r.namespace, body, { dryRun, fieldValidation })));
      }
      if (sub === 'binding') return binding(ctx, r.namespace!, r.name, await readObject(req), dryRun, res);
      if (sub === 'token') return tokenRequest(ctx, r.namespace!, r.name, await readObject(req), res);
      throw new ApiError('MethodNotAllowed', `POST is not supported on a single ${kind.singular}; use PUT or PATCH to change it, or POST to the collection`);
    }
    case 'PUT': {
      if (!r.name || (sub && sub !== 'status')) throw new ApiError('MethodNotAllowed', `PUT needs a ${kind.singular} URL with a name`);
      const dryRun = isDryRun(q);
      const fieldValidation = checkFieldValidation(q);
      const body = await readObject(req);
      checkApiVersion(kind, body);
      return sendJson(res, 200, out(rest.update(kind, r.namespace, r.name, body, sub, { dryRun, fieldValidation })));
    }
    case 'PATCH': {
      if (!r.name || (sub && sub !== 'status')) throw new ApiError('MethodNotAllowed', `PATCH needs a ${kind.singular} URL with a name`);
      const dryRun = isDryRun(q);
      const fieldValidation = checkFieldValidation(q);
      const type = patchTypeOf(req.headers['content-type'] ?? '');
      if (!type) {
        throw new ApiError('UnsupportedMediaType', `the body of the request was in an unknown format "${req.headers['content-type'] ?? ''}"; accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`);
      }
      const patch = decodeBody(await readBody(req), req.headers['content-type']);
      if (type !== 'json' && (!patch || typeof patch !== 'object' || Array.isArray(patch))) {
        throw new ApiError('BadRequest', `a ${type} patch must be a JSON object`);
      }
      const { obj, created } = rest.patch(kind, version, r.namespace, r.name, type, patch, sub, { dryRun, fieldValidation });
      return sendJson(res, created ? 201 : 200, out(obj));
    }
    case 'DELETE': {
      const dryRun = isDryRun(q);
      const raw = await readBody(req);
      let options: Obj = {};
      if (raw.length && raw.toString().trim()) options = decodeBody(raw, req.headers['content-type'] ?? 'application/json') as Obj;
      for (const p of ['propagationPolicy', 'gracePeriodSeconds']) if (q.get(p) !== null) options[p] = q.get(p);
      const dry = dryRun || (Array.isArray(options?.dryRun) && options.dryRun.includes('All'));
      if (r.name) {
        if (sub) throw new ApiError('MethodNotAllowed', `DELETE is not supported on ${kind.plural}/${sub}`);
        return sendJson(res, 200, out(rest.delete(kind, r.namespace, r.name, options, { dryRun: dry })));
      }
      const pred = andPredicates(labelPredicate(q.get('labelSelector') ?? undefined), fieldPredicate(q.get('fieldSelector') ?? undefined, kind.kind));
      const items = rest.deleteCollection(kind, r.namespace, pred, options, { dryRun: dry });
      return sendJson(res, 200, { kind: `${kind.kind}List`, apiVersion: apiVersionOf(kind.group, version), metadata: { resourceVersion: String(rest.store.resourceVersion) }, items: items.map(out) });
    }
    default:
      throw new ApiError('MethodNotAllowed', `method ${method} is not supported; use GET, POST, PUT, PATCH or DELETE`);
  }
}

function checkApiVersion(kind: KindInfo, body: Obj): void {
  if (typeof body.apiVersion === 'string') {
    const [g] = body.apiVersion.includes('/') ? body.apiVersion.split('/') : [''];
    if (g !== kind.group) {
      throw new ApiError('BadRequest', `the API version in the data (${body.apiVersion}) does not match the expected API version (${apiVersionOf(kind.group, kind.versions[0]!)})`);
    }
  }
}

function list(ctx: HandlerContext, kind: KindInfo, r: Route, q: URLSearchParams, pred: ((o: Obj) => boolean) | undefined,
  table: boolean, tableOpts: { includeObject: string }, res: ServerResponse): void {
  let items = ctx.rest.list(kind, r.namespace, pred);
  const limit = intParam(q, 'limit');
  const cont = q.get('continue');
  if (cont) {
    let after: string;
    try {
      after = JSON.parse(Buffer.from(cont, 'base64url').toString()).after;
    } catch {
      throw new ApiError('BadRequest', 'invalid continue token; restart the list without it');
    }
    items = items.filter((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}` > after);
  }
  let next: string | undefined;
  if (limit && items.length > limit) {
    items = items.slice(0, limit);
    const last = items[items.length - 1]!;
    next = Buffer.from(JSON.stringify({ after: `${last.metadata.namespace ?? ''}/${last.metadata.name}` })).toString('base64url');
  }
  const rv = String(ctx.rest.store.resourceVersion);
  const presented = items.map((o) => present(kind, o, r.version));
  if (table) return sendJson(res, 200, toTable(kind.printer, presented, { ...tableOpts, resourceVersion: rv, ...(next ? { continue: next } : {}) }));
  sendJson(res, 200, {
    kind: `${kind.kind}List`, apiVersion: apiVersionOf(kind.group, r.version),
    metadata: { resourceVersion: rv, ...(next ? { continue: next } : {}) }, items: presented,
  });
}
