import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommandArgs, UsageError, str, bool } from './args.ts';

test('parses flags, positionals and the command after --', () => {
  const p = parseCommandArgs(['-n', 'demo', 'client', '--', 'curl', '-s', 'http://x/'], { namespace: { type: 'string', short: 'n' } });
  assert.equal(str(p, 'namespace'), 'demo');
  assert.deepEqual(p.positionals, ['client']);
  assert.deepEqual(p.rest, ['curl', '-s', 'http://x/']);
});

test('flags after -- belong to the command, not to meshctl', () => {
  const p = parseCommandArgs(['pod', '--', 'ls', '-A'], { all: { type: 'boolean', short: 'A' } });
  assert.equal(bool(p, 'all'), false);
  assert.deepEqual(p.rest, ['ls', '-A']);
});

test('unknown flags are usage errors with a hint', () => {
  assert.throws(() => parseCommandArgs(['--bogus'], {}), (e: unknown) => e instanceof UsageError && /unknown flag.*--help/.test(e.message));
});

test('a missing flag value is a usage error', () => {
  assert.throws(() => parseCommandArgs(['-n'], { namespace: { type: 'string', short: 'n' } }), UsageError);
});
