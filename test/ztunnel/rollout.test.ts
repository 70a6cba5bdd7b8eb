// A ztunnel upgrade never leaves a node without a proxy (root: network namespaces). deploy/ rolls the DaemonSet with
// maxSurge 1 / maxUnavailable 0: on each node the new ztunnel starts next to the old one (its own pod namespace, so
// their ports do not collide), adopts every captured pod by listening next to the old one's listeners
// (SO_REUSEPORT), and only when it is Ready is the old one deleted; it stops accepting and drains. A client keeps
// sending requests across nodes the whole time: none may fail, and afterwards the new ztunnels carry the mTLS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { requirePrivileges } from '../support/privileged.ts';
import { eventually } from '../support/eventually.ts';
import { captured, counterSum, enrolledPair, execIn, pods, ztunnelMetrics, ztunnelOn } from './support.ts';

const REQUESTS = 400; // ~0.1 s apart: the loop outlasts the rollout of two nodes

test('a ztunnel rollout (maxSurge 1) drops no request and leaves every pod captured by the new ztunnels; a stopped ztunnel drains live connections', { timeout: 600_000 }, async (t) => {
  if (!requirePrivileges(t)) return;
  const { m, client, echo } = await enrolledPair(t, 'zr');
  const oldZtunnels = pods(m, 'istio-system').filter((p) => p.name.startsWith('ztunnel-')).map((p) => p.name).sort();
  assert.equal(oldZtunnels.length, 2);

  // One request every ~0.1 s from node-1 to node-2; each prints one line, starting with its HTTP status (000: failed).
  const loop = m.run(['exec', '-n', 'zr', 'client', '--', 'sh', '-c',
    `for i in $(seq 1 ${REQUESTS}); do curl -s -o /dev/null -w '%{http_code} %{exitcode} %{time_namelookup} %{time_connect}\\n' --max-time 5 http://echo.zr/; sleep 0.1; done`], { timeoutMs: 300_000 });
  await new Promise((r) => setTimeout(r, 3000));
  const restart = m.kubectl(['rollout', 'restart', 'daemonset/ztunnel', '-n', 'istio-system']);
  assert.equal(restart.code, 0, restart.stderr);
  let sawTwoOnANode = false;
  await eventually(() => {
    const zs = pods(m, 'istio-system').filter((p) => p.name.startsWith('ztunnel-'));
    if (zs.some((z) => zs.filter((o) => o.node === z.node).length > 1)) sawTwoOnANode = true;
    assert.ok(zs.length === 2 && zs.every((z) => z.ready && !oldZtunnels.includes(z.name)), `rollout: ${zs.map((z) => `${z.name}@${z.node}:${z.ready}`).join(' ')}`);
    return true;
  }, 180_000, 250);
  assert.ok(sawTwoOnANode, 'the new ztunnel ran next to the old one on a node (surge)');

  const r = await loop;
  assert.equal(r.code, 0, r.stderr);
  const results = r.stdout.trim().split('\n');
  assert.equal(results.length, REQUESTS);
  // Each line: status, curl exit code, DNS and connect times (which step failed, if one did).
  const failed = results.filter((x) => !x.startsWith('200 '));
  assert.deepEqual(failed, [], `${failed.length} of ${REQUESTS} requests failed during the rollout: ${failed.join('; ')}`);

  // The new ztunnels own the capture now: pods still captured, and the new destination ztunnel counts mTLS.
  assert.ok(captured(m, client) && captured(m, echo));
  const mtls = async (): Promise<number> => counterSum(await ztunnelMetrics(m, 'node-2'), 'istio_tcp_connections_opened_total',
    { reporter: 'destination', connection_security_policy: 'mutual_tls', source_principal: 'spiffe://cluster.local/ns/zr/sa/client' });
  const before = await mtls();
  const once = await m.run(['exec', '-n', 'zr', 'client', '--', 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '10', 'http://echo.zr/'], { timeoutMs: 30_000 });
  assert.equal(once.stdout, '200');
  await eventually(async () => (await mtls()) > before, 10_000);

  // SIGTERM drain: a connection carried by a ztunnel that is stopped keeps working for DRAIN_SECONDS (5 in deploy/).
  // One keep-alive HTTP connection sends a request every 0.2 s for 3 s; once it is up (it says so in a file: pods
  // share the host's filesystem here), node-1's ztunnel (the client's outbound side) is deleted. Every request must
  // be answered on that same connection. (New connections in that moment are refused: a plain pod delete has no
  // successor ready, unlike the rollout above.)
  const drainer = ztunnelOn(m, 'node-1');
  const marker = join(m.home, 'drain-connected');
  const live = execIn(m, client, ['python3', '-c', `
import http.client, time, json
c = http.client.HTTPConnection('echo.zr', 80, timeout=5)
out = []
for i in range(15):
    c.request('GET', '/headers')
    r = c.getresponse(); r.read()
    out.append([r.status, c.sock.getsockname()[1]])
    if i == 0: open(${JSON.stringify(marker)}, 'w').close()
    time.sleep(0.2)
print(json.dumps(out))`], 60_000);
  await eventually(() => existsSync(marker), 20_000, 50);
  assert.equal(m.kubectl(['delete', 'pod', '-n', 'istio-system', drainer.name, '--wait=false']).code, 0);
  const lr = await live;
  assert.equal(lr.code, 0, `the live connection broke while its ztunnel drained: ${lr.stderr}`);
  const answers = JSON.parse(lr.stdout.trim()) as [number, number][];
  assert.equal(answers.length, 15);
  assert.ok(answers.every(([status]) => status === 200), JSON.stringify(answers));
  assert.equal(new Set(answers.map(([, port]) => port)).size, 1, 'one connection throughout');
  const gone = m.kubectl(['get', 'pod', '-n', 'istio-system', drainer.name]);
  assert.notEqual(gone.code, 0, `${drainer.name} was stopped while the connection lived`);
});
