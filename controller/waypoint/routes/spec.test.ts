// Table tests for the readers shared by every route kind: both duration grammars, RE2 regex checks and rewriting,
// and port protocol selection.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RouteConfigError, gatewayDurationMs, istioDurationMs, normRegex, readRegex } from './spec.ts';
import { portProtocol } from './protocol.ts';

test('Istio durations: Go syntax, millisecond precision, ≥ 1ms unless zero is allowed', () => {
  const ok: Array<[string, number]> = [
    ['1s', 1000], ['0.5s', 500], ['100ms', 100], ['1m', 60_000], ['3m', 180_000], ['1h', 3_600_000], ['1h30m', 5_400_000],
    ['2m3.5s', 123_500], ['1.5h', 5_400_000], ['1000us', 1], ['2000000ns', 2], ['.5s', 500],
  ];
  for (const [s, ms] of ok) assert.equal(istioDurationMs(s, 'f'), ms, s);
  assert.equal(istioDurationMs('0s', 'f', 0), 0);
  const bad: Array<[unknown, RegExp]> = [
    ['1', /invalid duration/], ['1d', /invalid duration/], ['', /invalid duration/], ['-1s', /negative/], ['s', /invalid duration/],
    ['0.5ms', /millisecond precision/], ['0s', /at least 1ms/], [5, /duration string/], ['1s ', /invalid duration/],
  ];
  for (const [s, re] of bad) {
    assert.throws(() => istioDurationMs(s, 'spec.x'), (e: unknown) => e instanceof RouteConfigError && e.field === 'spec.x' && re.test(e.message), String(s));
  }
});

test('Gateway API durations: GEP-2257 (1-5 digits, h/m/s/ms, up to four parts)', () => {
  const ok: Array<[string, number]> = [['500ms', 500], ['1s', 1000], ['1m', 60_000], ['1h30m', 5_400_000], ['0s', 0], ['1h1m1s1ms', 3_661_001]];
  for (const [s, ms] of ok) assert.equal(gatewayDurationMs(s, 'f'), ms, s);
  for (const s of ['0.5s', '1d', '123456s', '1h1m1s1ms1h', '', '1 s', '-1s']) {
    assert.throws(() => gatewayDurationMs(s, 'spec.rules[0].timeouts.request'), /spec\.rules\[0\]\.timeouts\.request: invalid duration/, s);
  }
});

test('regexes: RE2 syntax the waypoint can run; (?i) and (?P<…>) rewritten for both engines', () => {
  for (const re of ['^/api/v[0-9]+/.*', '(?i)jason', '(?P<id>[0-9]+)', 'a|b', '']) assert.equal(readRegex(re, 'f'), re);
  const bad: Array<[string, RegExp]> = [['(', /invalid regular expression/], ['a(?=b)', /lookahead/], ['(a)\\1', /backreferences/], ['[z-a]', /invalid regular expression/]];
  for (const [re, msg] of bad) assert.throws(() => readRegex(re, 'f'), msg, re);
  assert.equal(normRegex('(?i)jason'), '(?i:jason)');
  assert.equal(normRegex('/(?P<id>\\d+)'), '/(?<id>\\d+)');
  assert.ok(new RegExp(`^(?:${normRegex('(?i)jason')})$`).test('JASON'));
});

test('portProtocol: appProtocol alone when set, else the port name prefix, else AUTO', () => {
  const cases: Array<[Parameters<typeof portProtocol>[0], string]> = [
    [{ port: 80, appProtocol: 'http' }, 'HTTP'],
    [{ port: 80, appProtocol: 'HTTP2' }, 'HTTP2'],
    [{ port: 80, appProtocol: 'grpc' }, 'GRPC'],
    [{ port: 80, appProtocol: 'kubernetes.io/h2c' }, 'HTTP2'],
    [{ port: 80, appProtocol: 'kubernetes.io/ws' }, 'HTTP'],
    [{ port: 80, appProtocol: 'kubernetes.io/wss' }, 'TCP'],
    [{ port: 80, appProtocol: 'tcp', name: 'http' }, 'TCP'],
    [{ port: 80, appProtocol: 'example.com/custom', name: 'http' }, 'AUTO'],
    [{ port: 80, name: 'http' }, 'HTTP'],
    [{ port: 80, name: 'http-web' }, 'HTTP'],
    [{ port: 80, name: 'HTTP2-x' }, 'HTTP2'],
    [{ port: 80, name: 'grpc-api' }, 'GRPC'],
    [{ port: 80, name: 'grpc-web' }, 'HTTP'],
    [{ port: 80, name: 'tcp-db' }, 'TCP'],
    [{ port: 80, name: 'tls' }, 'TCP'],
    [{ port: 80, name: 'mysql' }, 'TCP'],
    [{ port: 80, name: 'httpx' }, 'AUTO'],
    [{ port: 80, name: 'web' }, 'AUTO'],
    [{ port: 80 }, 'AUTO'],
  ];
  for (const [p, want] of cases) assert.equal(portProtocol(p), want, JSON.stringify(p));
});
