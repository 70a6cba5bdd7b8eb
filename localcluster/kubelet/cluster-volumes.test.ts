// End to end on a one-node local cluster (root): projected tokens bound to the pod, ConfigMap volumes that follow
// updates, the automounted service-account token with which client-node's loadFromCluster() lists pods (from a
// pod and from a hostNetwork pod), and nothing the kubelet created on the host left after `meshctl down`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { requirePrivileges } from '../../test/support/privileged.ts';
import { eventually } from '../../test/support/eventually.ts';
import { Meshctl, netnsOf } from '../../test/support/meshctl.ts';
import { repoRoot } from '../paths.ts';
import { mountPointsEverywhere, readRecord } from '../network/record.ts';

const node = join(repoRoot, 'node_modules/.bin/node');
const listPods = [
  "import * as k8s from '@kubernetes/client-node';",
  'const kc = new k8s.KubeConfig(); kc.loadFromCluster();',
  "const pods = await kc.makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace: 'zth6' });",
  "console.log('SERVER=' + kc.getCurrentCluster().server);",
  "console.log('PODS=' + pods.items.map((p) => p.metadata.name).sort().join(','));",
].join('\n');

const manifests = (greeting: string): string => `
apiVersion: v1
kind: Namespace
metadata: {name: zth6}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: mesh-cfg, namespace: zth6}
data: {greeting: ${greeting}}
`;

const pods = `
# The listers' service account may list pods: RBAC is enforced for service accounts, as on any cluster.
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-lister, namespace: zth6}
rules: [{apiGroups: [''], resources: [pods], verbs: [list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: default-lists-pods, namespace: zth6}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-lister}
subjects: [{kind: ServiceAccount, name: default, namespace: zth6}]
---
apiVersion: v1
kind: Pod
metadata: {name: reader, namespace: zth6, labels: {app: reader}}
spec:
  nodeName: node-1
  containers:
  - name: c
    image: busybox
    command: [sh, -c, 'while true; do echo "CFG=$(cat /etc/mesh/greeting) TOKEN=$(cat /var/run/secrets/tokens/istio-token) SA=$(cat /var/run/secrets/kubernetes.io/serviceaccount/token) NS=$(cat /var/run/secrets/kubernetes.io/serviceaccount/namespace) CA=$(head -c 27 /var/run/secrets/kubernetes.io/serviceaccount/ca.crt) SVC=$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT"; sleep 1; done']
    volumeMounts:
    - {name: istio-token, mountPath: /var/run/secrets/tokens}
    - {name: cfg, mountPath: /etc/mesh, readOnly: true}
  volumes:
  - name: istio-token
    projected:
      sources:
      - serviceAccountToken: {audience: istio-ca, expirationSeconds: 43200, path: istio-token}
  - name: cfg
    configMap: {name: mesh-cfg}
---
apiVersion: v1
kind: Pod
metadata: {name: lister, namespace: zth6}
spec:
  nodeName: node-1
  restartPolicy: Never
  containers:
  - name: c
    image: node
    workingDir: ${repoRoot}
    command: [${node}, --input-type=module, -e, ${JSON.stringify(listPods)}]
---
apiVersion: v1
kind: Pod
metadata: {name: host-lister, namespace: zth6}
spec:
  nodeName: node-1
  hostNetwork: true
  restartPolicy: Never
  containers:
  - name: c
    image: node
    workingDir: ${repoRoot}
    command: [sh, -c, 'echo "CFG=$(cat /etc/mesh/greeting)"; exec "$0" --input-type=module -e "$1"', ${node}, ${JSON.stringify(listPods)}]
    volumeMounts:
    - {name: cfg, mountPath: /etc/mesh}
  volumes:
  - name: cfg
    configMap: {name: mesh-cfg}
`;

const lastLine = (logs: string, prefix: string): string | undefined => logs.trim().split('\n').reverse().find((l) => l.startsWith(prefix));
const field = (line: string, key: string): string | undefined => new RegExp(`(?:^| )${key}=(\\S*)`).exec(line)?.[1];

