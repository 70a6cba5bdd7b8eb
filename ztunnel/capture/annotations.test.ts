// Table tests of parseCaptureAnnotations and the address parsing under it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCidr, parsePort } from './addr.ts';
import { parseCaptureAnnotations } from './annotations.ts';

const IN = 'ambient-mesh.io/exclude-inbound-ports';
const OUT = 'ambient-mesh.io/exclude-outbound-ports';
const CIDRS = 'ambient-mesh.io/exclude-outbound-ip-ranges';

const cases: Array<{ name: string; annotations: Record<string, string> | undefined; want: ReturnType<typeof parseCaptureAnnotations> }> = [
  {
    name: 'no annotations',
    annotations: undefined,
    want: { excludeInboundPorts: [], excludeOutboundPorts: [], excludeOutboundCidrs: [], errors: [] },
  },
  {
    name: 'unrelated annotations and empty values',
    annotations: { 'other.io/x': '1', [IN]: '', [OUT]: ' , ' },
    want: { excludeInboundPorts: [], excludeOutboundPorts: [], excludeOutboundCidrs: [], errors: [] },
  },
  {
    name: 'all three, with spaces and duplicates',
    annotations: { [IN]: '8080, 9090,8080', [OUT]: '3306', [CIDRS]: '10.0.0.0/8, fd00::/8 ,192.168.1.7' },
    want: {
      excludeInboundPorts: [8080, 9090],
      excludeOutboundPorts: [3306],
      excludeOutboundCidrs: ['10.0.0.0/8', 'fd00::/8', '192.168.1.7/32'],
      errors: [],
    },
  },
  {
    name: 'bad entries reported, good ones kept',
    annotations: { [IN]: '80,0,abc,65536,443', [OUT]: '8e1,53', [CIDRS]: '10.0.0.0/8,10.0.0.0/40,*,example.com' },
    want: {
      excludeInboundPorts: [80, 443],
      excludeOutboundPorts: [53],
      excludeOutboundCidrs: ['10.0.0.0/8'],
      errors: [
        `${IN}: "0" is not a port (1-65535)`,
        `${IN}: "abc" is not a port (1-65535)`,
        `${IN}: "65536" is not a port (1-65535)`,
        `${OUT}: "8e1" is not a port (1-65535)`,
        `${CIDRS}: "10.0.0.0/40" is not an IP range (e.g. 10.0.0.0/8)`,
        `${CIDRS}: "*" is not an IP range (e.g. 10.0.0.0/8)`,
        `${CIDRS}: "example.com" is not an IP range (e.g. 10.0.0.0/8)`,
      ],
    },
  },
];
for (const c of cases) {
  test(`parseCaptureAnnotations: ${c.name}`, () => {
    assert.deepEqual(parseCaptureAnnotations(c.annotations), c.want);
  });
}

test('parsePort', () => {
  for (const [text, want] of [['1', 1], ['65535', 65535], ['080', 80], ['0', undefined], ['-1', undefined],
    ['1.0', undefined], ['', undefined], ['123456', undefined]] as const) {
    assert.equal(parsePort(text), want, text);
  }
});

test('parseCidr normalises to the network address', () => {
  for (const [text, want] of [
    ['10.1.2.3/16', '10.1.0.0/16'],
    ['10.1.2.3', '10.1.2.3/32'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['255.255.255.255/31', '255.255.255.254/31'],
    ['fd00:1:2:3::5/64', 'fd00:1:2:3::/64'],
    ['FD00::1', 'fd00::1/128'],
    ['::/0', '::/0'],
    ['2001:db8:0:0:1:0:0:1/128', '2001:db8::1:0:0:1/128'],
    ['::ffff:10.1.2.3/120', '::ffff:a01:200/120'],
    ['fd00::1/129', undefined],
    ['10.0.0.0/', undefined],
    ['10.0.0/8', undefined],
  ] as const) {
    assert.equal(parseCidr(text)?.text, want, text);
  }
});

test('preferByUid: one holder wins; several are told apart by the uid in the local cluster name', async () => {
  const { preferByUid } = await import('./netns.ts');
  assert.equal(preferByUid([], 'x'), undefined);
  assert.equal(preferByUid(['/proc/7/ns/net'], undefined), '/proc/7/ns/net');
  assert.equal(preferByUid(['/var/run/netns/a-pod-1234abcd', '/var/run/netns/b-pod-9999ffff'], '9999ffff-0000-1111'), '/var/run/netns/b-pod-9999ffff');
  assert.equal(preferByUid(['/var/run/netns/a-pod-1234abcd', '/proc/9/ns/net'], '5555aaaa-1'), undefined);
});
