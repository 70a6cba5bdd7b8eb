import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { KubeClient, parseExecCredential } from './client.ts';
import { loadKubeTarget, type KubeTarget } from './kubeconfig.ts';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

function kubeconfig(cluster: Record<string, unknown>, user: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'c',
    contexts: [{ name: 'c', context: { cluster: 'k', user: 'u', namespace: 'ns1' } }],
    clusters: [{ name: 'k', cluster: { server: 'https://10.0.0.1:6443', ...cluster } }],
    users: [{ name: 'u', user }],
    ...extra,
  });
}

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('kubeconfig fields map to the target', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'pki'));
  writeFileSync(join(dir, 'pki', 'ca.pem'), 'CA-FILE');
  writeFileSync(join(dir, 'pki', 'c.pem'), 'CERT-FILE');
  writeFileSync(join(dir, 'pki', 'k.pem'), 'KEY-FILE');
  writeFileSync(join(dir, 'tok'), 'x');
  const cases: Array<{ name: string; cluster: Record<string, unknown>; user: Record<string, unknown>; want: Partial<KubeTarget> }> = [
    {
      name: 'data fields', cluster: { 'certificate-authority-data': b64('CA'), 'tls-server-name': 'kubernetes' },
      user: { 'client-certificate-data': b64('CERT'), 'client-key-data': b64('KEY') },
      want: { ca: Buffer.from('CA'), cert: Buffer.from('CERT'), key: Buffer.from('KEY'), tlsServerName: 'kubernetes' },
    },
    {
      name: 'file paths relative to the kubeconfig', cluster: { 'certificate-authority': 'pki/ca.pem' },
      user: { 'client-certificate': 'pki/c.pem', 'client-key': join(dir, 'pki', 'k.pem') },
      want: { ca: Buffer.from('CA-FILE'), cert: Buffer.from('CERT-FILE'), key: Buffer.from('KEY-FILE') },
    },
    { name: 'data wins over file', cluster: { 'certificate-authority': 'pki/ca.pem', 'certificate-authority-data': b64('CA') }, user: {}, want: { ca: Buffer.from('CA') } },
    { name: 'static token, insecure', cluster: { 'insecure-skip-tls-verify': true }, user: { token: 'abc' }, want: { token: 'abc', insecureSkipTlsVerify: true } },
    { name: 'relative tokenFile', cluster: {}, user: { tokenFile: 'tok' }, want: { tokenFile: join(dir, 'tok') } },
    {
      name: 'exec plugin', cluster: {},
      user: { exec: { command: './bin/cred', args: ['a', 'b'], env: [{ name: 'X', value: '1' }], apiVersion: 'client.authentication.k8s.io/v1beta1' } },
      want: { exec: { command: join(dir, 'bin/cred'), args: ['a', 'b'], env: [{ name: 'X', value: '1' }], apiVersion: 'client.authentication.k8s.io/v1beta1', cwd: dir } },
    },
    { name: 'exec on PATH stays bare', cluster: {}, user: { exec: { command: 'gke-gcloud-auth-plugin' } }, want: { exec: { command: 'gke-gcloud-auth-plugin', cwd: dir } } },
  ];
  for (const c of cases) {
    const path = join(dir, `${c.name.replace(/\W+/g, '-')}.yaml`);
    writeFileSync(path, kubeconfig(c.cluster, c.user));
    const got = await loadKubeTarget({ kubeconfig: path, env: {} });
    assert.deepEqual(got, { server: 'https://10.0.0.1:6443', namespace: 'ns1', ...c.want }, c.name);
  }
});

