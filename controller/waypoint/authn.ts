// Owns RequestAuthentication for waypoints: the verdict on one object (Istio's validateJwtRule plus our own
// unsupported fields) and the JwtPolicy list one waypoint receives. Pure: no I/O, no clock.
//
// Attachment follows Istio's WorkloadPolicyMatcher.ShouldAttachPolicy for a waypoint (pilot/pkg/model/
// policyattachment.go): targetRefs only — a Gateway ref naming this waypoint (policy in the waypoint's namespace)
// or a GatewayClass `istio-waypoint` ref from the root namespace → all traffic; a Service / ServiceEntry ref (policy
// in the service's namespace) to a service bound to this waypoint → that service's traffic. A policy without
// targetRefs (selector or namespace-wide) is never attached to a waypoint: Istio's "waypoints never use selector".
// The JWT itself is enforced by the waypoint (waypoint/authn), whose semantics follow Envoy's jwt_authn.

import { createPublicKey } from 'node:crypto';
import type { JwtPolicy, JwtRule, PolicyTarget, ServiceKeyText } from '../../shared/waypoint/config.ts';
import { PolicyInvalidError } from '../policy/errors.ts';
import { describe, isObj, readList, readObj, readSelector, readStrings, type Obj } from '../policy/spec.ts';
import { accepted, rejected, type ConfigVerdict, type KubeObject } from './verdict.ts';

const KIND = 'RequestAuthentication';
export const WAYPOINT_GATEWAY_CLASS = 'istio-waypoint';
const GATEWAY_GROUP = 'gateway.networking.k8s.io';

/** What a waypoint-scoped policy derivation needs to know about one waypoint. */
export interface WaypointPolicyContext {
  rootNamespace: string;
  /**
   * The waypoint's Gateway. `podLabels` is accepted for callers that have it but not used: Istio never attaches
   * selector-based policies to waypoints.
   */
  waypoint: { namespace: string; name: string; podLabels: Record<string, string> };
  /** Services bound to this waypoint; `kind` defaults to Service (a ServiceEntry is matched by ServiceEntry refs). */
  boundServices: Array<{ key: ServiceKeyText; namespace: string; name: string; kind?: 'Service' | 'ServiceEntry' }>;
}

/** A parsed policy target reference; `group` is '' for the core group. */
export interface TargetRef {
  group: string;
  kind: string;
  name: string;
}

/** Thrown for a value we parse but do not enforce (→ reason UnsupportedValue). */
class UnsupportedError extends PolicyInvalidError {}

// RFC 9110 token: what a header field name may contain.
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Header names the waypoint owns or HTTP reserves; writing a claim into one of these would break the request.
const RESERVED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'te', 'keep-alive', 'proxy-connection']);
const B64URL = /^[A-Za-z0-9_-]+$/;
const DURATION = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/;

const ALLOWED_TARGETS: ReadonlyArray<{ group: string; kind: string }> = [
  { group: '', kind: 'Service' },
  { group: 'networking.istio.io', kind: 'ServiceEntry' },
  { group: GATEWAY_GROUP, kind: 'Gateway' },
  { group: GATEWAY_GROUP, kind: 'GatewayClass' },
];

/** `core` and '' both name the core group (Istio's CanonicalGroup). */
export function canonicalGroup(g: string): string {
  return g === 'core' ? '' : g;
}

/**
 * Istio's validatePolicyTargetReference: name set, no namespace (cross-namespace refs are unsupported), and a
 * group/kind from `allowed`.
 */
export function readPolicyTargetRefs(spec: Obj, allowed: ReadonlyArray<{ group: string; kind: string }>): TargetRef[] {
  const raw: Array<{ v: unknown; field: string }> = [];
  if (spec.targetRef !== undefined && spec.targetRef !== null) raw.push({ v: spec.targetRef, field: 'spec.targetRef' });
  readList(spec.targetRefs, 'spec.targetRefs').forEach((v, i) => raw.push({ v, field: `spec.targetRefs[${i}]` }));
  return raw.map(({ v, field }) => {
    const ref = readObj(v, field, ['group', 'kind', 'name', 'namespace']);
    if (ref.group !== undefined && typeof ref.group !== 'string') throw new PolicyInvalidError(`${field}.group`, `must be a string, got ${describe(ref.group)}`);
    if (typeof ref.kind !== 'string' || ref.kind === '') throw new PolicyInvalidError(`${field}.kind`, 'must be a non-empty string');
    if (typeof ref.name !== 'string' || ref.name === '') throw new PolicyInvalidError(`${field}.name`, 'must be a non-empty string');
    if (ref.namespace !== undefined && ref.namespace !== '') {
      throw new PolicyInvalidError(`${field}.namespace`, 'must not be set; cross-namespace references are not supported (put the policy in the target\'s namespace)');
    }
    const group = canonicalGroup(ref.group ?? '');
    if (!allowed.some((a) => a.group === group && a.kind === ref.kind)) {
      const list = allowed.map((a) => `${a.group || 'core'}/${a.kind}`).join(', ');
      throw new PolicyInvalidError(field, `unsupported target ${group || 'core'}/${ref.kind}; expected one of ${list}`);
    }
    return { group, kind: ref.kind, name: ref.name };
  });
}

