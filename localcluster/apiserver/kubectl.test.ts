// In-process server, real kubectl 1.32 spawned against it: get/apply/label/describe/delete/get -w.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { eventually } from '../../test/support/eventually.ts';
import type { ApiServer } from './index.ts';
import { startTestServer, tempStateDir } from './testing.ts';

const run = promisify(execFile);
const KUBECTL = '/usr/bin/kubectl';

describe('kubectl against the api server', () => {
  const state = tempStateDir();
  let server: ApiServer;
  let env: NodeJS.ProcessEnv;
  const kubectl = async (...args: string[]): Promise<string> => (await run(KUBECTL, args, { env, timeout: 30_000 })).stdout;
  const file = (name: string, body: string): string => {
    const p = join(state.dir, name);
    writeFileSync(p, body);
    return p;
  };

  before(async () => {
    server = await startTestServer(state.dir);
    mkdirSync(join(state.dir, 'home'));
    env = { PATH: process.env.PATH, KUBECONFIG: server.kubeconfigPath, HOME: join(state.dir, 'home') };
  });
  after(async () => {
    await server.close();
    state.cleanup();
  });

  it('get prints server-side tables', async () => {
    const out = await kubectl('get', 'svc', '-A');
    assert.match(out, /^NAMESPACE\s+NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE/);
    assert.match(out, /default\s+kubernetes\s+ClusterIP\s+10\.96\.0\.1\s+<none>\s+443\/TCP/);
    assert.match(out, /kube-system\s+kube-dns\s+ClusterIP\s+10\.96\.0\.10\s+<none>\s+53\/UDP,53\/TCP/);
    assert.match(await kubectl('get', 'ns'), /kube-node-lease\s+Active/);
  });

  it('apply creates, re-apply configures, server-side apply and server dry-run work', async () => {
    const pod = (env: string, name = 'web'): string => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, labels: {app: web}}
spec:
  containers:
  - {name: c, image: busybox:1.36, env: [{name: A, value: "${env}"}]}
`;
    assert.match(await kubectl('apply', '-f', file('p1.yaml', pod('1'))), /pod\/web created/);
    assert.match(await kubectl('apply', '-f', file('p2.yaml', pod('2'))), /pod\/web configured/);
    const json = JSON.parse(await kubectl('get', 'pod', 'web', '-o', 'json'));
    assert.equal(json.spec.containers[0].env[0].value, '2');
    assert.equal(json.spec.restartPolicy, 'Always');
    assert.equal(json.status.phase, 'Pending');
    const yaml = parseYaml(await kubectl('get', 'pod', 'web', '-o', 'yaml'));
    assert.equal(yaml.metadata.uid, json.metadata.uid);

    assert.match(await kubectl('apply', '--server-side', '-f', file('p3.yaml', pod('3'))), /pod\/web serverside-applied/);
    assert.equal(JSON.parse(await kubectl('get', 'pod', 'web', '-o', 'json')).spec.containers[0].env[0].value, '3');

    assert.match(await kubectl('apply', '--dry-run=server', '-f', file('p4.yaml', pod('4', 'dry'))), /pod\/dry created \(server dry run\)/);
    await assert.rejects(kubectl('get', 'pod', 'dry'), /NotFound|not found/);

    const table = await kubectl('get', 'pods');
    assert.match(table, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE/);
    assert.match(table, /web\s+0\/1\s+Pending\s+0/);
  });

  it('label, describe and delete', async () => {
    await kubectl('apply', '-f', file('cm.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: "1"}\n'));
    assert.match(await kubectl('label', 'configmap', 'cfg', 'tier=fe'), /configmap\/cfg labeled/);
    assert.match(await kubectl('get', 'cm', '-l', 'tier=fe'), /cfg\s+1\s+/);
    await kubectl('apply', '-f', file('dp.yaml', 'apiVersion: v1\nkind: Pod\nmetadata: {name: desc}\nspec: {containers: [{name: c, image: nginx}]}\n'));
    const uid = JSON.parse(await kubectl('get', 'pod', 'desc', '-o', 'json')).metadata.uid;
    await kubectl('create', '-f', file('ev.yaml', `apiVersion: v1
kind: Event
metadata: {name: desc.1}
involvedObject: {kind: Pod, name: desc, namespace: default, uid: ${uid}}
reason: Scheduled
message: assigned to node-1
type: Normal
`));
    const described = await kubectl('describe', 'pod', 'desc');
    assert.match(described, /Name:\s+desc/);
    assert.match(described, /Service Account:\s+default/);
    assert.match(described, /Scheduled\s+.*assigned to node-1/);
    assert.match(await kubectl('delete', 'pod', 'desc'), /pod "desc" deleted/);
    await assert.rejects(kubectl('get', 'pod', 'desc'), /not found/);
  });

  it('create <kind> (protobuf bodies) for configmap, secret, namespace, serviceaccount and token', async () => {
    assert.match(await kubectl('create', 'configmap', 'lit', '--from-literal=a=1'), /configmap\/lit created/);
    assert.equal(JSON.parse(await kubectl('get', 'cm', 'lit', '-o', 'json')).data.a, '1');
    assert.match(await kubectl('create', 'secret', 'generic', 'sec', '--from-literal=k=v'), /secret\/sec created/);
    assert.equal(JSON.parse(await kubectl('get', 'secret', 'sec', '-o', 'json')).data.k, Buffer.from('v').toString('base64'));
    assert.match(await kubectl('create', 'namespace', 'made'), /namespace\/made created/);
    assert.match(await kubectl('create', 'serviceaccount', 'bot', '-n', 'made'), /serviceaccount\/bot created/);
    const token = (await kubectl('create', 'token', 'bot', '-n', 'made', '--audience=mesh')).trim();
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    assert.equal(claims.sub, 'system:serviceaccount:made:bot');
    assert.deepEqual(claims.aud, ['mesh']);
  });

  it('logs come from the pod log provider; auth whoami names the admin', async () => {
    server.setPodLogProvider((ns, pod, opts) => Readable.from([`${ns}/${pod}/${opts.container ?? ''} tail=${opts.tailLines ?? 'all'}\n`]));
    await kubectl('apply', '-f', file('lp.yaml', 'apiVersion: v1\nkind: Pod\nmetadata: {name: logs}\nspec: {containers: [{name: app, image: x}]}\n'));
    assert.equal(await kubectl('logs', 'logs', '--tail=5'), 'default/logs/app tail=5\n');
    assert.match(await kubectl('auth', 'whoami'), /Username\s+admin/);
  });

  it('scale changes a Deployment through the scale subresource', async () => {
    await kubectl('apply', '-f', file('dep.yaml', `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: nginx}]}
