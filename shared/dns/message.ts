// DNS wire codec (RFC 1035, 2782 SRV, 3596 AAAA, 6891 EDNS OPT), pure. Parses whole messages (name compression
// included) and builds responses with name compression; a UDP response that does not fit the client's size
// (512 bytes, or its EDNS size) is truncated to its question with TC set, so the client retries over TCP.
// Names are handled lower-case without the trailing dot ('' is the root).
import { DnsParseError } from './errors.ts';

export const TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, ANY: 255 } as const;
export const CLASS_IN = 1;
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
export const OPCODE_QUERY = 0;
/** Largest UDP payload without EDNS (RFC 1035). */
export const CLASSIC_UDP_SIZE = 512;

export interface Question { name: string; type: number; class: number }

export type RData =
  | { type: 'A'; address: string }
  | { type: 'AAAA'; address: string }
  | { type: 'CNAME'; target: string }
  | { type: 'PTR'; target: string }
  | { type: 'SRV'; priority: number; weight: number; port: number; target: string }
  | { type: 'SOA'; mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number }
  | { type: 'RAW'; code: number; data: Buffer };

export interface ResourceRecord { name: string; ttl: number; data: RData }

export interface Flags { qr: boolean; opcode: number; aa: boolean; tc: boolean; rd: boolean; ra: boolean; rcode: number }

export interface Message {
  id: number;
  flags: Flags;
  questions: Question[];
  answers: ResourceRecord[];
  authority: ResourceRecord[];
  /** Additional records other than EDNS OPT. */
  additional: ResourceRecord[];
  /** Present when the message carried an OPT record; `udpSize` is the sender's UDP payload size. */
  edns?: { udpSize: number };
}

const TYPE_CODE: Record<Exclude<RData['type'], 'RAW'>, number> = {
  A: TYPE.A, AAAA: TYPE.AAAA, CNAME: TYPE.CNAME, PTR: TYPE.PTR, SRV: TYPE.SRV, SOA: TYPE.SOA,
};

export function typeCode(d: RData): number {
  return d.type === 'RAW' ? d.code : TYPE_CODE[d.type];
}

// ---------------------------------------------------------------- parsing

class Reader {
  readonly buf: Buffer;
  pos: number;
  readonly id: number | undefined;
  constructor(buf: Buffer, pos: number, id?: number) {
    this.buf = buf;
    this.pos = pos;
    this.id = id;
  }
  need(n: number): void {
    if (this.pos + n > this.buf.length) throw new DnsParseError('message truncated', this.id);
  }
  u8(): number { this.need(1); return this.buf.readUInt8(this.pos++); }
  u16(): number { this.need(2); const v = this.buf.readUInt16BE(this.pos); this.pos += 2; return v; }
  u32(): number { this.need(4); const v = this.buf.readUInt32BE(this.pos); this.pos += 4; return v; }
  bytes(n: number): Buffer { this.need(n); const b = this.buf.subarray(this.pos, this.pos + n); this.pos += n; return b; }

  name(): string {
    const labels: string[] = [];
    let pos = this.pos;
    let jumped = false;
    let jumps = 0;
    let length = 0;
    for (;;) {
      if (pos >= this.buf.length) throw new DnsParseError('name runs past the message', this.id);
      const len = this.buf[pos]!;
      if ((len & 0xc0) === 0xc0) {
        if (pos + 1 >= this.buf.length) throw new DnsParseError('truncated compression pointer', this.id);
        if (++jumps > 64) throw new DnsParseError('compression pointer loop', this.id);
        const target = ((len & 0x3f) << 8) | this.buf[pos + 1]!;
        if (!jumped) this.pos = pos + 2;
        jumped = true;
        if (target >= pos) throw new DnsParseError('compression pointer points forward', this.id);
        pos = target;
        continue;
      }
      if ((len & 0xc0) !== 0) throw new DnsParseError('unsupported label type', this.id);
      pos++;
      if (len === 0) break;
      if (pos + len > this.buf.length) throw new DnsParseError('label runs past the message', this.id);
      length += len + 1;
      if (length > 255) throw new DnsParseError('name longer than 255 bytes', this.id);
      labels.push(this.buf.toString('latin1', pos, pos + len).toLowerCase());
      pos += len;
    }
    if (!jumped) this.pos = pos;
    return labels.join('.');
  }
}

