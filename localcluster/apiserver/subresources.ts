// Subresources and verb-only resources: pods/log, pods/binding, serviceaccounts/token, deployments|replicasets/
// scale, TokenReview, and the self/subject reviews; plus minting and live-checking service-account tokens.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorMessage } from '../../shared/errors.ts';
import { authenticateToken, type LiveCheck, type UserInfo } from './auth.ts';
import type { HandlerContext, Route } from './http.ts';
import { kindByGroupKind, resourceKey, type KindInfo } from './kinds.ts';
import { applyPatch, patchTypeOf } from './patch.ts';
import type { Rest } from './rest.ts';
import { ApiError, notFound, successStatus } from './status.ts';
import { DEFAULT_AUDIENCE, ISSUER, signToken, type SigningKey, type TokenClaims } from './tokens.ts';
import { decodeBody, intParam, isDryRun, readBody, readObject, sendJson } from './wire.ts';

type Obj = Record<string, any>;

export function liveCheck(rest: Rest): LiveCheck {
  return (c: TokenClaims) => {
    const k = c['kubernetes.io'];
    const sa = rest.store.get('/serviceaccounts', k.namespace, k.serviceaccount.name);
    if (!sa || sa.metadata.uid !== k.serviceaccount.uid) return `service account ${k.namespace}/${k.serviceaccount.name} has been deleted`;
    if (k.pod) {
      const pod = rest.store.get('/pods', k.namespace, k.pod.name);
      if (!pod || pod.metadata.uid !== k.pod.uid) return `pod ${k.namespace}/${k.pod.name} the token is bound to no longer exists`;
    }
    return undefined;
  };
}

export interface MintOptions { audiences?: string[]; expirationSeconds?: number; pod?: { name: string; uid: string } }

export function mintToken(rest: Rest, key: SigningKey, ns: string, saName: string, o: MintOptions): { token: string; exp: number } {
  const sa = rest.store.get('/serviceaccounts', ns, saName);
  if (!sa) throw notFound('serviceaccounts', saName, '');
  const now = Math.floor(Date.now() / 1000);
  const exp = now + Math.max(600, o.expirationSeconds ?? 3600);
  const claims: TokenClaims = {
    iss: ISSUER, sub: `system:serviceaccount:${ns}:${saName}`, aud: o.audiences?.length ? o.audiences : [DEFAULT_AUDIENCE],
    exp, iat: now, nbf: now, jti: crypto.randomUUID(),
    'kubernetes.io': { namespace: ns, serviceaccount: { name: saName, uid: sa.metadata.uid }, ...(o.pod ? { pod: o.pod } : {}) },
  };
  return { token: signToken(key, claims), exp };
}

// Reviews answered from the caller's identity. Authorization is allow-all (RBAC is stored, not enforced),
// so access reviews always allow, and say why.
export const REVIEWS: Record<string, (body: Obj, user: UserInfo) => Obj> = {
  'authentication.k8s.io/v1/selfsubjectreviews': (_b, user) => ({
    kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: null }, status: { userInfo: user },
  }),
  'authorization.k8s.io/v1/selfsubjectaccessreviews': (b) => ({
    kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', metadata: { creationTimestamp: null }, spec: b.spec ?? {},
    status: { allowed: true, reason: 'the local api server allows every authenticated user (RBAC is not enforced)' },
  }),
  'authorization.k8s.io/v1/subjectaccessreviews': (b) => ({
    kind: 'SubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', metadata: { creationTimestamp: null }, spec: b.spec ?? {},
    status: { allowed: true, reason: 'the local api server allows every authenticated user (RBAC is not enforced)' },
  }),
};

export const SCALABLE = new Set(['Deployment', 'ReplicaSet']);

