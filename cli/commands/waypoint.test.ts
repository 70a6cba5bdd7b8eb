// `meshctl waypoint`: argument parsing, the Gateway it applies, list/status output, and apply/list/status/delete
// against an in-process API server (the test plays the controller by writing the Gateway's status).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { parseCommandArgs, UsageError } from '../args.ts';
import { listTable, parseDuration, parseWaypoint, runWaypoint, statusText, waypointFlags, waypointGateway, type WaypointIo } from './waypoint.ts';
import { mergePatch, startTestApi } from '../../test/support/control-plane.ts';

const parse = (...argv: string[]) => parseWaypoint(parseCommandArgs(argv, waypointFlags));

test('apply: defaults are namespace default, name waypoint, wait 90 s', () => {
  assert.deepEqual(parse('apply'), {
    verb: 'apply', namespace: 'default', name: 'waypoint', for: undefined, revision: undefined, enrollNamespace: false, overwrite: false, wait: true, timeoutMs: 90_000,
  });
});

test('apply: every flag', () => {
  assert.deepEqual(parse('apply', '-n', 'demo', '--name', 'wp', '--for', 'all', '--enroll-namespace', '--overwrite', '-r', 'canary', '--no-wait', '--timeout', '2m'), {
    verb: 'apply', namespace: 'demo', name: 'wp', for: 'all', revision: 'canary', enrollNamespace: true, overwrite: true, wait: false, timeoutMs: 120_000,
  });
});

const usageErrors: Array<[string[], RegExp]> = [
  [[], /waypoint takes one of apply, generate, list, status, delete/],
  [['install'], /\(got install\)/],
  [['apply', '--for', 'pods'], /--for takes service, workload, all, none \(got pods\)/],
  [['apply', '--name', 'none'], /'none' is reserved/],
  [['apply', '--name', 'Bad_Name'], /invalid waypoint name/],
  [['apply', '--all'], /waypoint apply does not take --all/],
  [['apply', 'extra'], /takes no arguments/],
  [['apply', '--overwrite'], /--overwrite only applies with --enroll-namespace/],
  [['apply', '--wait', '--no-wait'], /contradict/],
  [['apply', '--timeout', 'soon'], /--timeout takes a duration/],
  [['list', '-A', '-n', 'demo'], /either -n NS or -A/],
  [['list', '--name', 'x'], /waypoint list does not take --name/],
  [['delete', '--all', 'wp'], /do not name one too/],
];
for (const [argv, want] of usageErrors) {
  test(`usage error: waypoint ${argv.join(' ')}`, () => {
    assert.throws(() => parse(...argv), (e: unknown) => e instanceof UsageError && want.test(e.message));
  });
}

test('list, status and delete requests', () => {
  assert.deepEqual(parse('list', '-A'), { verb: 'list', namespace: 'default', allNamespaces: true });
  assert.deepEqual(parse('status', '-n', 'demo'), { verb: 'status', namespace: 'demo' });
  assert.deepEqual(parse('status', '-n', 'demo', '--name', 'wp'), { verb: 'status', namespace: 'demo', name: 'wp' });
  assert.deepEqual(parse('delete', '-n', 'demo'), { verb: 'delete', namespace: 'demo', names: ['waypoint'] });
  assert.deepEqual(parse('delete', '-n', 'demo', 'a', 'b'), { verb: 'delete', namespace: 'demo', names: ['a', 'b'] });
  assert.deepEqual(parse('delete', '-n', 'demo', '--all'), { verb: 'delete', namespace: 'demo', names: 'all' });
});

test('durations', () => {
  assert.deepEqual(['90', '90s', '2m', '500ms', '1.5s'].map(parseDuration), [90_000, 90_000, 120_000, 500, 1500]);
});

test('the applied Gateway is istioctl\'s: class istio-waypoint, one HBONE listener on 15008, labels only when asked', () => {
  assert.deepEqual(waypointGateway({ namespace: 'demo', name: 'waypoint' }), {
    apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'waypoint', namespace: 'demo' },
    spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
  });
  assert.deepEqual(waypointGateway({ namespace: 'demo', name: 'wp', for: 'workload', revision: 'canary' }).metadata.labels, { 'istio.io/waypoint-for': 'workload', 'istio.io/rev': 'canary' });
});

