// Owns HTTPLocalRateLimitPolicy (policy.ambient-mesh.io/v1alpha1, our CRD modelled on Linkerd's policy of the same
// name; schema in deploy/crds/httplocalratelimitpolicy.yaml): the verdict on one object and the RateLimitPolicy
// list one waypoint receives. Pure.
//
// Attachment: targetRefs to this waypoint's Gateway (policy in its namespace) → all its traffic; to a Service bound
// to it (policy in the service's namespace) → that service's requests; to an HTTPRoute in the policy's namespace
// that this waypoint serves → requests matched by that route's rules. The refs are a union: a request matching any
// of them counts against the same buckets. As in Linkerd, identity and override limits may not exceed the total.

import { spiffeId } from '../../shared/spiffe.ts';
import type { RateLimitPolicy } from '../../shared/waypoint/config.ts';
import { PolicyInvalidError } from '../policy/errors.ts';
import { describe, isObj, readList, readObj } from '../policy/spec.ts';
import { canonicalGroup, type WaypointPolicyContext } from './authn.ts';
import { accepted, rejected, type ConfigVerdict, type KubeObject } from './verdict.ts';

const KIND = 'HTTPLocalRateLimitPolicy';
const GATEWAY_GROUP = 'gateway.networking.k8s.io';
const MAX_RPS = 2_147_483_647;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export interface RateLimitContext extends WaypointPolicyContext {
  trustDomain: string;
  /** Ids of the HttpRoutes (`HTTPRoute/<ns>/<name>#<rule>`) this waypoint serves for that HTTPRoute; empty: none. */
  routeIdsOf(namespace: string, name: string): string[];
}

interface Limit {
  requestsPerSecond: number;
  burst?: number;
}

interface ParsedPolicy {
  refs: Array<{ kind: 'Gateway' | 'Service' | 'HTTPRoute'; name: string }>;
  total?: Limit;
  identity?: Limit;
  overrides: Array<Limit & { clients: Array<{ namespace: string; name: string }> }>;
}

function readCount(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_RPS) {
    throw new PolicyInvalidError(field, `must be a whole number from 1 to ${MAX_RPS}, got ${describe(v)}`);
  }
  return v;
}

function readLimit(v: unknown, field: string, extra: readonly string[] = []): Limit | undefined {
  if (v === undefined || v === null) return undefined;
  const o = readObj(v, field, ['requestsPerSecond', 'burst', ...extra]);
  const requestsPerSecond = readCount(o.requestsPerSecond, `${field}.requestsPerSecond`);
  const burst = o.burst === undefined || o.burst === null ? undefined : readCount(o.burst, `${field}.burst`);
  return { requestsPerSecond, ...(burst !== undefined ? { burst } : {}) };
}

function readName(v: unknown, field: string, re: RegExp, what: string): string {
  if (typeof v !== 'string' || v === '' || v.length > 253 || !re.test(v)) {
    throw new PolicyInvalidError(field, `must be a valid ${what}, got ${describe(v)}`);
  }
  return v;
}

