// Owns request authentication for one request: which JwtRules apply (by the request's destination service), where
// tokens are looked for, and the verdict, with Istio's semantics as Envoy's jwt_authn enforces them:
//   - no token at any applicable location → pass, unauthenticated (authorization decides what that may do);
//   - every token found must verify: unknown issuer, bad signature, expired (60 s skew), not yet valid → 401,
//     audience not allowed → 403, each with Envoy's body text and `WWW-Authenticate: Bearer realm=…`;
//   - CORS preflights skip authentication (Istio sets bypass_cors_preflight);
//   - headers that outputClaimToHeaders / outputPayloadToHeader write are always stripped from the request first,
//     so a client cannot forge them; on success they are set from the token, and the token's header is removed
//     unless forwardOriginalToken.
// Where Envoy would accept a request that carries a valid token at one location and an invalid one at another
// (Istio's OR-of-providers quirk), we reject: Istio documents multiple tokens as unsupported.

import type { IncomingHttpHeaders } from 'node:http';
import type { JwtPolicy, JwtRule } from '../../shared/waypoint/config.ts';
import type { RequestAuth, RequestInfo } from '../types.ts';
import { STATUS_TEXT, audienceAllowed, checkTime, parseJwt, verifySignature, type Jwt, type Jwks, type JwtStatus } from './jwt.ts';

export type AuthnResult =
  | { ok: true; auth?: RequestAuth; setHeaders: Record<string, string>; removeHeaders: string[] }
  | { ok: false; status: 401 | 403; message: string; /** Value for the response's WWW-Authenticate header. */ wwwAuthenticate: string };

/** How authenticate gets keys; see jwks.ts. */
export interface KeySource {
  keysFor(rule: JwtRule): Promise<Jwks | { error: JwtStatus }>;
  /** Fresh keys after a kid miss, or undefined when no refetch happened (inline keys, rate limit, failure). */
  refetchFor(rule: JwtRule): Promise<Jwks | undefined>;
}

const DEFAULT_HEADER = 'authorization';
const BEARER = 'Bearer ';
const DEFAULT_PARAM = 'access_token';
// Claims Istio asks Envoy to split on spaces in the metadata authorization reads (buildSpaceDelimitedClaims).
const SPACE_DELIMITED = ['scope', 'permission'];
const JWT_CHARS = /[A-Za-z0-9\-_.]+/;

interface Location {
  header?: string;
  prefix?: string;
  param?: string;
  rules: JwtRule[];
}

interface Token {
  value: string;
  location: Location;
}

/** The rules of every policy that targets the whole waypoint or the request's service. */
export function applicableRules(policies: readonly JwtPolicy[], service: string | undefined): JwtRule[] {
  const out: JwtRule[] = [];
  for (const p of policies) {
    if (p.target.all || (service !== undefined && p.target.services.includes(service))) out.push(...p.rules);
  }
  return out;
}

/** Envoy's extractor: locations keyed by header+prefix or param, each with the rules (issuers) that named it. */
function locationsOf(rules: readonly JwtRule[]): Location[] {
  const byKey = new Map<string, Location>();
  const add = (key: string, make: () => Omit<Location, 'rules'>, rule: JwtRule) => {
    let l = byKey.get(key);
    if (!l) byKey.set(key, (l = { ...make(), rules: [] }));
    if (!l.rules.includes(rule)) l.rules.push(rule);
  };
  for (const r of rules) {
    for (const h of r.fromHeaders ?? []) {
      const name = h.name.toLowerCase();
      add(`h:${name}:${h.prefix ?? ''}`, () => ({ header: name, prefix: h.prefix ?? '' }), r);
    }
    for (const p of r.fromParams ?? []) add(`q:${p}`, () => ({ param: p }), r);
    if ((r.fromHeaders ?? []).length === 0 && (r.fromParams ?? []).length === 0) {
      add(`h:${DEFAULT_HEADER}:${BEARER}`, () => ({ header: DEFAULT_HEADER, prefix: BEARER }), r);
      add(`q:${DEFAULT_PARAM}`, () => ({ param: DEFAULT_PARAM }), r);
    }
  }
  return [...byKey.values()];
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function extract(locations: readonly Location[], req: RequestInfo): Token[] {
  const tokens: Token[] = [];
  let params: URLSearchParams | undefined;
  for (const l of locations) {
    if (l.header !== undefined) {
      const v = headerValue(req.headers, l.header);
      if (v === undefined) continue;
      if (!l.prefix) {
        tokens.push({ value: v, location: l });
        continue;
      }
      // As Envoy: the prefix may appear anywhere; the token is the run of JWT characters after it.
      const at = v.indexOf(l.prefix);
      if (at < 0) continue;
      const rest = v.slice(at + l.prefix.length);
      tokens.push({ value: JWT_CHARS.exec(rest)?.[0] ?? v, location: l });
    } else if (l.param !== undefined) {
      params ??= new URLSearchParams(req.query);
      const v = params.get(l.param);
      if (v !== null) tokens.push({ value: v, location: l });
    }
  }
  return tokens;
}

function isCorsPreflight(req: RequestInfo): boolean {
  return req.method === 'OPTIONS' && !!headerValue(req.headers, 'origin') && !!headerValue(req.headers, 'access-control-request-method');
}

/** A claim by name; `a.b.c` walks nested objects (Envoy StructUtils). */
function claimAt(payload: Record<string, unknown>, name: string): unknown {
  if (name in payload) return payload[name];
  let cur: unknown = payload;
  for (const part of name.split('.')) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Envoy's claim_to_headers rendering: strings as is, numbers and booleans printed, objects and lists base64 JSON. */
export function claimHeaderValue(v: unknown): string | undefined {
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : undefined;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'object' && v !== null) return Buffer.from(JSON.stringify(v)).toString('base64');
  return undefined;
}

/** What authorization sees as request.auth.claims: the payload, with scope/permission split into lists. */
function claimsOf(payload: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...payload };
  for (const c of SPACE_DELIMITED) {
    const v = payload[c];
    if (typeof v === 'string') out[c] = v.split(' ').filter((s) => s !== '');
  }
  return out;
}

