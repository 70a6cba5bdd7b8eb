// Table tests of the DNS wire codec against hand-built packets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildMessage, buildQuery, parseMessage, responseTo, RCODE, TYPE, type Message, type ResourceRecord } from './message.ts';

/** Encode a name label by label, by hand. */
function labels(name: string): number[] {
  const out: number[] = [];
  for (const l of name.split('.')) out.push(l.length, ...Buffer.from(l));
  return [...out, 0];
}

// id 0xbeef, RD, one question: Web.Default.svc.cluster.local A IN
const handQuery = Buffer.from([
  0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
  ...labels('Web.Default.svc.cluster.local'), 0, 1, 0, 1,
]);

test('parses a hand-built query, lower-casing the name', () => {
  const m = parseMessage(handQuery);
  assert.equal(m.id, 0xbeef);
  assert.equal(m.flags.qr, false);
  assert.equal(m.flags.rd, true);
  assert.equal(m.flags.opcode, 0);
  assert.deepEqual(m.questions, [{ name: 'web.default.svc.cluster.local', type: TYPE.A, class: 1 }]);
  assert.equal(m.edns, undefined);
});

test('parses EDNS OPT from the additional section', () => {
  const withOpt = Buffer.concat([handQuery, Buffer.from([0, 0, 41, 0x10, 0x00, 0, 0, 0, 0, 0, 0])]);
  withOpt.writeUInt16BE(1, 10); // ARCOUNT
  const m = parseMessage(withOpt);
  assert.deepEqual(m.edns, { udpSize: 4096 });
  assert.deepEqual(m.additional, []);
});

test('follows compression pointers in answers', () => {
  // response: question at offset 12, answer name = pointer to 12, CNAME target = "x" + pointer into the question
  const q = labels('a.b.cluster.local');
  const pkt = Buffer.from([
    0x00, 0x01, 0x85, 0x00, 0, 1, 0, 2, 0, 0, 0, 0,
    ...q, 0, 5, 0, 1,
    0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 30, 0, 4, 1, 0x78, 0xc0, 14, // CNAME x.b.cluster.local
    0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 10, 96, 0, 7, // A 10.96.0.7
  ]);
  const m = parseMessage(pkt);
  assert.equal(m.flags.qr, true);
  assert.equal(m.flags.aa, true);
  assert.deepEqual(m.answers, [
    { name: 'a.b.cluster.local', ttl: 30, data: { type: 'CNAME', target: 'x.b.cluster.local' } },
    { name: 'a.b.cluster.local', ttl: 30, data: { type: 'A', address: '10.96.0.7' } },
  ]);
});

const bad: Array<[string, Buffer, number | undefined]> = [
  ['shorter than a header', Buffer.from([1, 2, 3]), undefined],
  ['question runs past the end', handQuery.subarray(0, 20), 0xbeef],
  ['pointer loop', Buffer.from([0, 7, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]), 7],
  ['label too long for the packet', Buffer.from([0, 8, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 60, 0x61, 0]), 8],
];
for (const [name, pkt, id] of bad) {
  test(`rejects malformed input: ${name}`, () => {
    assert.throws(() => parseMessage(pkt), (err: { code: string; id: number | undefined }) => err.code === 'DNS_MALFORMED' && err.id === id);
  });
}

test('builds a response whose bytes match the hand encoding, with compressed names', () => {
  const query = parseMessage(handQuery);
  const res = responseTo(query, RCODE.NOERROR, { aa: true });
  res.answers = [{ name: 'web.default.svc.cluster.local', ttl: 5, data: { type: 'A', address: '10.96.0.20' } }];
  const out = buildMessage(res);
  const expected = Buffer.from([
    0xbe, 0xef, 0x85, 0x00, 0, 1, 0, 1, 0, 0, 0, 0,
    ...labels('web.default.svc.cluster.local'), 0, 1, 0, 1,
    0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 10, 96, 0, 20,
  ]);
  assert.deepEqual(out, expected);
});