test('errors: unsupported auth and missing pieces have stable codes', async (t) => {
  const dir = tempDir(t);
  const cfg = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const cases: Array<{ name: string; text: string; code: string; match: RegExp }> = [
    { name: 'auth-provider', text: kubeconfig({}, { 'auth-provider': { name: 'gcp' } }), code: 'KUBE_CONFIG_UNSUPPORTED_AUTH', match: /auth-provider.*use an exec credential plugin/ },
    { name: 'basic', text: kubeconfig({}, { username: 'a', password: 'b' }), code: 'KUBE_CONFIG_UNSUPPORTED_AUTH', match: /basic authentication/ },
    { name: 'proxy', text: kubeconfig({ 'proxy-url': 'http://p:3128' }, {}), code: 'KUBE_CONFIG_UNSUPPORTED', match: /proxy-url/ },
    { name: 'no current context', text: kubeconfig({}, {}, { 'current-context': '' }), code: 'KUBE_CONFIG_INVALID', match: /no current-context/ },
    { name: 'missing context', text: kubeconfig({}, {}, { 'current-context': 'other' }), code: 'KUBE_CONFIG_INVALID', match: /context "other" not found/ },
    { name: 'missing cluster', text: kubeconfig({}, {}, { clusters: [] }), code: 'KUBE_CONFIG_INVALID', match: /cluster "k" not found/ },
    { name: 'missing user', text: kubeconfig({}, {}, { users: [] }), code: 'KUBE_CONFIG_INVALID', match: /user "u" not found/ },
    { name: 'missing server', text: kubeconfig({ server: '' }, {}), code: 'KUBE_CONFIG_INVALID', match: /has no server/ },
    { name: 'missing file', text: kubeconfig({ 'certificate-authority': 'nope.pem' }, {}), code: 'KUBE_CONFIG_INVALID', match: /nope\.pem/ },
    { name: 'not yaml', text: 'a: [', code: 'KUBE_CONFIG_INVALID', match: /not valid YAML/ },
  ];
  for (const c of cases) {
    await assert.rejects(loadKubeTarget({ kubeconfig: cfg(c.name, c.text), env: {} }), (err: any) => {
      assert.equal(err.code, c.code, c.name);
      assert.match(err.message, c.match, c.name);
      return true;
    });
  }
  await assert.rejects(loadKubeTarget({ kubeconfig: join(dir, 'absent'), env: {} }), { code: 'KUBE_CONFIG_NOT_FOUND' });
  await assert.rejects(loadKubeTarget({ env: { HOME: dir }, inClusterDir: join(dir, 'none') }), { code: 'KUBE_CONFIG_NOT_FOUND' });
});

test('resolution order: explicit, $KUBECONFIG (first existing), in-cluster, ~/.kube/config', async (t) => {
  const dir = tempDir(t);
  const write = (p: string, server: string): string => {
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, kubeconfig({ server }, {}));
    return p;
  };
  const explicit = write(join(dir, 'explicit'), 'https://explicit:1');
  const fromEnv = write(join(dir, 'env2'), 'https://env:1');
  write(join(dir, 'home', '.kube', 'config'), 'https://home:1');
  const sa = join(dir, 'sa');
  mkdirSync(sa);
  writeFileSync(join(sa, 'token'), 'sa-token\n');
  writeFileSync(join(sa, 'ca.crt'), 'SA-CA');
  writeFileSync(join(sa, 'namespace'), 'istio-system');
  const inCluster = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
  const home = join(dir, 'home');

  assert.equal((await loadKubeTarget({ kubeconfig: explicit, env: { KUBECONFIG: fromEnv }, inClusterDir: sa })).server, 'https://explicit:1');
  assert.equal((await loadKubeTarget({ env: { KUBECONFIG: `${join(dir, 'missing')}:${fromEnv}`, ...inCluster }, inClusterDir: sa })).server, 'https://env:1');
  assert.deepEqual(await loadKubeTarget({ env: { KUBECONFIG: join(dir, 'missing'), HOME: home, ...inCluster }, inClusterDir: sa }), {
    server: 'https://10.96.0.1:443', tokenFile: join(sa, 'token'), ca: Buffer.from('SA-CA'), namespace: 'istio-system',
  });
  assert.equal((await loadKubeTarget({ env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '6443' }, inClusterDir: sa })).server, 'https://[fd00::1]:6443');
  // In-cluster env without a mounted token (automount disabled) falls through to the home kubeconfig.
  assert.equal((await loadKubeTarget({ env: { HOME: home, ...inCluster }, inClusterDir: join(dir, 'none') })).server, 'https://home:1');
  assert.equal((await loadKubeTarget({ env: { HOME: home }, inClusterDir: sa })).server, 'https://home:1');
});

