// Owns the pure JWT checks, one for one with Envoy's jwt_verify_lib (what Istio's waypoints run): parsing a token,
// parsing a JWKS, time constraints, audiences, and the signature. Failures are jwt_verify_lib Status names; their
// texts (STATUS_TEXT) are the bodies Envoy sends, so clients see the same 401s as with Istio.

import { constants, createPublicKey, verify, type KeyObject } from 'node:crypto';

export const STATUS_TEXT = {
  JwtMissed: 'Jwt is missing',
  JwtNotYetValid: 'Jwt not yet valid',
  JwtExpired: 'Jwt is expired',
  JwtBadFormat: 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections',
  JwtHeaderParseErrorBadBase64: 'Jwt header is an invalid Base64url encoded',
  JwtHeaderParseErrorBadJson: 'Jwt header is an invalid JSON',
  JwtHeaderBadAlg: 'Jwt header [alg] field is required and must be a string',
  JwtHeaderNotImplementedAlg: 'Jwt header [alg] is not supported',
  JwtHeaderBadKid: 'Jwt header [kid] field is not a string',
  JwtPayloadParseErrorBadBase64: 'Jwt payload is an invalid Base64url encoded',
  JwtEd25519SignatureWrongLength: 'Jwt ED25519 signature is wrong length',
  JwtPayloadParseErrorBadJson: 'Jwt payload is an invalid JSON',
  JwtPayloadParseErrorIssNotString: 'Jwt payload [iss] field is not a string',
  JwtPayloadParseErrorSubNotString: 'Jwt payload [sub] field is not a string',
  JwtPayloadParseErrorIatNotInteger: 'Jwt payload [iat] field is not an integer',
  JwtPayloadParseErrorIatOutOfRange: 'Jwt payload [iat] field is not a positive 64 bit integer',
  JwtPayloadParseErrorNbfNotInteger: 'Jwt payload [nbf] field is not an integer',
  JwtPayloadParseErrorNbfOutOfRange: 'Jwt payload [nbf] field is not a positive 64 bit integer',
  JwtPayloadParseErrorExpNotInteger: 'Jwt payload [exp] field is not an integer',
  JwtPayloadParseErrorExpOutOfRange: 'Jwt payload [exp] field is not a positive 64 bit integer',
  JwtPayloadParseErrorJtiNotString: 'Jwt payload [jti] field is not a string',
  JwtPayloadParseErrorAudNotString: 'Jwt payload [aud] field is not a string or string list',
  JwtSignatureParseErrorBadBase64: 'Jwt signature is an invalid Base64url encoded',
  JwtUnknownIssuer: 'Jwt issuer is not configured',
  JwtAudienceNotAllowed: 'Audiences in Jwt are not allowed',
  JwtVerificationFail: 'Jwt verification fails',
  JwksParseError: 'Jwks is an invalid JSON',
  JwksNoKeys: 'Jwks does not have [keys] field',
  JwksBadKeys: '[keys] in Jwks is not an array',
  JwksNoValidKeys: "Jwks doesn't have any valid public key",
  JwksKidAlgMismatch: "Jwks doesn't have key to match kid or alg from Jwt",
  JwksFetchFail: 'Jwks remote fetch is failed',
} as const;

export type JwtStatus = keyof typeof STATUS_TEXT;

/** Envoy's default clock skew for exp and nbf (jwt_verify_lib kClockSkewInSecond). */
export const CLOCK_SKEW_SECONDS = 60;

const IMPLEMENTED_ALGS = new Set(['ES256', 'ES384', 'ES512', 'HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA']);

export interface Jwt {
  /** The signed input `<header>.<payload>` as received. */
  signedData: string;
  /** The payload segment as received (base64url, what outputPayloadToHeader forwards). */
  payloadB64: string;
  signature: Buffer;
  alg: string;
  kid?: string;
  iss: string;
  sub: string;
  audiences: string[];
  exp: number;
  nbf: number;
  payload: Record<string, unknown>;
}

export interface Jwk {
  kty: string;
  kid?: string;
  alg?: string;
  crv?: string;
  key: KeyObject;
}

export interface Jwks {
  keys: Jwk[];
}

const B64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** Strict base64url (absl::WebSafeBase64Unescape): Buffer.from would silently skip bad characters. */
function b64url(s: string): Buffer | undefined {
  if (!B64URL.test(s) || s.replace(/=+$/, '').length % 4 === 1) return undefined;
  return Buffer.from(s, 'base64url');
}

