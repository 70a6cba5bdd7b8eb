// Owns reading untrusted route spec JSON: small readers that throw RouteConfigError naming the field path, the two
// duration grammars (Istio's Go-style `1m30s`/`0.5s`, Gateway API's GEP-2257 `1h30m`/`500ms`), RE2 regex checks,
// percentages and header names. Unknown fields are ignored here (the route kinds carry many fields a waypoint does
// not use); each parser is strict only on the fields it reads.

import { MeshError } from '../../../shared/errors.ts';

export type Obj = Record<string, unknown>;

/** Why an object is rejected: `Invalid` (the API forbids it) or `UnsupportedValue` (valid, but waypoints cannot do it). */
export type RejectReason = 'Invalid' | 'UnsupportedValue';

/** A route object that fails validation; `field` is the JSON path of the offending value. */
export class RouteConfigError extends MeshError {
  readonly field: string;
  readonly reason: RejectReason;
  readonly detail: string;
  constructor(field: string, detail: string, reason: RejectReason = 'Invalid') {
    super(reason === 'Invalid' ? 'CTRL_ROUTE_INVALID' : 'CTRL_ROUTE_UNSUPPORTED', `${field}: ${detail}`);
    this.field = field;
    this.reason = reason;
    this.detail = detail;
  }
}

export function invalid(field: string, detail: string): never {
  throw new RouteConfigError(field, detail, 'Invalid');
}

export function unsupported(field: string, detail: string): never {
  throw new RouteConfigError(field, detail, 'UnsupportedValue');
}

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const absent = (v: unknown): v is undefined | null => v === undefined || v === null;

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

export function readObj(v: unknown, field: string): Obj {
  if (!isObj(v)) invalid(field, `must be an object, got ${describe(v)}`);
  return v;
}

export function optObj(v: unknown, field: string): Obj | undefined {
  return absent(v) ? undefined : readObj(v, field);
}

export function readList(v: unknown, field: string): unknown[] {
  if (absent(v)) return [];
  if (!Array.isArray(v)) invalid(field, `must be a list, got ${describe(v)}`);
  return v;
}

export function readStr(v: unknown, field: string): string {
  if (typeof v !== 'string' || v === '') invalid(field, `must be a non-empty string, got ${describe(v)}`);
  return v;
}

export function optStr(v: unknown, field: string): string | undefined {
  return absent(v) ? undefined : readStr(v, field);
}

/** A string that may be empty (header values, match values). */
export function readAnyStr(v: unknown, field: string): string {
  if (typeof v !== 'string') invalid(field, `must be a string, got ${describe(v)}`);
  return v;
}

export function readInt(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    invalid(field, `must be an integer ${min}..${max}, got ${describe(v)}`);
  }
  return v;
}

export function optInt(v: unknown, field: string, min: number, max: number): number | undefined {
  return absent(v) ? undefined : readInt(v, field, min, max);
}

export function optBool(v: unknown, field: string): boolean | undefined {
  if (absent(v)) return undefined;
  if (typeof v !== 'boolean') invalid(field, `must be true or false, got ${describe(v)}`);
  return v;
}

export function readEnum<T extends string>(v: unknown, field: string, values: readonly T[]): T {
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
    invalid(field, `unknown value ${describe(v)}; expected one of ${values.join(', ')}`);
  }
  return v as T;
}

export function optEnum<T extends string>(v: unknown, field: string, values: readonly T[], dflt: T): T {
  return absent(v) ? dflt : readEnum(v, field, values);
}

/** A map of string to string (labels, header operations). */
export function readStringMap(v: unknown, field: string): Record<string, string> {
  if (absent(v)) return {};
  const o = readObj(v, field);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(o)) out[k] = readAnyStr(val, `${field}.${k}`);
  return out;
}

/** A percentage 0..100 (Istio `Percent.value`, Gateway API `percent`). */
export function readPercent(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 100) invalid(field, `must be a number 0..100, got ${describe(v)}`);
  return v;
}

// ---- durations ----

const GO_UNIT_NS: Record<string, bigint> = {
  ns: 1n, us: 1_000n, 'µs': 1_000n, 'μs': 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n,
};
const GO_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/** Nanoseconds of a Go duration (`1h30m`, `0.5s`, `100ms`), or undefined when it does not parse. Exact (bigint). */
function goDurationNs(s: string): bigint | undefined {
  if (s === '0') return 0n;
  let total = 0n;
  let at = 0;
  while (at < s.length) {
    GO_PART.lastIndex = at;
    const m = GO_PART.exec(s);
    if (!m) return undefined;
    const [whole = '', frac = ''] = m[1]!.split('.');
    const unit = GO_UNIT_NS[m[2]!]!;
    const scale = 10n ** BigInt(frac.length);
    const num = BigInt(whole || '0') * scale + BigInt(frac || '0');
    const ns = num * unit;
    if (ns % scale !== 0n) return undefined; // finer than a nanosecond
    total += ns / scale;
    at = GO_PART.lastIndex;
  }
  return at === 0 ? undefined : total;
}

