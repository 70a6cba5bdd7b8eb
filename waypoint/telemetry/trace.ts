// Trace-context headers for a request the waypoint forwards: the waypoint is one span in the caller's trace. Pure
// (randomness is injected).
//
// - W3C `traceparent`: kept trace id and sampled flag, a new span id (ours) as the parent id upstream. Missing or
//   invalid → a new trace (trace id from B3 when B3 carries one, so both formats name the same trace). `tracestate`
//   travels with a valid incoming traceparent only (W3C: drop it when the parent is unusable).
// - `x-request-id`: kept when present (Envoy keeps it on internal requests), else a new UUID v4.
// - B3, like Envoy's Zipkin tracer when the request carries B3: same trace id, a new span id (ours), the incoming
//   span as parent, sampling state kept; written back in the format(s) it came in (single `b3` and/or `x-b3-*`).
//   When the request carries no B3 we do not invent it: Envoy's OpenTelemetry tracer (what a W3C-only mesh uses)
//   injects only traceparent/tracestate, and apps that speak B3 start B3 themselves. A sampling-only B3 (`b3: 0`,
//   lone `x-b3-sampled`) has no ids to continue and passes through unchanged.
// - `baggage` passes through untouched.
import { randomFillSync } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface TraceHeaders {
  /** Headers to set on the upstream request (overriding the incoming ones of the same name). */
  set: Record<string, string>;
  /** Incoming headers that must not be forwarded (a tracestate whose traceparent was invalid). */
  remove: string[];
  requestId: string;
  /** 32 lower-case hex digits. */
  traceId: string;
  /** The waypoint's span: 16 hex digits. */
  spanId: string;
  /** The caller's span, when it sent one. */
  parentSpanId?: string;
  sampled: boolean;
}

export interface TraceOptions {
  /** Sampling decision for a trace the waypoint starts (no usable incoming decision). Default false: no tracer is configured. */
  sampleNewTraces?: boolean;
}

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const ZERO = /^0+$/;

function one(h: IncomingHttpHeaders, name: string, join = false): string | undefined {
  const v = h[name];
  if (v === undefined) return undefined;
  if (Array.isArray(v)) return join ? v.join(',') : v[0];
  return String(v);
}

interface W3c { traceId: string; parentId: string; sampled: boolean }

/** W3C trace-context §3.2: version ff invalid; version 00 has exactly four fields; ids lower-case hex, not all zero. */
export function parseTraceparent(v: string | undefined): W3c | undefined {
  if (v === undefined) return undefined;
  const m = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/.exec(v.trim());
  if (!m) return undefined;
  const [, version, traceId, parentId, flags, rest] = m;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (ZERO.test(traceId!) || ZERO.test(parentId!)) return undefined;
  return { traceId: traceId!, parentId: parentId!, sampled: (parseInt(flags!, 16) & 1) === 1 };
}

interface B3 {
  /** 16 or 32 hex digits, as received. */
  traceId: string;
  spanId: string;
  /** '0', '1' or 'd' (debug) for single; the x-b3-sampled value for multi. */
  sampling?: string;
}

function validB3Ids(traceId: string | undefined, spanId: string | undefined): boolean {
  return traceId !== undefined && spanId !== undefined && (HEX32.test(traceId) || HEX16.test(traceId)) && HEX16.test(spanId)
    && !ZERO.test(traceId) && !ZERO.test(spanId);
}

/** Single-header B3: `{traceid}-{spanid}[-{sampling}[-{parentspanid}]]`; a bare sampling state has no ids. */
export function parseB3Single(v: string | undefined): B3 | undefined {
  if (v === undefined) return undefined;
  const [traceId, spanId, sampling] = v.trim().toLowerCase().split('-');
  if (!validB3Ids(traceId, spanId)) return undefined;
  return { traceId: traceId!, spanId: spanId!, sampling };
}

export function parseB3Multi(h: IncomingHttpHeaders): B3 | undefined {
  const traceId = one(h, 'x-b3-traceid')?.trim().toLowerCase();
  const spanId = one(h, 'x-b3-spanid')?.trim().toLowerCase();
  if (!validB3Ids(traceId, spanId)) return undefined;
  return { traceId: traceId!, spanId: spanId!, sampling: one(h, 'x-b3-sampled')?.trim() };
}

function b3SamplingOnly(v: string | undefined): string | undefined {
  const t = v?.trim().toLowerCase();
  return t === '0' || t === '1' || t === 'd' ? t : undefined;
}