test('round-trips A, AAAA, SRV, CNAME, PTR, SOA and the NXDOMAIN rcode', () => {
  const records: ResourceRecord[] = [
    { name: 'a.cluster.local', ttl: 5, data: { type: 'A', address: '10.244.1.2' } },
    { name: 'a.cluster.local', ttl: 5, data: { type: 'AAAA', address: 'fd00:0:0:0:0:0:0:1' } },
    { name: '_http._tcp.web.default.svc.cluster.local', ttl: 5, data: { type: 'SRV', priority: 0, weight: 100, port: 8080, target: 'web.default.svc.cluster.local' } },
    { name: 'ext.default.svc.cluster.local', ttl: 5, data: { type: 'CNAME', target: 'example.com' } },
    { name: '2.1.244.10.in-addr.arpa', ttl: 5, data: { type: 'PTR', target: 'a.cluster.local' } },
  ];
  const soa: ResourceRecord = { name: 'cluster.local', ttl: 5, data: { type: 'SOA', mname: 'ns.dns.cluster.local', rname: 'hostmaster.cluster.local', serial: 7, refresh: 7200, retry: 1800, expire: 86400, minimum: 5 } };
  const m: Message = {
    id: 9, flags: { qr: true, opcode: 0, aa: true, tc: false, rd: true, ra: false, rcode: RCODE.NXDOMAIN },
    questions: [{ name: 'a.cluster.local', type: TYPE.ANY, class: 1 }], answers: records, authority: [soa], additional: [],
  };
  const back = parseMessage(buildMessage(m));
  assert.equal(back.flags.rcode, RCODE.NXDOMAIN);
  assert.deepEqual(back.answers.map((r) => r.data), [
    { type: 'A', address: '10.244.1.2' },
    { type: 'AAAA', address: 'fd00:0:0:0:0:0:0:1' },
    records[2]!.data, records[3]!.data, records[4]!.data,
  ]);
  assert.deepEqual(back.authority, [soa]);
});

test('UDP responses over 512 bytes without EDNS are truncated to the question with TC set', () => {
  const query = parseMessage(buildQuery(1, 'db.default.svc.cluster.local', TYPE.A));
  const res = responseTo(query, RCODE.NOERROR, { aa: true });
  res.answers = Array.from({ length: 60 }, (_, i) => ({ name: 'db.default.svc.cluster.local', ttl: 5, data: { type: 'A' as const, address: `10.244.1.${i + 2}` } }));
  const full = buildMessage(res);
  assert.ok(full.length > 512);
  assert.equal(parseMessage(full).answers.length, 60);
  const udp = parseMessage(buildMessage(res, 512));
  assert.equal(udp.flags.tc, true);
  assert.equal(udp.answers.length, 0);
  assert.deepEqual(udp.questions, query.questions);
  // an EDNS client advertising 1232 bytes gets everything
  const ednsQuery = parseMessage(buildQuery(2, 'db.default.svc.cluster.local', TYPE.A, { ednsSize: 1232 }));
  assert.deepEqual(ednsQuery.edns, { udpSize: 1232 });
  const r2 = responseTo(ednsQuery, RCODE.NOERROR);
  r2.answers = res.answers;
  const big = parseMessage(buildMessage(r2, 1232));
  assert.equal(big.flags.tc, false);
  assert.equal(big.answers.length, 60);
  assert.deepEqual(big.edns, { udpSize: 1232 });
});

test('SRV targets are written without compression (RFC 2782)', () => {
  const query = parseMessage(buildQuery(3, '_http._tcp.web.default.svc.cluster.local', TYPE.SRV));
  const res = responseTo(query, RCODE.NOERROR);
  res.answers = [{ name: '_http._tcp.web.default.svc.cluster.local', ttl: 5, data: { type: 'SRV', priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local' } }];
  const out = buildMessage(res);
  assert.ok(out.includes(Buffer.from(labels('web.default.svc.cluster.local'))), 'target spelled out in full');
  assert.deepEqual(parseMessage(out).answers[0]!.data, res.answers[0]!.data);
});