function parse(o: KubeObject): ParsedPolicy {
  const ns = o.metadata.namespace ?? '';
  const spec = readObj(o.spec ?? {}, 'spec', ['targetRefs', 'total', 'identity', 'overrides']);
  const rawRefs = readList(spec.targetRefs, 'spec.targetRefs');
  if (rawRefs.length === 0) throw new PolicyInvalidError('spec.targetRefs', 'must name at least one Gateway, Service or HTTPRoute');
  const refs = rawRefs.map((r, i) => {
    const f = `spec.targetRefs[${i}]`;
    const ref = readObj(r, f, ['group', 'kind', 'name']);
    if (ref.group !== undefined && typeof ref.group !== 'string') throw new PolicyInvalidError(`${f}.group`, `must be a string, got ${describe(ref.group)}`);
    const kind = ref.kind as ParsedPolicy['refs'][number]['kind'];
    if (kind !== 'Gateway' && kind !== 'Service' && kind !== 'HTTPRoute') {
      throw new PolicyInvalidError(`${f}.kind`, `unsupported kind ${describe(kind)}; expected Gateway, Service or HTTPRoute`);
    }
    const want = kind === 'Service' ? '' : GATEWAY_GROUP;
    const group = canonicalGroup((ref.group as string | undefined) ?? want);
    if (group !== want) throw new PolicyInvalidError(`${f}.group`, `must be ${JSON.stringify(want || 'core')} for kind ${kind}, got ${JSON.stringify(ref.group)}`);
    return { kind, name: readName(ref.name, `${f}.name`, kind === 'Service' ? DNS_LABEL : DNS_SUBDOMAIN, `${kind} name`) };
  });
  const total = readLimit(spec.total, 'spec.total');
  const identity = readLimit(spec.identity, 'spec.identity');
  const overrides = readList(spec.overrides, 'spec.overrides').map((v, i) => {
    const f = `spec.overrides[${i}]`;
    if (!isObj(v)) throw new PolicyInvalidError(f, `must be an object, got ${describe(v)}`);
    const limit = readLimit(v, f, ['clientRefs'])!;
    const rawClients = readList(v.clientRefs, `${f}.clientRefs`);
    if (rawClients.length === 0) throw new PolicyInvalidError(`${f}.clientRefs`, 'must name at least one ServiceAccount');
    const clients = rawClients.map((c, j) => {
      const cf = `${f}.clientRefs[${j}]`;
      const ref = readObj(c, cf, ['group', 'kind', 'namespace', 'name']);
      if (ref.kind !== 'ServiceAccount') throw new PolicyInvalidError(`${cf}.kind`, `unsupported kind ${describe(ref.kind)}; only ServiceAccount is supported`);
      if (ref.group !== undefined && ref.group !== '' && ref.group !== 'core') throw new PolicyInvalidError(`${cf}.group`, 'must be empty or "core" for ServiceAccount');
      const namespace = ref.namespace === undefined || ref.namespace === '' ? ns : readName(ref.namespace, `${cf}.namespace`, DNS_LABEL, 'namespace');
      return { namespace, name: readName(ref.name, `${cf}.name`, DNS_SUBDOMAIN, 'ServiceAccount name') };
    });
    return { ...limit, clients };
  });
  if (!total && !identity && overrides.length === 0) throw new PolicyInvalidError('spec', 'set at least one of total, identity or overrides');
  if (total) {
    if (identity && identity.requestsPerSecond > total.requestsPerSecond) {
      throw new PolicyInvalidError('spec.identity.requestsPerSecond', `must not exceed total.requestsPerSecond (${total.requestsPerSecond})`);
    }
    overrides.forEach((ov, i) => {
      if (ov.requestsPerSecond > total.requestsPerSecond) {
        throw new PolicyInvalidError(`spec.overrides[${i}].requestsPerSecond`, `must not exceed total.requestsPerSecond (${total.requestsPerSecond})`);
      }
    });
  }
  return { refs, ...(total ? { total } : {}), ...(identity ? { identity } : {}), overrides };
}

/** The verdict on one HTTPLocalRateLimitPolicy. */
export function validateRateLimitPolicy(o: KubeObject): ConfigVerdict {
  try {
    parse(o);
    return accepted(KIND, o);
  } catch (err) {
    if (err instanceof PolicyInvalidError) return rejected(KIND, o, 'Invalid', err.message);
    throw err;
  }
}

/** The RateLimitPolicy list for one waypoint, sorted by namespace/name; invalid objects are skipped. */
export function waypointRateLimits(objs: readonly KubeObject[], ctx: RateLimitContext): RateLimitPolicy[] {
  const out: RateLimitPolicy[] = [];
  for (const o of objs) {
    let p: ParsedPolicy;
    try {
      p = parse(o);
    } catch (err) {
      if (err instanceof PolicyInvalidError) continue;
      throw err;
    }
    const namespace = o.metadata.namespace ?? '';
    const name = o.metadata.name ?? '';
    let all = false;
    const services: string[] = [];
    const routes: string[] = [];
    for (const ref of p.refs) {
      if (ref.kind === 'Gateway') {
        if (ref.name === ctx.waypoint.name && namespace === ctx.waypoint.namespace) all = true;
      } else if (ref.kind === 'Service') {
        for (const s of ctx.boundServices) {
          if (s.name === ref.name && s.namespace === namespace && (s.kind ?? 'Service') === 'Service' && !services.includes(s.key)) services.push(s.key);
        }
      } else if (ctx.routeIdsOf(namespace, ref.name).length > 0) {
        const prefix = `HTTPRoute/${namespace}/${ref.name}`;
        if (!routes.includes(prefix)) routes.push(prefix);
      }
    }
    if (!all && services.length === 0 && routes.length === 0) continue;
    const policy: RateLimitPolicy = {
      namespace, name,
      // Route-only policies carry an empty service list: they apply through `routes` alone.
      target: all ? { all: true } : { services: services.sort() },
      ...(!all && routes.length > 0 ? { routes: routes.sort() } : {}),
      ...(p.total ? { total: p.total } : {}),
      ...(p.identity ? { perIdentity: p.identity } : {}),
    };
    if (p.overrides.length > 0) {
      // `burst` of an override is validated but not carried: the contract's overrides have no burst field yet.
      policy.overrides = p.overrides.map((ov) => ({
        principals: ov.clients.map((c) => spiffeId(ctx.trustDomain, { namespace: c.namespace, serviceAccount: c.name })),
        requestsPerSecond: ov.requestsPerSecond,
      }));
    }
    out.push(policy);
  }
  return out.sort((a, b) => (a.namespace === b.namespace ? cmp(a.name, b.name) : cmp(a.namespace, b.namespace)));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
