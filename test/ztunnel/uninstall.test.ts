// Uninstall leaves no capture rule in any pod (root: network namespaces). `kubectl delete -k` of the install, as the
// README says, while a namespace is still enrolled: each ztunnel sees its namespace terminating when it gets SIGTERM,
// takes its nftables table out of every pod it captured, then drains. Afterwards the pods talk plainly (a restart or
// rollout, by contrast, keeps the rules for the successor: mesh.test.ts and rollout.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requirePrivileges } from '../support/privileged.ts';
import { eventually } from '../support/eventually.ts';
import { LOCAL_OVERLAY } from '../../localcluster/kustomize.ts';
import { captured, enrolledPair, execIn, pods } from './support.ts';

test('kubectl delete -k of the install removes the capture rules from every pod; traffic is plain again', { timeout: 600_000 }, async (t) => {
  if (!requirePrivileges(t)) return;
  const { m, client, echo } = await enrolledPair(t, 'zu');

  const del = m.kubectl(['delete', '-k', LOCAL_OVERLAY, '--wait=false']);
  assert.equal(del.code, 0, del.stderr);
  await eventually(() => {
    assert.deepEqual(pods(m, 'istio-system').map((p) => p.name), [], 'the mesh is gone');
    return true;
  }, 90_000, 500);
  // The namespace label is still there: nothing but the uninstall removed the rules.
  assert.equal(captured(m, client), false, 'no ztunnel table left in the client pod');
  assert.equal(captured(m, echo), false, 'no ztunnel table left in the echo pod');
  const r = await execIn(m, client, ['curl', '-sS', '--max-time', '10', 'http://echo.zu/']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).remoteAddress.replace(/^::ffff:/, ''), client.ip, 'plain traffic: the app sees the client pod');
});