function jsonObject(buf: Buffer): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(buf.toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

type IntField = 'iat' | 'nbf' | 'exp';
const NOT_INTEGER: Record<IntField, JwtStatus> = {
  iat: 'JwtPayloadParseErrorIatNotInteger', nbf: 'JwtPayloadParseErrorNbfNotInteger', exp: 'JwtPayloadParseErrorExpNotInteger',
};
const OUT_OF_RANGE: Record<IntField, JwtStatus> = {
  iat: 'JwtPayloadParseErrorIatOutOfRange', nbf: 'JwtPayloadParseErrorNbfOutOfRange', exp: 'JwtPayloadParseErrorExpOutOfRange',
};

/** Parse a compact JWS; the order of checks (and so which error wins) is jwt_verify_lib's Jwt::parseFromString. */
export function parseJwt(token: string): Jwt | { error: JwtStatus } {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => p === '')) return { error: 'JwtBadFormat' };
  const [h, p, s] = parts as [string, string, string];
  const hb = b64url(h);
  if (!hb) return { error: 'JwtHeaderParseErrorBadBase64' };
  const header = jsonObject(hb);
  if (!header) return { error: 'JwtHeaderParseErrorBadJson' };
  if (typeof header.alg !== 'string') return { error: 'JwtHeaderBadAlg' };
  if (!IMPLEMENTED_ALGS.has(header.alg)) return { error: 'JwtHeaderNotImplementedAlg' };
  if (header.kid !== undefined && typeof header.kid !== 'string') return { error: 'JwtHeaderBadKid' };
  const pb = b64url(p);
  if (!pb) return { error: 'JwtPayloadParseErrorBadBase64' };
  const payload = jsonObject(pb);
  if (!payload) return { error: 'JwtPayloadParseErrorBadJson' };
  if (payload.iss !== undefined && typeof payload.iss !== 'string') return { error: 'JwtPayloadParseErrorIssNotString' };
  if (payload.sub !== undefined && typeof payload.sub !== 'string') return { error: 'JwtPayloadParseErrorSubNotString' };
  const ints: Record<IntField, number> = { iat: 0, nbf: 0, exp: 0 };
  for (const f of ['iat', 'nbf', 'exp'] as const) {
    const v = payload[f];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v)) return { error: NOT_INTEGER[f] };
    if (v < 0) return { error: OUT_OF_RANGE[f] };
    ints[f] = v;
  }
  if (payload.jti !== undefined && typeof payload.jti !== 'string') return { error: 'JwtPayloadParseErrorJtiNotString' };
  let audiences: string[] = [];
  if (typeof payload.aud === 'string') audiences = [payload.aud];
  else if (Array.isArray(payload.aud) && payload.aud.every((a) => typeof a === 'string')) audiences = payload.aud as string[];
  else if (payload.aud !== undefined) return { error: 'JwtPayloadParseErrorAudNotString' };
  const signature = b64url(s);
  if (!signature) return { error: 'JwtSignatureParseErrorBadBase64' };
  return {
    signedData: `${h}.${p}`, payloadB64: p, signature, alg: header.alg,
    ...(header.kid !== undefined ? { kid: header.kid as string } : {}),
    iss: (payload.iss as string | undefined) ?? '', sub: (payload.sub as string | undefined) ?? '',
    audiences, exp: ints.exp, nbf: ints.nbf, payload,
  };
}

/** exp and nbf with Envoy's skew; exp 0 (absent) never expires. */
export function checkTime(jwt: Pick<Jwt, 'exp' | 'nbf'>, nowSeconds: number, skewSeconds = CLOCK_SKEW_SECONDS): JwtStatus | undefined {
  if (nowSeconds + skewSeconds < jwt.nbf) return 'JwtNotYetValid';
  if (jwt.exp !== 0 && nowSeconds > jwt.exp + skewSeconds) return 'JwtExpired';
  return undefined;
}

/** jwt_verify_lib's sanitizeAudience: `https://a/` and `a` are the same audience. */
function sanitizeAudience(aud: string): string {
  let s = aud;
  if (s.startsWith('http://')) s = s.slice(7);
  else if (s.startsWith('https://')) s = s.slice(8);
  if (s.endsWith('/')) s = s.slice(0, -1);
  return s;
}

