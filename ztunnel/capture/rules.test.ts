// Table tests of renderPodRules: the full script for the usual options, then one case per option.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CaptureBadConfigError } from './errors.ts';
import { renderPodRules, type PodRulesOptions } from './rules.ts';

const base: PodRulesOptions = {
  mark: 0x539,
  outboundPort: 15001,
  inboundPlainPort: 15006,
  hbonePort: 15008,
  dnsPort: 15053,
  captureDns: true,
  probeSources: ['10.100.0.11'],
  excludeInboundPorts: [],
  excludeOutboundPorts: [],
  excludeOutboundCidrs: [],
};

test('renderPodRules: the whole script for the usual options', () => {
  assert.equal(
    renderPodRules(base),
    `table inet ztunnel {}
delete table inet ztunnel
table inet ztunnel {
  chain prerouting_mangle {
    type filter hook prerouting priority mangle; policy accept;
    # ztunnel's transparent delivery to the app loops through lo: remember the connection
    iifname "lo" meta mark & 0xfff == 0x539 ct mark set ct mark & 0xfffff000 | 0x111
  }
  chain output_route {
    type route hook output priority mangle; policy accept;
    # the app's replies to a transparently delivered connection: re-route them to lo (routing table 133)
    ct direction reply ct mark & 0xfff == 0x111 meta mark set meta mark & 0xfffff000 | 0x111
  }
  chain prerouting_nat {
    type nat hook prerouting priority dstnat; policy accept;
    iifname "lo" accept
    meta mark & 0xfff == 0x539 accept
    meta l4proto != tcp accept
    ip saddr 10.100.0.11 accept
    tcp dport 15008 accept
    meta l4proto tcp redirect to :15006
  }
  chain output_nat {
    type nat hook output priority -100; policy accept;
    meta mark & 0xfff == 0x539 accept
    oifname "lo" accept
    meta l4proto { tcp, udp } th dport 53 redirect to :15053
    meta l4proto tcp redirect to :15001
  }
}
`,
  );
});

/** The rule lines (no table/chain scaffolding or comments) of a rendering. */
function ruleLines(opts: Partial<PodRulesOptions>): string[] {
  return renderPodRules({ ...base, ...opts })
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#') && !l.startsWith('table') && !l.startsWith('delete') &&
      !l.startsWith('chain') && !l.startsWith('type') && l !== '}');
}

const cases: Array<{ name: string; opts: Partial<PodRulesOptions>; has: string[]; lacks?: string[] }> = [
  {
    name: 'DNS capture off: no port 53 redirect',
    opts: { captureDns: false },
    has: ['meta l4proto tcp redirect to :15001'],
    lacks: ['meta l4proto { tcp, udp } th dport 53 redirect to :15053'],
  },
  {
    name: 'other ports and mark',
    opts: { mark: 0x777, outboundPort: 25001, inboundPlainPort: 25006, hbonePort: 25008, dnsPort: 25053 },
    has: [
      'iifname "lo" meta mark & 0xfff == 0x777 ct mark set ct mark & 0xfffff000 | 0x111',
      'meta mark & 0xfff == 0x777 accept',
      'tcp dport 25008 accept',
      'meta l4proto tcp redirect to :25006',
      'meta l4proto { tcp, udp } th dport 53 redirect to :25053',
      'meta l4proto tcp redirect to :25001',
    ],
  },
  {
    name: 'no probe sources: no saddr rule',
    opts: { probeSources: [] },
    has: ['tcp dport 15008 accept'],
    lacks: ['ip saddr 10.100.0.11 accept'],
  },
  {
    name: 'IPv4 and IPv6 probe sources, deduplicated and sorted',
    opts: { probeSources: ['10.100.0.12', 'FD00::B', '10.100.0.11', '10.100.0.12'] },
    has: ['ip saddr { 10.100.0.11, 10.100.0.12 } accept', 'ip6 saddr fd00::b accept'],
  },
  {
    name: 'excluded inbound ports join HBONE in one set',
    opts: { excludeInboundPorts: [9090, 22, 9090] },
    has: ['tcp dport { 22, 9090, 15008 } accept'],
  },
  {
    name: 'excluded outbound ports bypass tcp and udp before DNS',
    opts: { excludeOutboundPorts: [3306] },
    has: ['meta l4proto { tcp, udp } th dport 3306 accept'],
  },
  {
    name: 'excluded CIDRs split by family and normalised',
    opts: { excludeOutboundCidrs: ['10.1.2.3/16', '192.168.0.0/24', 'fd00:1::5/64', '169.254.1.1'] },
    has: ['ip daddr { 10.1.0.0/16, 169.254.1.1/32, 192.168.0.0/24 } accept', 'ip6 daddr fd00:1::/64 accept'],
  },
];

for (const c of cases) {
  test(`renderPodRules: ${c.name}`, () => {
    const lines = ruleLines(c.opts);
    for (const h of c.has) assert.ok(lines.includes(h), `missing ${h} in\n${lines.join('\n')}`);
    for (const l of c.lacks ?? []) assert.ok(!lines.includes(l), `unexpected ${l}`);
  });
}

test('renderPodRules: exclusions come before the DNS and outbound redirects', () => {
  const lines = ruleLines({ excludeOutboundPorts: [53], excludeOutboundCidrs: ['10.0.0.0/8'] });
  const at = (s: string): number => lines.findIndex((l) => l.startsWith(s));
  assert.ok(at('meta l4proto { tcp, udp } th dport 53 accept') < at('meta l4proto { tcp, udp } th dport 53 redirect'));
  assert.ok(at('ip daddr 10.0.0.0/8 accept') < at('meta l4proto tcp redirect to :15001'));
});

const bad: Array<[string, Partial<PodRulesOptions>, RegExp]> = [
  ['mark 0', { mark: 0 }, /mark must be/],
  ['mark outside the mask', { mark: 0x1539 }, /mark must be/],
  ['mark equal to the connection mark', { mark: 0x111 }, /mark must be/],
  ['port 0', { outboundPort: 0 }, /outboundPort must be a port/],
  ['port too big', { dnsPort: 70000 }, /dnsPort must be a port/],
  ['excluded port not an integer', { excludeInboundPorts: [1.5] }, /excludeInboundPorts entry/],
  ['probe source not an IP', { probeSources: ['node-1'] }, /probe source "node-1"/],
  ['CIDR prefix too long', { excludeOutboundCidrs: ['10.0.0.0/33'] }, /"10.0.0.0\/33" is not a CIDR/],
  ['CIDR garbage', { excludeOutboundCidrs: ['*'] }, /is not a CIDR/],
];
for (const [name, opts, message] of bad) {
  test(`renderPodRules refuses ${name}`, () => {
    assert.throws(() => renderPodRules({ ...base, ...opts }), (err: unknown) => {
      assert.ok(err instanceof CaptureBadConfigError);
      assert.equal(err.code, 'ZT_CAPTURE_BAD_CONFIG');
      assert.match(err.message, message);
      return true;
    });
  });
}