`));
    assert.match(await kubectl('scale', 'deployment', 'web', '--replicas=3'), /deployment.apps\/web scaled/);
    const d = JSON.parse(await kubectl('get', 'deploy', 'web', '-o', 'json'));
    assert.equal(d.spec.replicas, 3);
    assert.equal(d.metadata.generation, 2);
    assert.match(await kubectl('get', 'deploy', 'web'), /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\nweb\s+0\/3\s+0\s+0\s+/);
  });

  it('apply -f then delete -f of a manifest holding its namespace, a Service and mesh kinds', async () => {
    const manifest = file('multi.yaml', `apiVersion: v1
kind: Namespace
metadata: {name: demo}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: demo}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: demo}
spec: {hosts: [web]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: demo}
spec: {parentRefs: [{name: gw}]}
`);
    const applied = await kubectl('apply', '-f', manifest);
    assert.match(applied, /namespace\/demo created/);
    assert.match(applied, /virtualservice.networking.istio.io\/web created/);
    assert.match(applied, /httproute.gateway.networking.k8s.io\/web created/);
    assert.match(await kubectl('get', 'vs,svc', '-n', 'demo'), /virtualservice.networking.istio.io\/web[\s\S]*service\/web\s+ClusterIP\s+10\.96\./);
    const deleted = await kubectl('delete', '-f', manifest);
    assert.match(deleted, /namespace "demo" deleted/);
    assert.match(deleted, /service "web" deleted/);
    assert.match(deleted, /httproute.gateway.networking.k8s.io "web" deleted/);
    await assert.rejects(kubectl('get', 'ns', 'demo'), /not found/);
  });

  it('get -w prints a row for an object created while watching', async () => {
    const child = spawn(KUBECTL, ['get', 'configmaps', '-w'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    try {
      await eventually(() => /NAME\s+DATA\s+AGE/.test(out));
      await kubectl('apply', '-f', file('w.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: watched}\ndata: {x: "1"}\n'));
      await eventually(() => /watched\s+1\s+/.test(out));
    } finally {
      child.kill();
    }
  });
});