test('kubelet volumes on a local cluster: tokens, configMaps, automount, loadFromCluster, hostNetwork, down', { timeout: 400_000 }, async (t) => {
  if (!requirePrivileges(t)) return;
  const home = mkdtempSync(join(tmpdir(), 'zth6-meshctl-'));
  mkdirSync(join(home, 'cluster'), { recursive: true });
  const cid = `zth6${randomBytes(2).toString('hex')}`;
  writeFileSync(join(home, 'cluster/config.json'), JSON.stringify({ clusterId: cid, nodes: 1 }));
  const m = new Meshctl(home);
  let downDone = false;
  t.after(async () => {
    if (!downDone) await m.run(['down'], { timeoutMs: 60_000 });
    rmSync(home, { recursive: true, force: true });
  });

  await m.ok(['up', '--nodes', '1'], { timeoutMs: 240_000 });
  assert.equal(m.clusterId, cid);
  const kubectl = (args: string[], input?: string): string => {
    const r = m.kubectl(args, input);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  kubectl(['apply', '-f', '-'], manifests('hello'));
  kubectl(['apply', '-f', '-'], pods);

  await t.test('projected istio-ca token names the pod and passes TokenReview; SA token, namespace, CA, env', async () => {
    const line = await eventually(() => lastLine(kubectl(['logs', '-n', 'zth6', 'reader', '--tail', '5']), 'CFG=hello'), 60_000, 250);
    const token = field(line, 'TOKEN')!;
    assert.ok(token.split('.').length === 3, line);
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    assert.deepEqual(claims.aud, ['istio-ca']);
    const pod = JSON.parse(kubectl(['get', 'pod', '-n', 'zth6', 'reader', '-o', 'json']));
    assert.deepEqual(claims['kubernetes.io'].pod, { name: 'reader', uid: pod.metadata.uid });
    const review = (tok: string, audiences: string[]): any => JSON.parse(kubectl(['create', '--validate=false', '-o', 'json', '-f', '-'],
      JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: tok, audiences } })));
    const r = review(token, ['istio-ca']);
    assert.equal(r.status.authenticated, true, JSON.stringify(r.status));
    assert.equal(r.status.user.username, 'system:serviceaccount:zth6:default');
    assert.deepEqual(r.status.user.extra['authentication.kubernetes.io/pod-name'], ['reader']);
    assert.equal(review(token, ['other']).status.authenticated ?? false, false, 'wrong audience refused');
    const sa = review(field(line, 'SA')!, []);
    assert.equal(sa.status.authenticated, true, 'the automounted token has the API server audience');
    assert.equal(field(line, 'NS'), 'zth6');
    assert.equal(field(line, 'CA'), '-----BEGIN');
    assert.equal(field(line, 'SVC'), '10.96.0.1:443');
    const svc = JSON.parse(kubectl(['get', 'svc', '-n', 'default', 'kubernetes', '-o', 'json']));
    assert.equal(svc.spec.clusterIP, '10.96.0.1');
  });

  await t.test('a ConfigMap change reaches the mounted file within seconds', async () => {
    const started = Date.now();
    kubectl(['apply', '-f', '-'], manifests('world'));
    await eventually(() => lastLine(kubectl(['logs', '-n', 'zth6', 'reader', '--tail', '3']), 'CFG=world'), 20_000, 250);
    assert.ok(Date.now() - started < 15_000);
  });

  await t.test('loadFromCluster() in a pod and in a hostNetwork pod lists pods', async () => {
    for (const name of ['lister', 'host-lister']) {
      const logs = await eventually(() => {
        const out = kubectl(['logs', '-n', 'zth6', name]);
        return out.includes('PODS=') ? out : undefined;
      }, 60_000, 250);
      assert.match(logs, /SERVER=https:\/\/10\.96\.0\.1:443/, name);
      assert.match(logs, /PODS=.*\breader\b/, name);
      if (name === 'host-lister') assert.match(logs, /CFG=(hello|world)/, 'the hostNetwork pod gets its mounts');
    }
  });

  await t.test('down removes the namespaces and every host path the kubelet created', async () => {
    const created = readRecord(join(home, 'cluster')).filter((e) => e.kind === 'host-path').map((e) => (e as { path: string }).path);
    await m.ok(['down'], { timeoutMs: 60_000 });
    downDone = true;
    assert.deepEqual(netnsOf(cid), []);
    const mounted = mountPointsEverywhere(); // another cluster's container may be using a shared mountpoint
    for (const p of created) assert.ok(!existsSync(p) || mounted.has(p), `${p} left behind`);
  });
});
