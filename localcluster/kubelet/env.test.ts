import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { fieldRefValue, resolveEnv, type EnvLookup } from './env.ts';

const pod: V1Pod = {
  metadata: { name: 'web-1', namespace: 'shop', uid: 'u-1', labels: { app: 'web' }, annotations: { 'a/b': 'c' } },
  spec: { nodeName: 'node-1', serviceAccountName: 'web-sa', containers: [] },
};

const lookup: EnvLookup = {
  async data(kind, ns, name) {
    const store: Record<string, Record<string, string>> = {
      'ConfigMap/shop/cfg': { LEVEL: 'debug', MODE: 'fast' },
      'Secret/shop/creds': { TOKEN: 's3cret' },
    };
    return store[`${kind}/${ns}/${name}`];
  },
};

test('fieldRefValue covers the downward API fields', () => {
  const cases: Array<[string, string | undefined]> = [
    ['metadata.name', 'web-1'],
    ['metadata.namespace', 'shop'],
    ['metadata.uid', 'u-1'],
    ["metadata.labels['app']", 'web'],
    ["metadata.annotations['a/b']", 'c'],
    ["metadata.labels['missing']", undefined],
    ['spec.nodeName', 'node-1'],
    ['spec.serviceAccountName', 'web-sa'],
    ['status.podIP', '10.244.1.5'],
    ['status.hostIP', '10.100.0.11'],
    ['spec.unknown', undefined],
  ];
  for (const [path, want] of cases) assert.equal(fieldRefValue(pod, path, '10.244.1.5', '10.100.0.11'), want, path);
});

test('resolveEnv layers kubelet, image, envFrom and env values', async () => {
  const env = await resolveEnv({
    name: 'app',
    envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'CFG_' }, { secretRef: { name: 'nope', optional: true } }],
    env: [
      { name: 'PORT', value: '9090' },
      { name: 'URL', value: 'http://$(POD_NAME):$(PORT)' },
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'URL2', value: 'http://$(POD_NAME):$(PORT)' },
      { name: 'LEVEL', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'LEVEL' } } },
      { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'creds', key: 'TOKEN' } } },
      { name: 'OPT', valueFrom: { secretKeyRef: { name: 'creds', key: 'NONE', optional: true } } },
      { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
    ],
  }, { pod, podIP: '10.244.1.5', hostIP: '10.100.0.11', imageEnv: { PORT: '8080', VERSION: 'v1' }, basePath: '/bin' }, lookup);
  assert.deepEqual(env, {
    PATH: '/bin', HOSTNAME: 'web-1', KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443', KUBERNETES_SERVICE_PORT_HTTPS: '443',
    VERSION: 'v1', PORT: '9090', CFG_LEVEL: 'debug', CFG_MODE: 'fast',
    URL: 'http://$(POD_NAME):9090', POD_NAME: 'web-1', URL2: 'http://web-1:9090',
    LEVEL: 'debug', TOKEN: 's3cret', IP: '10.244.1.5',
  });
});

test('resolveEnv rejects missing required references with a config error', async () => {
  const cases = [
    { name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'NOPE' } } },
    { name: 'X', valueFrom: { secretKeyRef: { name: 'absent', key: 'K' } } },
    { name: 'X', valueFrom: { fieldRef: { fieldPath: 'spec.bogus' } } },
  ];
  for (const e of cases) {
    await assert.rejects(resolveEnv({ name: 'c', env: [e] }, { pod, podIP: '', hostIP: '', imageEnv: {} }, lookup), { code: 'KUBELET_CREATE_CONTAINER_CONFIG' });
  }
});