const gw = (ns: string, name: string, o: { cls?: string; programmed?: string; labels?: Record<string, string> } = {}) => ({
  metadata: { namespace: ns, name, labels: o.labels ?? {} },
  spec: { gatewayClassName: o.cls ?? 'istio-waypoint' },
  status: o.programmed ? { conditions: [{ type: 'Programmed', status: o.programmed, reason: 'x', message: 'y' }] } : {},
});

test('list: waypoints only, sorted, effective traffic type, namespace column with -A', () => {
  const all = [gw('b', 'wp', { programmed: 'True' }), gw('a', 'z', { labels: { 'istio.io/waypoint-for': 'all', 'istio.io/rev': 'canary' }, programmed: 'False' }), gw('a', 'ingress', { cls: 'istio' }), gw('a', 'new')];
  assert.equal(listTable(all, true), [
    'NAMESPACE   NAME   REVISION   TRAFFIC TYPE   PROGRAMMED',
    'a           new    default    service        Unknown',
    'a           z      canary     all            False',
    'b           wp     default    service        True',
  ].join('\n'));
  assert.equal(listTable([gw('b', 'wp', { programmed: 'True' })], false), 'NAME   REVISION   TRAFFIC TYPE   PROGRAMMED\nwp     default    service        True');
  assert.equal(listTable([gw('a', 'ingress', { cls: 'istio' })], false), 'No waypoints found.');
});

test('status: address, conditions and pods', () => {
  const g = {
    metadata: { namespace: 'demo', name: 'waypoint' },
    spec: { gatewayClassName: 'istio-waypoint' },
    status: {
      addresses: [{ type: 'IPAddress', value: '10.96.0.20' }],
      conditions: [
        { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'Resource accepted' },
        { type: 'Programmed', status: 'True', reason: 'Programmed', message: 'Resource programmed' },
      ],
    },
  };
  const pod = { metadata: { name: 'waypoint-1' }, spec: { nodeName: 'node-1', containers: [{}] }, status: { phase: 'Running', podIP: '10.244.1.9', containerStatuses: [{ ready: true, restartCount: 1, state: { running: {} } }] } };
  assert.equal(statusText(g, [pod], ['namespace demo']), [
    'waypoint demo/waypoint',
    '  Address:      10.96.0.20 (port 15008)',
    '  Traffic type: service',
    '  Used by:      namespace demo',
    '  Conditions:',
    '    TYPE         STATUS   REASON       MESSAGE',
    '    Accepted     True     Accepted     Resource accepted',
    '    Programmed   True     Programmed   Resource programmed',
    '  Pods:',
    '    NAME         READY   STATUS    RESTARTS   IP           NODE',
    '    waypoint-1   1/1     Running   1          10.244.1.9   node-1',
  ].join('\n'));
  assert.match(statusText({ metadata: { namespace: 'demo', name: 'w' } }, []), /Address: +<none> \(not ready yet\)[\s\S]*<none> \(is the controller running\?\)[\s\S]*Pods:\n {4}<none>$/);
});