function toScale(o: Obj): Obj {
  const sel = Object.entries(o.spec?.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(',');
  const { name, namespace, uid, resourceVersion, creationTimestamp } = o.metadata;
  return {
    kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    spec: { replicas: o.spec?.replicas ?? 0 }, status: { replicas: o.status?.replicas ?? 0, selector: sel },
  };
}

/** The scale subresource (autoscaling/v1 Scale) of Deployments and ReplicaSets: reads and writes spec.replicas. */
export async function scale(ctx: HandlerContext, kind: KindInfo, r: Route, q: URLSearchParams, method: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const cur = ctx.rest.get(kind, r.namespace, r.name!);
  if (method === 'GET') return sendJson(res, 200, toScale(cur));
  let next: Obj;
  if (method === 'PUT') next = await readObject(req);
  else if (method === 'PATCH') {
    const type = patchTypeOf(req.headers['content-type'] ?? '');
    if (!type) throw new ApiError('UnsupportedMediaType', 'use a merge, JSON or strategic merge patch for the scale subresource');
    next = applyPatch(type, toScale(cur), decodeBody(await readBody(req), req.headers['content-type']));
  } else throw new ApiError('MethodNotAllowed', `${method} is not supported on ${kind.plural}/scale; use GET, PUT or PATCH`);
  const replicas = next?.spec?.replicas;
  if (!Number.isInteger(replicas) || replicas < 0) {
    throw new ApiError('Invalid', `Scale.autoscaling "${r.name}" is invalid: spec.replicas: must be a non-negative integer`, { name: r.name!, kind: 'Scale', causes: [{ field: 'spec.replicas', message: 'must be greater than or equal to 0' }] });
  }
  const rv = next.metadata?.resourceVersion;
  const updated = ctx.rest.update(kind, r.namespace, r.name!, { ...structuredClone(cur), metadata: { ...cur.metadata, resourceVersion: rv || undefined }, spec: { ...cur.spec, replicas } }, undefined, { dryRun: isDryRun(q) });
  sendJson(res, 200, toScale(updated));
}

export function binding(ctx: HandlerContext, ns: string, name: string, body: Obj, dryRun: boolean, res: ServerResponse): void {
  const pods = kindByGroupKind('', 'Pod')!;
  const target = body.target;
  if (!target?.name || (target.kind && target.kind !== 'Node')) {
    throw new ApiError('Invalid', 'Binding target must name a Node: {"target":{"kind":"Node","name":"<node>"}}', { name, kind: 'bindings' });
  }
  const pod = ctx.rest.get(pods, ns, name);
  if (pod.spec?.nodeName) {
    throw new ApiError('Conflict', `Operation cannot be fulfilled on pods/binding "${name}": pod ${name} is already assigned to node "${pod.spec.nodeName}"`,
      { name, kind: 'pods/binding' });
  }
  if (!dryRun) {
    const next = structuredClone(pod);
    next.spec.nodeName = target.name;
    const cond = { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
    next.status = { ...next.status, conditions: [...(next.status?.conditions ?? []).filter((c: Obj) => c.type !== 'PodScheduled'), cond] };
    next.metadata.resourceVersion = undefined;
    ctx.rest.store.put(resourceKey(pods), next);
  }
  sendJson(res, 201, successStatus());
}

export function tokenRequest(ctx: HandlerContext, ns: string, sa: string, body: Obj, res: ServerResponse): void {
  const spec = body.spec ?? {};
  let pod: { name: string; uid: string } | undefined;
  const ref = spec.boundObjectRef;
  if (ref) {
    if (ref.kind !== 'Pod') throw new ApiError('BadRequest', `boundObjectRef.kind ${String(ref.kind)} is not supported; bind tokens to a Pod`);
    const p = ctx.rest.get(kindByGroupKind('', 'Pod')!, ns, ref.name);
    if (ref.uid && ref.uid !== p.metadata.uid) throw new ApiError('Conflict', `the UID in the bound object reference (${ref.uid}) does not match pod ${ns}/${ref.name} (${p.metadata.uid})`);
    pod = { name: ref.name, uid: p.metadata.uid };
  }
  const { token, exp } = mintToken(ctx.rest, ctx.key, ns, sa, { audiences: spec.audiences, expirationSeconds: spec.expirationSeconds, ...(pod ? { pod } : {}) });
  sendJson(res, 201, {
    kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1', metadata: { name: sa, namespace: ns, creationTimestamp: null },
    spec: { audiences: spec.audiences?.length ? spec.audiences : [DEFAULT_AUDIENCE], expirationSeconds: exp - Math.floor(Date.now() / 1000), boundObjectRef: ref ?? null },
    status: { token, expirationTimestamp: new Date(exp * 1000).toISOString().replace(/\.\d+Z$/, 'Z') },
  });
}

export async function tokenReview(ctx: HandlerContext, live: LiveCheck, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readObject(req);
  const token = body.spec?.token;
  if (typeof token !== 'string' || !token) throw new ApiError('Invalid', 'TokenReview spec.token is required', { kind: 'TokenReview', causes: [{ field: 'spec.token', message: 'Required value' }] });
  const audiences: string[] = body.spec?.audiences?.length ? body.spec.audiences : [DEFAULT_AUDIENCE];
  const result = authenticateToken(ctx.key, token, live, audiences);
  let tokenAud: string[] = [];
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString());
    tokenAud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  } catch {}
  sendJson(res, 201, {
    kind: 'TokenReview', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: null }, spec: body.spec,
    status: result.ok
      ? { authenticated: true, user: result.user, audiences: audiences.filter((a) => tokenAud.includes(a)) }
      : { authenticated: false, user: {}, error: result.error },
  });
}

export function podLog(ctx: HandlerContext, ns: string, name: string, q: URLSearchParams, res: ServerResponse): void {
  const pod = ctx.rest.get(kindByGroupKind('', 'Pod')!, ns, name);
  const containers: string[] = (pod.spec?.containers ?? []).map((c: Obj) => c.name);
  const container = q.get('container') ?? undefined;
  if (!container && containers.length > 1) {
    throw new ApiError('BadRequest', `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`);
  }
  const c = container ?? containers[0];
  if (c && !containers.includes(c) && !(pod.spec?.initContainers ?? []).some((x: Obj) => x.name === c)) {
    throw new ApiError('BadRequest', `container ${c} is not valid for pod ${name}`);
  }
  const tail = intParam(q, 'tailLines');
  const follow = q.get('follow') === 'true';
  const provider = ctx.podLogs();
  const stream = provider?.(ns, name, { ...(c ? { container: c } : {}), follow, ...(tail !== undefined ? { tailLines: tail } : {}), previous: q.get('previous') === 'true' });
  if (!stream) throw new ApiError('BadRequest', `container "${c ?? ''}" in pod "${name}" is waiting to start: no logs yet`);
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  res.on('close', () => stream.destroy());
  stream.on('error', (err) => {
    ctx.log.warn({ err: errorMessage(err), pod: `${ns}/${name}` }, 'pod log stream failed');
    res.end();
  });
  stream.pipe(res);
}