/**
 * Milliseconds of an Istio duration (`1s`, `0.5s`, `100ms`, `1m`, `1h`, `1h30m`). Istio supports millisecond
 * precision only; `minMs` is 1 for the fields Istio documents as "MUST be >=1ms".
 */
export function istioDurationMs(v: unknown, field: string, minMs = 1): number {
  const hint = 'use a duration like 1s, 0.5s, 100ms, 1m or 1h';
  if (typeof v !== 'string') invalid(field, `must be a duration string, got ${describe(v)}; ${hint}`);
  if (v.startsWith('-')) invalid(field, `must not be negative, got ${JSON.stringify(v)}`);
  const ns = goDurationNs(v);
  if (ns === undefined) invalid(field, `invalid duration ${JSON.stringify(v)}; ${hint}`);
  if (ns % 1_000_000n !== 0n) invalid(field, `durations are supported to millisecond precision only, got ${JSON.stringify(v)}`);
  const ms = Number(ns / 1_000_000n);
  if (ms < minMs) invalid(field, `must be at least ${minMs}ms, got ${JSON.stringify(v)}`);
  return ms;
}

export function optIstioDurationMs(v: unknown, field: string, minMs = 1): number | undefined {
  return absent(v) ? undefined : istioDurationMs(v, field, minMs);
}

const GATEWAY_DURATION = /^([0-9]{1,5}(h|m|s|ms)){1,4}$/;

/** Milliseconds of a Gateway API duration (GEP-2257: up to four `<1-5 digits><h|m|s|ms>` parts, e.g. `1h30m`, `500ms`). */
export function gatewayDurationMs(v: unknown, field: string): number {
  if (typeof v !== 'string' || !GATEWAY_DURATION.test(v)) {
    invalid(field, `invalid duration ${describe(v)}; use up to four <number><h|m|s|ms> parts like 500ms, 10s or 1h30m`);
  }
  return Number(goDurationNs(v)! / 1_000_000n);
}

export function optGatewayDurationMs(v: unknown, field: string): number | undefined {
  return absent(v) ? undefined : gatewayDurationMs(v, field);
}

// ---- regexes ----

/**
 * Check an RE2 pattern (Envoy `safe_regex`, what Istio and Gateway API implementations use). The waypoint runs it as
 * a JS RegExp, so it must compile there after the two RE2 spellings the waypoint translates (a leading `(?i)` and
 * `(?P<name>`), and must not use JS-only constructs RE2 rejects (lookaround, backreferences).
 */
export function readRegex(v: unknown, field: string): string {
  const re = readAnyStr(v, field);
  if (/\(\?<?[=!]/.test(re)) invalid(field, `lookahead/lookbehind is not supported by RE2 in ${JSON.stringify(re)}`);
  if (/\\[1-9]|\\k</.test(re)) invalid(field, `backreferences are not supported by RE2 in ${JSON.stringify(re)}`);
  let src = re.replaceAll('(?P<', '(?<');
  let flags = '';
  if (src.startsWith('(?i)')) {
    src = src.slice(4);
    flags = 'i';
  }
  try {
    new RegExp(src, flags);
  } catch (err) {
    invalid(field, `invalid regular expression ${JSON.stringify(re)}: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`);
  }
  return re;
}

/**
 * The regex as the compiled config carries it: RE2 spellings rewritten to forms both RE2 and JS accept, so the
 * waypoint's own checks (plain `new RegExp`) pass: `(?i)x` → `(?i:x)`, `(?P<n>` → `(?<n>`.
 */
export function normRegex(re: string): string {
  let out = re.replaceAll('(?P<', '(?<');
  if (out.startsWith('(?i)')) out = `(?i:${out.slice(4)})`;
  return out;
}

/** `s` as a regex matching itself literally. */
export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---- HTTP names ----

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** An HTTP header name (RFC 9110 token); pseudo-headers (`:authority`) only where `pseudo`. Returned lower-case. */
export function readHeaderName(v: unknown, field: string, pseudo = false): string {
  const name = readStr(v, field);
  const bare = pseudo && name.startsWith(':') ? name.slice(1) : name;
  if (!TOKEN.test(bare)) invalid(field, `invalid header name ${JSON.stringify(name)}; use letters, digits and !#$%&'*+-.^_\`|~`);
  return name.toLowerCase();
}

/** A DNS-1123 label (subset names). */
export function readLabelName(v: unknown, field: string): string {
  const s = readStr(v, field);
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(s)) invalid(field, `invalid name ${JSON.stringify(s)}; use lower-case letters, digits and '-' (at most 63)`);
  return s;
}
