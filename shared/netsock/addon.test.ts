// The addon's own contract, without namespaces: argument validation, error shapes, plain sockets.
import assert from 'node:assert/strict';
import { closeSync } from 'node:fs';
import { constants } from 'node:os';
import { test } from 'node:test';
import { addon, loadAddon, type OpenSocketSpec } from './addon.ts';

test('a missing addon is NETSOCK_ADDON_MISSING with the setup hint', () => {
  assert.throws(() => loadAddon(new URL('./no-such-addon.node', import.meta.url)), {
    code: 'NETSOCK_ADDON_MISSING',
    message: 'native addon not built; run npm run setup',
  });
});

test('openSocket rejects malformed specs with type errors', () => {
  const cases: Array<{ spec: unknown; code: string }> = [
    { spec: undefined, code: 'ERR_INVALID_ARG_TYPE' },
    { spec: { type: 'sctp', family: 4 }, code: 'ERR_INVALID_ARG_VALUE' },
    { spec: { type: 'tcp' }, code: 'ERR_INVALID_ARG_VALUE' },
    { spec: { type: 'tcp', family: 5 }, code: 'ERR_INVALID_ARG_VALUE' },
    { spec: { type: 'tcp', family: 4, port: 70000 }, code: 'ERR_OUT_OF_RANGE' },
    { spec: { type: 'tcp', family: 4, port: 1.5 }, code: 'ERR_OUT_OF_RANGE' },
    { spec: { type: 'tcp', family: 4, address: '::1' }, code: 'ERR_INVALID_IP_ADDRESS' },
    { spec: { type: 'tcp', family: 6, address: '127.0.0.1' }, code: 'ERR_INVALID_IP_ADDRESS' },
    { spec: { type: 'udp', family: 4, listen: true }, code: 'ERR_INVALID_ARG_VALUE' },
    { spec: { type: 'tcp', family: 4, listen: 'yes' }, code: 'ERR_INVALID_ARG_TYPE' },
    { spec: { type: 'tcp', family: 4, mark: -1 }, code: 'ERR_OUT_OF_RANGE' },
    { spec: { type: 'tcp', family: 4, netns: '' }, code: 'ERR_INVALID_ARG_VALUE' },
  ];
  for (const c of cases) {
    assert.throws(() => addon().openSocket(c.spec as OpenSocketSpec), { code: c.code }, JSON.stringify(c.spec));
  }
});

test('openSocket without netns binds in the current namespace', () => {
  const fd = addon().openSocket({ type: 'udp', family: 4, address: '127.0.0.1', port: 0 });
  try {
    assert.ok(fd > 2);
    assert.equal(addon().getMark(fd), 0);
  } finally {
    closeSync(fd);
  }
});

test('fd arguments are validated; a bad fd is EBADF from the syscall', () => {
  assert.throws(() => addon().originalDst(-1), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => addon().getMark(2 ** 31), { code: 'ERR_OUT_OF_RANGE' });
  // Far beyond any descriptor table, so never a live fd (a just-closed fd could be reused).
  assert.throws(() => addon().getMark(2 ** 31 - 1), {
    code: 'EBADF',
    errno: -constants.errno.EBADF,
    syscall: 'getsockopt',
    message: 'getsockopt EBADF',
  });
});

test('originalDst of a socket that was never redirected is a system error, not a guess', () => {
  const fd = addon().openSocket({ type: 'udp', family: 4, address: '127.0.0.1', port: 0 });
  try {
    assert.throws(() => addon().originalDst(fd), (err: NodeJS.ErrnoException) => {
      assert.equal(err.syscall, 'getsockopt');
      assert.equal(typeof err.code, 'string');
      assert.ok(typeof err.errno === 'number' && err.errno < 0);
      return true;
    });
  } finally {
    closeSync(fd);
  }
});