function parseRecord(r: Reader): ResourceRecord & { type: number; class: number } {
  const name = r.name();
  const type = r.u16();
  const klass = r.u16();
  const ttl = r.u32();
  const len = r.u16();
  r.need(len);
  const end = r.pos + len;
  let data: RData;
  switch (type) {
    case TYPE.A:
      data = { type: 'A', address: [...r.bytes(4)].join('.') };
      break;
    case TYPE.AAAA: {
      const b = r.bytes(16);
      const groups: string[] = [];
      for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
      data = { type: 'AAAA', address: groups.join(':') };
      break;
    }
    case TYPE.CNAME:
    case TYPE.PTR:
      data = { type: type === TYPE.CNAME ? 'CNAME' : 'PTR', target: r.name() };
      break;
    case TYPE.SRV:
      data = { type: 'SRV', priority: r.u16(), weight: r.u16(), port: r.u16(), target: r.name() };
      break;
    case TYPE.SOA:
      data = { type: 'SOA', mname: r.name(), rname: r.name(), serial: r.u32(), refresh: r.u32(), retry: r.u32(), expire: r.u32(), minimum: r.u32() };
      break;
    default:
      data = { type: 'RAW', code: type, data: Buffer.from(r.bytes(len)) };
  }
  if (r.pos !== end) throw new DnsParseError(`record data of type ${type} has the wrong length`, r.id);
  return { name, ttl, data, type, class: klass };
}

/** Decode a whole message. Throws DnsParseError (with the id when the header was readable). */
export function parseMessage(buf: Buffer): Message {
  if (buf.length < 12) throw new DnsParseError('message shorter than a DNS header');
  const id = buf.readUInt16BE(0);
  const r = new Reader(buf, 2, id);
  const f = r.u16();
  const flags: Flags = {
    qr: (f & 0x8000) !== 0,
    opcode: (f >> 11) & 0xf,
    aa: (f & 0x0400) !== 0,
    tc: (f & 0x0200) !== 0,
    rd: (f & 0x0100) !== 0,
    ra: (f & 0x0080) !== 0,
    rcode: f & 0xf,
  };
  const qd = r.u16();
  const an = r.u16();
  const ns = r.u16();
  const ar = r.u16();
  const questions: Question[] = [];
  for (let i = 0; i < qd; i++) questions.push({ name: r.name(), type: r.u16(), class: r.u16() });
  const answers: ResourceRecord[] = [];
  const authority: ResourceRecord[] = [];
  const additional: ResourceRecord[] = [];
  let edns: { udpSize: number } | undefined;
  for (let i = 0; i < an; i++) answers.push(strip(parseRecord(r)));
  for (let i = 0; i < ns; i++) authority.push(strip(parseRecord(r)));
  for (let i = 0; i < ar; i++) {
    const rec = parseRecord(r);
    if (rec.type === TYPE.OPT) edns = { udpSize: Math.max(rec.class, CLASSIC_UDP_SIZE) };
    else additional.push(strip(rec));
  }
  return { id, flags, questions, answers, authority, additional, ...(edns ? { edns } : {}) };
}

function strip(rec: ResourceRecord & { type: number; class: number }): ResourceRecord {
  return { name: rec.name, ttl: rec.ttl, data: rec.data };
}

// ---------------------------------------------------------------- building

class Writer {
  #chunks: Buffer[] = [];
  length = 0;
  // lower-case name suffix → offset of its first label, for compression
  readonly #names = new Map<string, number>();

  push(b: Buffer): void {
    this.#chunks.push(b);
    this.length += b.length;
  }
  u8(v: number): void { const b = Buffer.alloc(1); b.writeUInt8(v); this.push(b); }
  u16(v: number): void { const b = Buffer.alloc(2); b.writeUInt16BE(v); this.push(b); }
  u32(v: number): void { const b = Buffer.alloc(4); b.writeUInt32BE(v >>> 0); this.push(b); }

  /** Write a name, compressed against names written before unless `compress` is false (SRV targets, RFC 2782). */
  name(name: string, compress = true): void {
    const labels = name === '' ? [] : name.toLowerCase().split('.');
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join('.');
      const at = compress ? this.#names.get(suffix) : undefined;
      if (at !== undefined) {
        this.u16(0xc000 | at);
        return;
      }
      if (this.length < 0x3fff && !this.#names.has(suffix)) this.#names.set(suffix, this.length);
      const label = Buffer.from(labels[i]!, 'latin1');
      if (label.length === 0 || label.length > 63) throw new RangeError(`invalid DNS label in ${JSON.stringify(name)}`);
      this.u8(label.length);
      this.push(label);
    }
    this.u8(0);
  }