test('$KUBECONFIG with several files: merged as kubectl merges them, paths relative to their own file', async (t) => {
  const dir = tempDir(t);
  for (const d of ['a', 'b']) mkdirSync(join(dir, d));
  writeFileSync(join(dir, 'a', 'ca.crt'), 'CA-A');
  writeFileSync(join(dir, 'b', 'ca.crt'), 'CA-B');
  writeFileSync(join(dir, 'b', 'c.crt'), 'CERT-B');
  writeFileSync(join(dir, 'b', 'c.key'), 'KEY-B');
  // a sets the current context (c2), which only b defines; b's own current-context and its second c1 are ignored.
  writeFileSync(join(dir, 'a', 'config'), JSON.stringify({
    'current-context': 'c2',
    contexts: [{ name: 'c1', context: { cluster: 'k1', user: 'u1' } }],
    clusters: [{ name: 'k1', cluster: { server: 'https://a:1', 'certificate-authority': 'ca.crt' } }],
    users: [{ name: 'u1', user: { token: 'ta' } }],
  }));
  writeFileSync(join(dir, 'b', 'config'), JSON.stringify({
    'current-context': 'c1',
    contexts: [{ name: 'c2', context: { cluster: 'k2', user: 'u2', namespace: 'nsb' } }, { name: 'c1', context: { cluster: 'k2', user: 'u2' } }],
    clusters: [{ name: 'k2', cluster: { server: 'https://b:1', 'certificate-authority': 'ca.crt' } }],
    users: [{ name: 'u2', user: { 'client-certificate': 'c.crt', 'client-key': 'c.key' } }],
  }));
  const env = { KUBECONFIG: `${join(dir, 'a', 'config')}:${join(dir, 'missing')}:${join(dir, 'b', 'config')}` };
  const target = await loadKubeTarget({ env, inClusterDir: join(dir, 'none') });
  assert.deepEqual(target, { server: 'https://b:1', ca: Buffer.from('CA-B'), cert: Buffer.from('CERT-B'), key: Buffer.from('KEY-B'), namespace: 'nsb' });
  // The first file's context, when it is current, keeps its own relative paths.
  writeFileSync(join(dir, 'a', 'config'), readFileSync(join(dir, 'a', 'config'), 'utf8').replace('"current-context":"c2"', '"current-context":"c1"'));
  const first = await loadKubeTarget({ env, inClusterDir: join(dir, 'none') });
  assert.deepEqual([first.server, first.ca?.toString(), first.token], ['https://a:1', 'CA-A', 'ta']);
});

test('exec credential plugin: the client runs it and sends its token', async (t) => {
  const dir = tempDir(t);
  const script = join(dir, 'cred.sh');
  // Prints an ExecCredential with the token built from its arg, env and KUBERNETES_EXEC_INFO's apiVersion.
  writeFileSync(script, [
    '#!/bin/sh',
    'echo run >> "$(dirname "$0")/runs"',
    'api=$(echo "$KUBERNETES_EXEC_INFO" | sed \'s/.*"apiVersion":"\\([^"]*\\)".*/\\1/\')',
    'printf \'{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"%s-%s","expirationTimestamp":"2999-01-01T00:00:00Z"}}\' "$api" "$1" "$SUFFIX"',
  ].join('\n'));
  chmodSync(script, 0o755);
  // A plain http server that records the Authorization header of each request.
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers.authorization ?? '');
    res.setHeader('Content-Type', 'application/json');
    res.end('{"kind":"Namespace","metadata":{"name":"a"}}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const path = join(dir, 'config');
  writeFileSync(path, kubeconfig({ server: `http://127.0.0.1:${port}` }, { exec: { command: './cred.sh', args: ['tok'], env: [{ name: 'SUFFIX', value: 'x' }] } }));
  const client = await KubeClient.load({ kubeconfig: path });
  t.after(() => client.close());
  assert.deepEqual(await client.get('/api/v1/namespaces/a'), { kind: 'Namespace', metadata: { name: 'a' } });
  await Promise.all([client.get('/api/v1/namespaces/a'), client.get('/api/v1/namespaces/a')]);
  assert.deepEqual(seen, ['Bearer tok-x', 'Bearer tok-x', 'Bearer tok-x']);
  assert.equal(readFileSync(join(dir, 'runs'), 'utf8'), 'run\n', 'cached until its expiry: one run');
});

test('parseExecCredential', () => {
  assert.deepEqual(parseExecCredential('{"kind":"ExecCredential","status":{"token":"t"}}'), { token: 't', expiresAt: Infinity });
  const c = parseExecCredential('{"kind":"ExecCredential","status":{"clientCertificateData":"C","clientKeyData":"K","expirationTimestamp":"2030-01-01T00:00:00Z"}}');
  assert.deepEqual([c.cert?.toString(), c.key?.toString(), c.expiresAt], ['C', 'K', Date.parse('2030-01-01T00:00:00Z')]);
  assert.throws(() => parseExecCredential('nope'), /no ExecCredential JSON/);
  assert.throws(() => parseExecCredential('{"kind":"ExecCredential","status":{}}'), /neither a token nor a client certificate/);
});