test('against an API server: apply (waits for Programmed), enrol, list, status, delete (removes the label)', { timeout: 30_000 }, async (t) => {
  const { kc, core } = await startTestApi(t);
  const crd = kc.makeApiClient(CustomObjectsApi);
  await core.createNamespace({ body: { metadata: { name: 'demo', labels: { 'istio.io/dataplane-mode': 'ambient' } } } });
  const lines: string[] = [];
  const errs: string[] = [];
  let sleeps = 0;
  const io: WaypointIo = {
    out: { write: (s) => void lines.push(s) },
    err: { write: (s) => void errs.push(s) },
    // Play the controller: the second poll finds the Gateway Programmed.
    sleep: async () => {
      if (++sleeps === 1) {
        await crd.patchNamespacedCustomObjectStatus({
          group: 'gateway.networking.k8s.io', version: 'v1', namespace: 'demo', plural: 'gateways', name: 'waypoint',
          body: { status: { addresses: [{ type: 'IPAddress', value: '10.96.0.20' }], conditions: [{ type: 'Programmed', status: 'True', reason: 'Programmed', message: 'ok', lastTransitionTime: '2025-01-01T00:00:00Z' }] } },
        }, mergePatch);
      }
    },
  };
  const run = (...argv: string[]) => runWaypoint(() => kc, parseCommandArgs(argv, waypointFlags), io);

  assert.equal(await run('apply', '-n', 'demo', '--for', 'service', '--enroll-namespace'), 0);
  assert.deepEqual(lines.splice(0), ['waypoint demo/waypoint applied\n', 'waypoint demo/waypoint is ready\n', 'namespace demo labeled with "istio.io/use-waypoint: waypoint"\n']);
  const applied = await crd.getNamespacedCustomObject({ group: 'gateway.networking.k8s.io', version: 'v1', namespace: 'demo', plural: 'gateways', name: 'waypoint' });
  assert.equal(applied.spec.gatewayClassName, 'istio-waypoint');
  assert.equal(applied.metadata.labels['istio.io/waypoint-for'], 'service');
  assert.equal((await core.readNamespace({ name: 'demo' })).metadata?.labels?.['istio.io/use-waypoint'], 'waypoint');

  // A second waypoint may not take the namespace over without --overwrite.
  await assert.rejects(run('apply', '-n', 'demo', '--name', 'other', '--enroll-namespace', '--no-wait'), /already uses waypoint waypoint.*--overwrite/);
  assert.equal(await run('apply', '-n', 'demo', '--name', 'other', '--no-wait'), 0);
  lines.splice(0);

  assert.equal(await run('list', '-n', 'demo'), 0);
  assert.equal(lines.splice(0).join(''), 'NAME       REVISION   TRAFFIC TYPE   PROGRAMMED\nother      default    service        Unknown\nwaypoint   default    service        True\n');

  assert.equal(await run('status', '-n', 'demo', '--name', 'waypoint'), 0);
  const text = lines.splice(0).join('');
  assert.match(text, /^waypoint demo\/waypoint\n {2}Address: +10\.96\.0\.20 \(port 15008\)/);
  assert.match(text, /Used by: +namespace demo/);
  await assert.rejects(run('status', '-n', 'demo', '--name', 'nope'), /waypoint demo\/nope not found/);

  assert.equal(await run('delete', '-n', 'demo', 'waypoint', 'nope'), 1);
  assert.deepEqual(lines.splice(0), ['waypoint demo/waypoint deleted\n', 'namespace demo: removed label istio.io/use-waypoint (it pointed at waypoint)\n']);
  assert.deepEqual(errs.splice(0), ['waypoint demo/nope not found\n']);
  assert.equal((await core.readNamespace({ name: 'demo' })).metadata?.labels?.['istio.io/use-waypoint'], undefined);

  assert.equal(await run('delete', '-n', 'demo', '--all'), 0);
  assert.deepEqual(lines.splice(0), ['waypoint demo/other deleted\n']);
  assert.equal(await run('list', '-A'), 0);
  assert.equal(lines.splice(0).join(''), 'No waypoints found.\n');
});

test('apply: a timeout names what the waypoint is waiting for', { timeout: 30_000 }, async (t) => {
  const { kc, core } = await startTestApi(t);
  await core.createNamespace({ body: { metadata: { name: 'demo' } } });
  const io: WaypointIo = { out: { write: () => {} }, err: { write: () => {} }, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };
  await assert.rejects(
    runWaypoint(() => kc, parseCommandArgs(['apply', '-n', 'demo', '--timeout', '300ms'], waypointFlags), io),
    /timed out after 300ms waiting for waypoint demo\/waypoint to be programmed; the controller has not written its status/,
  );
  await assert.rejects(runWaypoint(() => kc, parseCommandArgs(['apply', '-n', 'nope', '--no-wait'], waypointFlags), io), /namespace nope not found/);
});