type Verified = { rule: JwtRule; jwt: Jwt };

async function verifyWithRule(jwt: Jwt, rule: JwtRule, nowSeconds: number, keys: KeySource): Promise<JwtStatus | undefined> {
  const timeErr = checkTime(jwt, nowSeconds);
  if (timeErr) return timeErr;
  if (!audienceAllowed(rule.audiences, jwt.audiences)) return 'JwtAudienceNotAllowed';
  const set = await keys.keysFor(rule);
  if ('error' in set) return set.error;
  const sigErr = verifySignature(jwt, set);
  if (sigErr !== 'JwksKidAlgMismatch') return sigErr;
  // A kid we have never seen: the issuer may have rotated keys since our last fetch.
  const fresh = await keys.refetchFor(rule);
  return fresh ? verifySignature(jwt, fresh) : sigErr;
}

async function verifyToken(token: Token, nowSeconds: number, keys: KeySource): Promise<Verified | { error: JwtStatus }> {
  const jwt = parseJwt(token.value);
  if ('error' in jwt) return jwt;
  // Rules naming this issuer, then rules without an issuer (any issuer, keys from jwksUri).
  const candidates = [
    ...token.location.rules.filter((r) => r.issuer !== '' && r.issuer === jwt.iss),
    ...token.location.rules.filter((r) => r.issuer === ''),
  ];
  if (candidates.length === 0) return { error: 'JwtUnknownIssuer' };
  // Several rules may share an issuer (different audiences or keys): Istio ORs providers, so any may accept.
  let firstErr: JwtStatus | undefined;
  for (const rule of candidates) {
    const err = await verifyWithRule(jwt, rule, nowSeconds, keys);
    if (!err) return { rule, jwt };
    firstErr ??= err;
  }
  return { error: firstErr ?? 'JwtVerificationFail' };
}

function realm(req: RequestInfo): string {
  return `http://${req.authority}${req.path}${req.query ? `?${req.query}` : ''}`;
}

/** Authenticate one request against the waypoint's JwtPolicies. */
export async function authenticateRequest(policies: readonly JwtPolicy[], req: RequestInfo, keys: KeySource, nowMs: number): Promise<AuthnResult> {
  const rules = applicableRules(policies, req.destination.service);
  if (rules.length === 0 || isCorsPreflight(req)) return { ok: true, setHeaders: {}, removeHeaders: [] };

  const removeHeaders = new Set<string>();
  for (const r of rules) {
    for (const c of r.outputClaimToHeaders ?? []) removeHeaders.add(c.header.toLowerCase());
    if (r.outputPayloadToHeader) removeHeaders.add(r.outputPayloadToHeader.toLowerCase());
  }
  const tokens = extract(locationsOf(rules), req);
  if (tokens.length === 0) return { ok: true, setHeaders: {}, removeHeaders: [...removeHeaders] };

  const nowSeconds = Math.floor(nowMs / 1000);
  const setHeaders: Record<string, string> = {};
  let auth: RequestAuth | undefined;
  for (const token of tokens) {
    const v = await verifyToken(token, nowSeconds, keys);
    if ('error' in v) {
      return {
        ok: false, status: v.error === 'JwtAudienceNotAllowed' ? 403 : 401, message: STATUS_TEXT[v.error],
        wwwAuthenticate: `Bearer realm="${realm(req)}", error="invalid_token"`,
      };
    }
    const { rule, jwt } = v;
    if (rule.outputPayloadToHeader) setHeaders[rule.outputPayloadToHeader.toLowerCase()] = jwt.payloadB64;
    for (const c of rule.outputClaimToHeaders ?? []) {
      const value = claimHeaderValue(claimAt(jwt.payload, c.claim));
      if (value !== undefined) setHeaders[c.header.toLowerCase()] = value;
    }
    if (!rule.forwardOriginalToken && token.location.header !== undefined) removeHeaders.add(token.location.header);
    auth ??= { principal: `${jwt.iss}/${jwt.sub}`, claims: claimsOf(jwt.payload) };
  }
  for (const h of Object.keys(setHeaders)) removeHeaders.delete(h);
  return { ok: true, ...(auth ? { auth } : {}), setHeaders, removeHeaders: [...removeHeaders] };
}