/**
 * Where a policy with these targetRefs applies on this waypoint (Istio's waypoint attachment), or undefined when
 * it does not apply here at all.
 */
export function waypointTarget(policyNamespace: string, refs: readonly TargetRef[], ctx: WaypointPolicyContext): PolicyTarget | undefined {
  let all = false;
  const services: ServiceKeyText[] = [];
  for (const ref of refs) {
    const group = canonicalGroup(ref.group);
    if ((group === '' && ref.kind === 'Service') || (group === 'networking.istio.io' && ref.kind === 'ServiceEntry')) {
      for (const s of ctx.boundServices) {
        if (s.name === ref.name && s.namespace === policyNamespace && (s.kind ?? 'Service') === ref.kind && !services.includes(s.key)) services.push(s.key);
      }
    } else if (group === GATEWAY_GROUP && ref.kind === 'GatewayClass') {
      if (ref.name === WAYPOINT_GATEWAY_CLASS && policyNamespace === ctx.rootNamespace) all = true;
    } else if (group === GATEWAY_GROUP && ref.kind === 'Gateway') {
      if (ref.name === ctx.waypoint.name && policyNamespace === ctx.waypoint.namespace) all = true;
    }
  }
  if (all) return { all: true };
  return services.length > 0 ? { services: services.sort() } : undefined;
}

// ---- RequestAuthentication ----

interface ParsedRequestAuthentication {
  refs: TargetRef[];
  rules: JwtRule[];
}

function readString(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new PolicyInvalidError(field, `must be a string, got ${describe(v)}`);
  return v;
}

function checkHeaderName(name: string, field: string): string {
  if (!HEADER_NAME.test(name)) throw new PolicyInvalidError(field, `${JSON.stringify(name)} is not a valid HTTP header name`);
  return name.toLowerCase();
}

/** Istio's ParseJwksURI: an absolute http(s) URL. */
function checkJwksUri(uri: string, field: string): void {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    throw new PolicyInvalidError(field, `${JSON.stringify(uri)} is not a URL; use http(s)://host[:port]/path`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new PolicyInvalidError(field, `URI scheme ${JSON.stringify(u.protocol.slice(0, -1))} is not supported; use http or https`);
  }
  if (u.hostname === '') throw new PolicyInvalidError(field, 'must name a host');
}

/** The key members node:crypto needs per key type; anything else in a JWK (use, alg, kid, x5c) is not key material. */
function jwkMaterial(k: Obj): Record<string, unknown> | undefined {
  switch (k.kty) {
    case 'RSA': return { kty: 'RSA', n: k.n, e: k.e };
    case 'EC': return { kty: 'EC', crv: k.crv, x: k.x, y: k.y };
    case 'OKP': return { kty: 'OKP', crv: k.crv, x: k.x };
    default: return undefined;
  }
}

