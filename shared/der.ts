// Minimal DER (shared by the controller's CA and ztunnel's CSRs): a bounds-checked TLV reader that keeps raw byte slices (so names and keys are copied byte-exact
// into certificates), and writers for the handful of ASN.1 types X.509 certificates and CSRs need.
// Node's crypto has no CSR parser or certificate builder, and node-forge only handles RSA keys; this lets the CA
// sign requests for any key type Node can verify (RSA, ECDSA P-256/P-384, Ed25519).

export const TAG = {
  BOOLEAN: 0x01, INTEGER: 0x02, BIT_STRING: 0x03, OCTET_STRING: 0x04, NULL: 0x05, OID: 0x06,
  UTF8_STRING: 0x0c, PRINTABLE_STRING: 0x13, IA5_STRING: 0x16, UTC_TIME: 0x17, GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30, SET: 0x31,
} as const;

export interface Tlv {
  tag: number;
  /** The whole element, header included. */
  raw: Buffer;
  /** The value bytes. */
  content: Buffer;
}

/** Read one element at `offset`; throws on truncation, indefinite or over-long lengths. */
export function readTlv(buf: Buffer, offset = 0): Tlv {
  if (offset + 2 > buf.length) throw new Error('der: truncated header');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new Error('der: multi-byte tags are not supported');
  let len = buf[offset + 1]!;
  let hdr = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error('der: indefinite or oversized length');
    if (offset + 2 + n > buf.length) throw new Error('der: truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[offset + 2 + i]!;
    hdr += n;
  }
  const end = offset + hdr + len;
  if (end > buf.length) throw new Error('der: element runs past the end of its container');
  return { tag, raw: buf.subarray(offset, end), content: buf.subarray(offset + hdr, end) };
}

/** The elements inside a constructed element's content. */
export function children(t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let off = 0;
  for (let i = 0; off < t.content.length; i++) {
    if (i > 10_000) throw new Error('der: too many elements');
    const c = readTlv(t.content, off);
    out.push(c);
    off += c.raw.length;
  }
  return out;
}

/** Parse a whole buffer holding exactly one element. */
export function parseDer(buf: Buffer): Tlv {
  const t = readTlv(buf, 0);
  if (t.raw.length !== buf.length) throw new Error('der: trailing bytes after the top-level element');
  return t;
}

export function expectTag(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t || t.tag !== tag) throw new Error(`der: expected ${what}`);
  return t;
}

export function decodeOid(content: Buffer): string {
  if (content.length === 0) throw new Error('der: empty oid');
  const arcs: number[] = [];
  let v = 0;
  for (const b of content) {
    v = v * 128 + (b & 0x7f);
    if (!(b & 0x80)) { arcs.push(v); v = 0; }
  }
  const first = arcs.shift()!;
  const a = first < 80 ? Math.floor(first / 40) : 2;
  return [a, first - a * 40, ...arcs].join('.');
}

// ---- writers ----

export function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let hdr: Buffer;
  if (n < 0x80) hdr = Buffer.from([tag, n]);
  else {
    const bytes: number[] = [];
    for (let x = n; x > 0; x = Math.floor(x / 256)) bytes.unshift(x & 0xff);
    hdr = Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([hdr, content]);
}

export const seq = (...parts: Buffer[]): Buffer => tlv(TAG.SEQUENCE, Buffer.concat(parts));
export const set = (...parts: Buffer[]): Buffer => tlv(TAG.SET, Buffer.concat(parts));
export const nullValue = (): Buffer => Buffer.from([TAG.NULL, 0]);
export const octets = (b: Buffer): Buffer => tlv(TAG.OCTET_STRING, b);
export const bool = (v: boolean): Buffer => Buffer.from([TAG.BOOLEAN, 1, v ? 0xff : 0]);
/** BIT STRING with `unused` padding bits in the last byte. */
export const bits = (b: Buffer, unused = 0): Buffer => tlv(TAG.BIT_STRING, Buffer.concat([Buffer.from([unused]), b]));
export const utf8 = (s: string): Buffer => tlv(TAG.UTF8_STRING, Buffer.from(s, 'utf8'));
/** Context-specific tag `n`; constructed (EXPLICIT wrappers) or primitive (IMPLICIT strings). */
export const ctx = (n: number, content: Buffer, constructed: boolean): Buffer => tlv((constructed ? 0xa0 : 0x80) | n, content);

/** A non-negative INTEGER from big-endian magnitude bytes (adds the sign byte when needed). */
export function uint(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const m = b.subarray(i);
  return tlv(TAG.INTEGER, m.length && (m[0]! & 0x80) ? Buffer.concat([Buffer.from([0]), m]) : m.length ? m : Buffer.from([0]));
}
export const smallInt = (n: number): Buffer => uint(Buffer.from([n & 0xff]));

export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a) || a < 0)) throw new Error(`der: bad oid ${dotted}`);
  const out: number[] = [];
  const enc = (v: number): void => {
    const tmp = [v & 0x7f];
    for (v = Math.floor(v / 128); v > 0; v = Math.floor(v / 128)) tmp.unshift(0x80 | (v & 0x7f));
    out.push(...tmp);
  };
  enc(arcs[0]! * 40 + arcs[1]!);
  for (const a of arcs.slice(2)) enc(a);
  return tlv(TAG.OID, Buffer.from(out));
}

/** X.509 Time: UTCTime through 2049, GeneralizedTime after (RFC 5280 4.1.2.5). Whole seconds. */
export function time(d: Date): Buffer {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-:T]/g, '') + 'Z';
  return d.getUTCFullYear() < 2050
    ? tlv(TAG.UTC_TIME, Buffer.from(digits.slice(2), 'ascii'))
    : tlv(TAG.GENERALIZED_TIME, Buffer.from(digits, 'ascii'));
}

export function toPem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${b64.join('\n')}\n-----END ${label}-----\n`;
}

/** Every PEM block with `label` in `text`, decoded. */
export function fromPemAll(text: string, label: string): Buffer[] {
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`, 'g');
  return [...text.matchAll(re)].map((m) => Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
}

/** Every PEM block with `label` in `text`, re-encoded one per string (normalised line breaks). */
export function splitPem(text: string, label = 'CERTIFICATE'): string[] {
  return fromPemAll(text, label).map((der) => toPem(label, der));
}