function b3Sampled(s: string | undefined): boolean | undefined {
  if (s === undefined || s === '') return undefined;
  const v = s.toLowerCase();
  return v === '1' || v === 'd' || v === 'true';
}

/** `n` random bytes from `rand`, calling it again while it returns short buffers (read-only: may be `rand`'s own). */
function take(rand: () => Buffer, n: number): Buffer {
  const first = rand();
  if (first.length >= n) return first;
  const parts: Buffer[] = [first];
  let have = first.length;
  while (have < n) {
    const b = rand();
    if (b.length === 0) throw new Error('trace random source returned no bytes');
    parts.push(b);
    have += b.length;
  }
  return Buffer.concat(parts);
}

function newId(rand: () => Buffer, bytes: number): string {
  const b = take(rand, bytes);
  const hex = b.toString('hex', 0, bytes);
  for (let i = 0; i < bytes; i++) if (b[i] !== 0) return hex;
  return `${hex.slice(0, -2)}01`; // all-zero ids are invalid in both W3C and B3
}

/** A random (version 4, RFC 4122 variant) UUID, its version and variant bits set in the hex. */
function uuidV4(rand: () => Buffer): string {
  const h = take(rand, 16).toString('hex', 0, 16);
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20)}`;
}

/**
 * Random bytes for ids, `n` at a time, cut from a 4 KiB block the CSPRNG refills when it runs out. One
 * crypto.randomBytes call per id took about a tenth of the waypoint's CPU (a native call into OpenSSL for 8 or 16
 * bytes, several per request); ids are not secrets, so batching the same CSPRNG output is as good.
 */
export function pooledRandom(blockSize = 4096): (n: number) => Buffer {
  let block = Buffer.alloc(0);
  let at = 0;
  return (n) => {
    if (at + n > block.length) {
      block = randomFillSync(Buffer.allocUnsafeSlow(Math.max(blockSize, n)));
      at = 0;
    }
    at += n;
    return block.subarray(at - n, at);
  };
}

const idBytes = pooledRandom();

/**
 * Trace headers for the upstream request. `rand` returns random bytes (any length ≥ 1 per call); by default 16 at a
 * time from a pooled CSPRNG block.
 */
export function traceHeaders(incoming: IncomingHttpHeaders, rand: () => Buffer = () => idBytes(16), opts: TraceOptions = {}): TraceHeaders {
  const set: Record<string, string> = {};
  const remove: string[] = [];

  const w3c = parseTraceparent(one(incoming, 'traceparent'));
  const single = parseB3Single(one(incoming, 'b3'));
  const multi = parseB3Multi(incoming);
  const b3 = single ?? multi;

  const spanId = newId(rand, 8);
  const traceId = w3c?.traceId ?? (b3 ? b3.traceId.padStart(32, '0') : newId(rand, 16));
  // B3's sampling state also counts when it comes without ids (`b3: 0`, a lone x-b3-sampled); x-b3-flags 1 is debug.
  const b3State = b3 ? b3.sampling : (b3SamplingOnly(one(incoming, 'b3')) ?? one(incoming, 'x-b3-sampled'));
  const b3Debug = one(incoming, 'x-b3-flags')?.trim() === '1' ? true : undefined;
  const sampled = w3c?.sampled ?? b3Debug ?? b3Sampled(b3State) ?? opts.sampleNewTraces ?? false;
  const parentSpanId = w3c?.parentId ?? b3?.spanId;

  set.traceparent = `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
  const tracestate = one(incoming, 'tracestate', true);
  if (tracestate !== undefined) {
    if (w3c) set.tracestate = tracestate;
    else remove.push('tracestate');
  }

  if (single) {
    set.b3 = single.sampling === undefined || single.sampling === ''
      ? `${single.traceId}-${spanId}`
      : `${single.traceId}-${spanId}-${single.sampling}-${single.spanId}`;
  }
  if (multi) {
    set['x-b3-traceid'] = multi.traceId;
    set['x-b3-spanid'] = spanId;
    set['x-b3-parentspanid'] = multi.spanId;
  }

  const baggage = one(incoming, 'baggage', true);
  if (baggage !== undefined) set.baggage = baggage;

  const incomingId = one(incoming, 'x-request-id')?.trim();
  const requestId = incomingId ? incomingId : uuidV4(rand);
  set['x-request-id'] = requestId;

  const out: TraceHeaders = { set, remove, requestId, traceId, spanId, sampled };
  if (parentSpanId !== undefined) out.parentSpanId = parentSpanId;
  return out;
}