/** Inline JWKS: JSON with a non-empty `keys` list of public keys we can verify with (RSA, EC, OKP Ed25519). */
function checkJwks(text: string, field: string): void {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new PolicyInvalidError(field, `jwks parse error: ${(err as Error).message}`);
  }
  if (!isObj(doc) || !Array.isArray(doc.keys)) throw new PolicyInvalidError(field, 'must be a JWKS: a JSON object with a "keys" list');
  if (doc.keys.length === 0) throw new PolicyInvalidError(field, 'the JWKS has no keys');
  doc.keys.forEach((k: unknown, i: number) => {
    if (!isObj(k) || typeof k.kty !== 'string') throw new PolicyInvalidError(`${field}.keys[${i}]`, 'must be a JWK object with a string "kty"');
    const material = jwkMaterial(k);
    if (!material) throw new PolicyInvalidError(`${field}.keys[${i}]`, `key type ${JSON.stringify(k.kty)} is not supported; use RSA, EC or OKP (Ed25519) public keys`);
    if (k.kty === 'OKP' && k.crv !== 'Ed25519') throw new PolicyInvalidError(`${field}.keys[${i}].crv`, 'only Ed25519 is supported for OKP keys');
    if (k.d !== undefined) throw new PolicyInvalidError(`${field}.keys[${i}]`, 'is a private key; publish only the public part');
    for (const [m, v] of Object.entries(material)) {
      if (m !== 'kty' && m !== 'crv' && (typeof v !== 'string' || !B64URL.test(v))) {
        throw new PolicyInvalidError(`${field}.keys[${i}].${m}`, 'must be a non-empty base64url string');
      }
    }
    try {
      createPublicKey({ key: material as never, format: 'jwk' });
    } catch (err) {
      throw new PolicyInvalidError(`${field}.keys[${i}]`, `is not a valid ${k.kty} public key: ${(err as Error).message}`);
    }
  });
}

function readJwtRule(v: unknown, f: string): JwtRule {
  const r = readObj(v, f, [
    'issuer', 'audiences', 'jwksUri', 'jwks', 'fromHeaders', 'fromParams', 'fromCookies', 'outputPayloadToHeader',
    'outputClaimToHeaders', 'forwardOriginalToken', 'timeout', 'spaceDelimitedClaims',
  ]);
  const issuer = readString(r.issuer, `${f}.issuer`) ?? '';
  const jwksUri = readString(r.jwksUri, `${f}.jwksUri`) ?? '';
  const jwks = readString(r.jwks, `${f}.jwks`) ?? '';
  if (issuer === '' && jwksUri === '') throw new PolicyInvalidError(`${f}.issuer`, 'issuer or jwksUri must be a non-empty string');
  const audiences = readStrings(r.audiences, `${f}.audiences`);
  if (jwksUri !== '') checkJwksUri(jwksUri, `${f}.jwksUri`);
  if (jwks !== '') checkJwks(jwks, `${f}.jwks`);

  const fromHeaders = readList(r.fromHeaders, `${f}.fromHeaders`).map((h, i) => {
    const hf = `${f}.fromHeaders[${i}]`;
    const o = readObj(h, hf, ['name', 'prefix']);
    const name = readString(o.name, `${hf}.name`) ?? '';
    if (name === '') throw new PolicyInvalidError(`${hf}.name`, 'location header name must be a non-empty string');
    const prefix = readString(o.prefix, `${hf}.prefix`);
    return { name: checkHeaderName(name, `${hf}.name`), ...(prefix ? { prefix } : {}) };
  });
  const fromParams = readStrings(r.fromParams, `${f}.fromParams`);
  const outputClaimToHeaders = readList(r.outputClaimToHeaders, `${f}.outputClaimToHeaders`).map((c, i) => {
    const cf = `${f}.outputClaimToHeaders[${i}]`;
    const o = readObj(c, cf, ['header', 'claim']);
    const header = readString(o.header, `${cf}.header`) ?? '';
    const claim = readString(o.claim, `${cf}.claim`) ?? '';
    if (header === '' || claim === '') throw new PolicyInvalidError(cf, 'header and claim must be non-empty strings');
    const lower = checkHeaderName(header, `${cf}.header`);
    if (RESERVED_HEADERS.has(lower)) throw new PolicyInvalidError(`${cf}.header`, `${JSON.stringify(header)} is reserved; pick another header name`);
    return { header: lower, claim };
  });
  const payloadHeader = readString(r.outputPayloadToHeader, `${f}.outputPayloadToHeader`);
  const outputPayloadToHeader = payloadHeader ? checkHeaderName(payloadHeader, `${f}.outputPayloadToHeader`) : undefined;
  if (outputPayloadToHeader && RESERVED_HEADERS.has(outputPayloadToHeader)) {
    throw new PolicyInvalidError(`${f}.outputPayloadToHeader`, `${JSON.stringify(payloadHeader)} is reserved; pick another header name`);
  }
  if (r.forwardOriginalToken !== undefined && r.forwardOriginalToken !== null && typeof r.forwardOriginalToken !== 'boolean') {
    throw new PolicyInvalidError(`${f}.forwardOriginalToken`, `must be a boolean, got ${describe(r.forwardOriginalToken)}`);
  }
  const timeout = readString(r.timeout, `${f}.timeout`);
  if (timeout !== undefined && !DURATION.test(timeout)) throw new PolicyInvalidError(`${f}.timeout`, `${JSON.stringify(timeout)} is not a duration such as 5s or 500ms`);
  // Ignoring these would change who is authenticated or what authorization sees, so they reject the object.
  if (readStrings(r.fromCookies, `${f}.fromCookies`).length > 0) {
    throw new UnsupportedError(`${f}.fromCookies`, 'tokens in cookies are not supported by this mesh; use fromHeaders or fromParams');
  }
  if (readStrings(r.spaceDelimitedClaims, `${f}.spaceDelimitedClaims`).length > 0) {
    throw new UnsupportedError(`${f}.spaceDelimitedClaims`, 'only the default space-delimited claims (scope, permission) are supported');
  }

  return {
    issuer,
    ...(audiences.length > 0 ? { audiences } : {}),
    // Istio (istiod fetch mode, the default) uses the inline keys when both are set.
    ...(jwks !== '' ? { jwks } : jwksUri !== '' ? { jwksUri } : {}),
    ...(fromHeaders.length > 0 ? { fromHeaders } : {}),
    ...(fromParams.length > 0 ? { fromParams } : {}),
    ...(outputClaimToHeaders.length > 0 ? { outputClaimToHeaders } : {}),
    ...(outputPayloadToHeader ? { outputPayloadToHeader } : {}),
    ...(r.forwardOriginalToken === true ? { forwardOriginalToken: true } : {}),
  };
}