/** No configured audiences: any token audience. Otherwise one of the token's must be configured. */
export function audienceAllowed(configured: readonly string[] | undefined, tokenAudiences: readonly string[]): boolean {
  if (!configured || configured.length === 0) return true;
  const allowed = new Set(configured.map(sanitizeAudience));
  return tokenAudiences.some((a) => allowed.has(sanitizeAudience(a)));
}

function importJwk(k: Record<string, unknown>): KeyObject | undefined {
  let material: Record<string, unknown>;
  if (k.kty === 'RSA') material = { kty: 'RSA', n: k.n, e: k.e };
  else if (k.kty === 'EC') material = { kty: 'EC', crv: k.crv, x: k.x, y: k.y };
  else if (k.kty === 'OKP' && k.crv === 'Ed25519') material = { kty: 'OKP', crv: k.crv, x: k.x };
  else return undefined;
  // node:crypto accepts some malformed members (an empty or non-base64url `n`) and builds a useless key.
  for (const [m, v] of Object.entries(material)) {
    if (m !== 'kty' && m !== 'crv' && (typeof v !== 'string' || !/^[A-Za-z0-9_-]+$/.test(v))) return undefined;
  }
  try {
    return createPublicKey({ key: material as never, format: 'jwk' });
  } catch {
    return undefined;
  }
}

/**
 * Parse a JWKS document. As in Envoy, keys we cannot use are skipped (HMAC `oct` keys among them: a shared
 * secret has no place in a published key set) and a set with none left is an error.
 */
export function parseJwks(text: string): Jwks | { error: JwtStatus } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { error: 'JwksParseError' };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return { error: 'JwksParseError' };
  const keys = (doc as Record<string, unknown>).keys;
  if (keys === undefined) return { error: 'JwksNoKeys' };
  if (!Array.isArray(keys)) return { error: 'JwksBadKeys' };
  const out: Jwk[] = [];
  for (const k of keys) {
    if (typeof k !== 'object' || k === null || typeof (k as Record<string, unknown>).kty !== 'string') continue;
    const o = k as Record<string, unknown>;
    const key = importJwk(o);
    if (!key) continue;
    out.push({
      kty: o.kty as string, key,
      ...(typeof o.kid === 'string' ? { kid: o.kid } : {}),
      ...(typeof o.alg === 'string' ? { alg: o.alg } : {}),
      ...(typeof o.crv === 'string' ? { crv: o.crv } : {}),
    });
  }
  return out.length > 0 ? { keys: out } : { error: 'JwksNoValidKeys' };
}

const HASH: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };

function verifyWith(jwk: Jwk, jwt: Jwt): boolean | 'badLength' {
  const data = Buffer.from(jwt.signedData);
  const hash = HASH[jwt.alg.slice(2)];
  try {
    if (jwk.kty === 'RSA' && hash && jwt.alg.startsWith('RS')) {
      return verify(hash, data, { key: jwk.key, padding: constants.RSA_PKCS1_PADDING }, jwt.signature);
    }
    if (jwk.kty === 'RSA' && hash && jwt.alg.startsWith('PS')) {
      return verify(hash, data, { key: jwk.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, jwt.signature);
    }
    if (jwk.kty === 'EC' && hash && jwt.alg.startsWith('ES')) {
      return verify(hash, data, { key: jwk.key, dsaEncoding: 'ieee-p1363' }, jwt.signature);
    }
    if (jwk.kty === 'OKP' && jwt.alg === 'EdDSA') {
      if (jwt.signature.length !== 64) return 'badLength';
      return verify(null, data, jwk.key, jwt.signature);
    }
  } catch {
    // A signature of the wrong size for the key (e.g. ES256 against a P-384 key) makes node throw.
  }
  return false;
}

/**
 * jwt_verify_lib's verifyJwtWithoutTimeChecking: keys whose kid (when both have one) or alg (when the key has one)
 * differ are skipped; the first key that verifies wins.
 */
export function verifySignature(jwt: Jwt, jwks: Jwks): JwtStatus | undefined {
  let matched = false;
  for (const jwk of jwks.keys) {
    if (jwt.kid !== undefined && jwt.kid !== '' && jwk.kid !== undefined && jwk.kid !== '' && jwk.kid !== jwt.kid) continue;
    if (jwk.alg !== undefined && jwk.alg !== '' && jwk.alg !== jwt.alg) continue;
    matched = true;
    const r = verifyWith(jwk, jwt);
    if (r === true) return undefined;
    if (r === 'badLength') return 'JwtEd25519SignatureWrongLength';
  }
  return matched ? 'JwtVerificationFail' : 'JwksKidAlgMismatch';
}