  /** Write a length-prefixed RDATA produced by `fill`. */
  rdata(fill: () => void): void {
    const lenAt = this.#chunks.length;
    this.u16(0);
    const start = this.length;
    fill();
    this.#chunks[lenAt]!.writeUInt16BE(this.length - start);
  }

  done(): Buffer {
    return Buffer.concat(this.#chunks, this.length);
  }
}

function ipv4Bytes(address: string): Buffer {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new RangeError(`invalid IPv4 ${address}`);
  return Buffer.from(parts);
}

function ipv6Bytes(address: string): Buffer {
  const [head, tail] = address.includes('::') ? address.split('::') as [string, string] : [address, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8) throw new RangeError(`invalid IPv6 ${address}`);
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}

function writeRecord(w: Writer, rec: ResourceRecord): void {
  w.name(rec.name);
  w.u16(typeCode(rec.data));
  w.u16(CLASS_IN);
  w.u32(rec.ttl);
  const d = rec.data;
  w.rdata(() => {
    switch (d.type) {
      case 'A': w.push(ipv4Bytes(d.address)); break;
      case 'AAAA': w.push(ipv6Bytes(d.address)); break;
      case 'CNAME':
      case 'PTR': w.name(d.target); break;
      case 'SRV': w.u16(d.priority); w.u16(d.weight); w.u16(d.port); w.name(d.target, false); break;
      case 'SOA':
        w.name(d.mname); w.name(d.rname);
        for (const v of [d.serial, d.refresh, d.retry, d.expire, d.minimum]) w.u32(v);
        break;
      case 'RAW': w.push(d.data); break;
    }
  });
}

function encode(m: Message, sections: boolean): Buffer {
  const w = new Writer();
  w.u16(m.id);
  const f = m.flags;
  w.u16((f.qr ? 0x8000 : 0) | ((f.opcode & 0xf) << 11) | (f.aa ? 0x0400 : 0) | (f.tc ? 0x0200 : 0) |
    (f.rd ? 0x0100 : 0) | (f.ra ? 0x0080 : 0) | (f.rcode & 0xf));
  const answers = sections ? m.answers : [];
  const authority = sections ? m.authority : [];
  const additional = sections ? m.additional : [];
  w.u16(m.questions.length);
  w.u16(answers.length);
  w.u16(authority.length);
  w.u16(additional.length + (m.edns ? 1 : 0));
  for (const q of m.questions) { w.name(q.name); w.u16(q.type); w.u16(q.class); }
  for (const r of [...answers, ...authority, ...additional]) writeRecord(w, r);
  if (m.edns) {
    w.u8(0); // root name
    w.u16(TYPE.OPT);
    w.u16(m.edns.udpSize);
    w.u32(0);
    w.u16(0);
  }
  return w.done();
}

/**
 * Encode a message. With `maxSize` (UDP), a message that does not fit is sent as header + question with TC set.
 */
export function buildMessage(m: Message, maxSize?: number): Buffer {
  const full = encode(m, true);
  if (maxSize === undefined || full.length <= maxSize) return full;
  return encode({ ...m, flags: { ...m.flags, tc: true } }, false);
}

/** A response skeleton for `query`: same id, opcode, RD and question; QR set. */
export function responseTo(query: Message, rcode: number, opts: { aa?: boolean; ra?: boolean } = {}): Message {
  return {
    id: query.id,
    flags: { qr: true, opcode: query.flags.opcode, aa: opts.aa ?? false, tc: false, rd: query.flags.rd, ra: opts.ra ?? false, rcode },
    questions: query.questions,
    answers: [],
    authority: [],
    additional: [],
    ...(query.edns ? { edns: { udpSize: 1232 } } : {}),
  };
}

/** A bare error response for a message that could not be parsed beyond its id. */
export function errorResponse(id: number, rcode: number): Buffer {
  return encode({
    id, flags: { qr: true, opcode: 0, aa: false, tc: false, rd: false, ra: false, rcode },
    questions: [], answers: [], authority: [], additional: [],
  }, false);
}

/** Build a query (used by tests and by forwarding). */
export function buildQuery(id: number, name: string, type: number, opts: { rd?: boolean; ednsSize?: number } = {}): Buffer {
  return encode({
    id,
    flags: { qr: false, opcode: OPCODE_QUERY, aa: false, tc: false, rd: opts.rd ?? true, ra: false, rcode: 0 },
    questions: [{ name: name.toLowerCase().replace(/\.$/, ''), type, class: CLASS_IN }],
    answers: [], authority: [], additional: [],
    ...(opts.ednsSize ? { edns: { udpSize: opts.ednsSize } } : {}),
  }, true);
}