function parseRequestAuthentication(o: KubeObject): ParsedRequestAuthentication {
  const spec = o.spec === undefined || o.spec === null ? {} : readObj(o.spec, 'spec', ['selector', 'targetRef', 'targetRefs', 'jwtRules']);
  const hasSelector = spec.selector !== undefined && spec.selector !== null;
  const hasRef = spec.targetRef !== undefined && spec.targetRef !== null;
  const hasRefs = readList(spec.targetRefs, 'spec.targetRefs').length > 0;
  if (Number(hasSelector) + Number(hasRef) + Number(hasRefs) > 1) throw new PolicyInvalidError('spec', 'set only one of selector, targetRef or targetRefs');
  readSelector(spec.selector, 'spec.selector');
  const refs = readPolicyTargetRefs(spec, ALLOWED_TARGETS);
  const rules = readList(spec.jwtRules, 'spec.jwtRules').map((r, i) => readJwtRule(r, `spec.jwtRules[${i}]`));
  return { refs, rules };
}

function verdictOf(o: KubeObject, fn: () => void): ConfigVerdict {
  try {
    fn();
    return accepted(KIND, o);
  } catch (err) {
    if (err instanceof UnsupportedError) return rejected(KIND, o, 'UnsupportedValue', err.message);
    if (err instanceof PolicyInvalidError) return rejected(KIND, o, 'Invalid', err.message);
    throw err;
  }
}

/** The verdict on one RequestAuthentication (whether or not it targets a waypoint). */
export function validateRequestAuthentication(o: KubeObject): ConfigVerdict {
  return verdictOf(o, () => parseRequestAuthentication(o));
}

/**
 * The JwtPolicy list for one waypoint: every valid RequestAuthentication attached to it, sorted by
 * namespace/name. Invalid objects are skipped (their verdict says why).
 */
export function waypointJwtPolicies(objs: readonly KubeObject[], ctx: WaypointPolicyContext): JwtPolicy[] {
  const out: JwtPolicy[] = [];
  for (const o of objs) {
    let parsed: ParsedRequestAuthentication;
    try {
      parsed = parseRequestAuthentication(o);
    } catch (err) {
      if (err instanceof PolicyInvalidError) continue;
      throw err;
    }
    const namespace = o.metadata.namespace ?? '';
    const name = o.metadata.name ?? '';
    if (parsed.refs.length === 0 || parsed.rules.length === 0) continue;
    const target = waypointTarget(namespace, parsed.refs, ctx);
    if (target) out.push({ namespace, name, target, rules: parsed.rules });
  }
  return out.sort((a, b) => (a.namespace === b.namespace ? cmp(a.name, b.name) : cmp(a.namespace, b.namespace)));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
