// Volume plan: supported volume types become emptyDir/hostPath/files; the service-account volume is added unless
// automount is off; rendering projects ConfigMap/Secret keys, tokens and downward API fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { containersWithSaMount, dataKey, planVolumes, renderFiles, SA_MOUNT_PATH, SA_VOLUME_NAME, type VolumePlan } from './volume-plan.ts';

const pod = (spec: Partial<NonNullable<V1Pod['spec']>>, meta: V1Pod['metadata'] = {}): V1Pod => ({
  metadata: { name: 'p', namespace: 'ns', uid: 'u-1', labels: { b: '2', a: '1' }, annotations: { note: 'say "hi"' }, ...meta },
  spec: { containers: [{ name: 'c' }], ...spec },
});

test('planVolumes: each supported type, and the automounted service-account volume', () => {
  const r = planVolumes(pod({
    volumes: [
      { name: 'tmp', emptyDir: {} },
      { name: 'run', hostPath: { path: '/var/run/ztunnel', type: 'DirectoryOrCreate' } },
      { name: 'cfg', configMap: { name: 'cm', items: [{ key: 'k', path: 'f' }], defaultMode: 0o600 } },
      { name: 'sec', secret: { secretName: 's', optional: true } },
      { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
      { name: 'istio-token', projected: { sources: [{ serviceAccountToken: { audience: 'istio-ca', expirationSeconds: 43200, path: 'istio-token' } }] } },
    ],
  }));
  assert.ok(r.ok);
  assert.deepEqual(r.volumes.map((v) => `${v.name}:${v.kind}`), ['tmp:emptyDir', 'run:hostPath', 'cfg:files', 'sec:files', 'info:files', 'istio-token:files', `${SA_VOLUME_NAME}:files`]);
  assert.deepEqual(r.volumes[1], { name: 'run', kind: 'hostPath', path: '/var/run/ztunnel', hostType: 'DirectoryOrCreate' });
  assert.deepEqual(r.volumes[2], { name: 'cfg', kind: 'files', defaultMode: 0o600, sources: [{ type: 'configMap', name: 'cm', items: [{ key: 'k', path: 'f' }], optional: false }] });
  assert.deepEqual((r.volumes[5] as Extract<VolumePlan, { kind: 'files' }>).sources, [{ type: 'token', path: 'istio-token', audience: 'istio-ca', expirationSeconds: 43200 }]);
  const sa = r.volumes[6] as Extract<VolumePlan, { kind: 'files' }>;
  assert.deepEqual(sa.sources.map((s) => s.type), ['token', 'configMap', 'downward']);
  assert.equal((sa.sources[0] as { audience?: string }).audience, undefined, 'the API server default audience');
});

test('planVolumes: automount off, or every container mounting the path itself, adds nothing', () => {
  const off = planVolumes(pod({ automountServiceAccountToken: false }));
  assert.deepEqual(off, { ok: true, volumes: [] });
  const own = planVolumes(pod({ volumes: [{ name: 'mine', emptyDir: {} }], containers: [{ name: 'c', volumeMounts: [{ name: 'mine', mountPath: SA_MOUNT_PATH + '/' }] }] }));
  assert.ok(own.ok);
  assert.deepEqual(own.volumes.map((v) => v.name), ['mine']);
});

test('planVolumes: unsupported types are refused with the supported list', () => {
  const cases: [V1Pod, RegExp][] = [
    [pod({ volumes: [{ name: 'x', nfs: { server: 's', path: '/' } }] }), /volume x: unsupported volume type nfs/],
    [pod({ volumes: [{ name: 'y', projected: { sources: [{ clusterTrustBundle: { path: 'a' } } as never] } }] }), /volume y: unsupported projected source clusterTrustBundle/],
  ];
  for (const [p, re] of cases) {
    const r = planVolumes(p);
    assert.equal(r.ok, false);
    assert.match((r as { message: string }).message, re);
  }
});

test('containersWithSaMount adds a read-only mount unless off or present', () => {
  const p = pod({});
  assert.deepEqual(containersWithSaMount(p, [{ name: 'c' }])[0]?.volumeMounts, [{ name: SA_VOLUME_NAME, mountPath: SA_MOUNT_PATH, readOnly: true }]);
  assert.equal(containersWithSaMount(pod({ automountServiceAccountToken: false }), [{ name: 'c' }])[0]?.volumeMounts, undefined);
});

test('renderFiles: keys, items, modes, tokens, downward fields; missing sources', () => {
  const v: Extract<VolumePlan, { kind: 'files' }> = {
    name: 'v', kind: 'files', defaultMode: 0o644, sources: [
      { type: 'token', path: 'token', expirationSeconds: 600 },
      { type: 'configMap', name: 'cm', optional: false },
      { type: 'secret', name: 's', items: [{ key: 'tls.key', path: 'certs/key.pem', mode: 0o600 }], optional: false },
      { type: 'secret', name: 'gone', optional: true },
      { type: 'downward', items: [{ path: 'labels', fieldPath: 'metadata.labels' }, { path: 'annotations', fieldPath: 'metadata.annotations' }, { path: 'name', fieldPath: 'metadata.name' }, { path: 'uid', fieldPath: 'metadata.uid' }] },
    ],
  };
  const data = new Map<string, Record<string, Buffer> | undefined>([
    [dataKey('configMap', 'cm'), { b: Buffer.from('B'), a: Buffer.from('A') }],
    [dataKey('secret', 's'), { 'tls.key': Buffer.from('KEY') }],
    [dataKey('secret', 'gone'), undefined],
  ]);
  const r = renderFiles(v, { pod: pod({}), data, tokens: new Map([['token', 'jwt']]) });
  assert.ok(r.ok);
  const got = Object.fromEntries([...r.files].map(([k, f]) => [k, `${f.content.toString()}|${f.mode.toString(8)}`]));
  assert.deepEqual(got, {
    token: 'jwt|644', a: 'A|644', b: 'B|644', 'certs/key.pem': 'KEY|600',
    labels: 'a="1"\nb="2"|644', annotations: 'note="say \\"hi\\""|644', name: 'p|644', uid: 'u-1|644',
  });

  const cases: [Partial<Extract<VolumePlan, { kind: 'files' }>>, Map<string, Record<string, Buffer> | undefined>, RegExp][] = [
    [{ sources: [{ type: 'configMap', name: 'nope', optional: false }] }, new Map(), /volume v: configmap ns\/nope not found/],
    [{ sources: [{ type: 'configMap', name: 'cm', items: [{ key: 'zz', path: 'z' }], optional: false }] }, data, /has no key zz/],
    [{ sources: [{ type: 'configMap', name: 'cm', items: [{ key: 'a', path: '../escape' }], optional: false }] }, data, /invalid path/],
    [{ sources: [{ type: 'token', path: 't', expirationSeconds: 600 }] }, data, /token t not yet issued/],
    [{ sources: [{ type: 'downward', items: [{ path: 'x', fieldPath: 'spec.weird' }] }] }, data, /unsupported downward API field spec.weird/],
  ];
  for (const [over, d, re] of cases) {
    const bad = renderFiles({ ...v, ...over } as Extract<VolumePlan, { kind: 'files' }>, { pod: pod({}), data: d, tokens: new Map() });
    assert.equal(bad.ok, false);
    assert.match((bad as { message: string }).message, re);
  }
});
