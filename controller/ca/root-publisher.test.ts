// The root certificate publisher: the pure decision (table), and against the in-process API server: every
// namespace gets istio-ca-root-cert, deleted/edited copies come back, only the leader writes, stop() stops.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, KubeConfig, type V1ConfigMap, type V1Namespace } from '@kubernetes/client-node';
import { KubeClient } from '../../shared/kube/client.ts';
import { startApiServer } from '../../localcluster/apiserver/index.ts';
import { silent } from '../../shared/log.ts';
import { eventually } from '../../test/support/eventually.ts';
import { rootCertAction, startRootCertPublisher, type RootCertAction } from './root-publisher.ts';
import { ROOT_CONFIGMAP, ROOT_CONFIGMAP_KEY } from './root.ts';

const ROOT = '-----BEGIN CERTIFICATE-----\nroot\n-----END CERTIFICATE-----\n';

describe('rootCertAction', () => {
  const ns = (name: string, extra: Partial<V1Namespace> = {}): V1Namespace => ({ metadata: { name }, ...extra });
  const cm = (pem: string): V1ConfigMap => ({ metadata: { name: ROOT_CONFIGMAP }, data: { [ROOT_CONFIGMAP_KEY]: pem } });
  const cases: [string, V1Namespace | undefined, V1ConfigMap | undefined, RootCertAction][] = [
    ['new namespace', ns('shop'), undefined, 'create'],
    ['up to date', ns('shop'), cm(ROOT), 'none'],
    ['edited by a user', ns('shop'), cm('other'), 'update'],
    ['key removed', ns('shop'), { metadata: { name: ROOT_CONFIGMAP }, data: {} }, 'update'],
    ['kube-system is left alone', ns('kube-system'), undefined, 'none'],
    ['kube-node-lease is left alone', ns('kube-node-lease'), undefined, 'none'],
    ['terminating namespace', ns('shop', { status: { phase: 'Terminating' } }), undefined, 'none'],
    ['namespace being deleted', { metadata: { name: 'shop', deletionTimestamp: new Date() } }, undefined, 'none'],
    ['namespace gone', undefined, undefined, 'none'],
  ];
  for (const [name, n, c, want] of cases) it(name, () => assert.equal(rootCertAction(n, c, ROOT), want));
});

describe('startRootCertPublisher', () => {
  const dir = mkdtempSync(join(tmpdir(), 'root-publisher-'));
  let api: Awaited<ReturnType<typeof startApiServer>>;
  let kc: KubeConfig;
  let kube: KubeClient;
  let core: CoreV1Api;
  before(async () => {
    api = await startApiServer({ stateDir: dir, port: 0, logger: silent });
    kc = new KubeConfig();
    kc.loadFromFile(api.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
    kube = await KubeClient.load({ kubeconfig: api.kubeconfigPath });
  });
  after(async () => {
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const rootIn = async (namespace: string): Promise<string | undefined> => {
    try {
      return (await core.readNamespacedConfigMap({ name: ROOT_CONFIGMAP, namespace })).data?.[ROOT_CONFIGMAP_KEY];
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  };

  it('publishes to every namespace, restores deleted and edited copies, and stops when asked', { timeout: 30_000 }, async () => {
    await core.createNamespace({ body: { metadata: { name: 'before' } } });
    const pub = startRootCertPublisher({ kube, rootCertPem: ROOT, isLeader: () => true, log: silent, leaderPollMs: 50 });
    try {
      await eventually(async () => (await rootIn('before')) === ROOT && (await rootIn('default')) === ROOT, 10_000);
      assert.equal(await rootIn('kube-system'), undefined, 'system namespaces are skipped, as istiod does');
      const cm = await core.readNamespacedConfigMap({ name: ROOT_CONFIGMAP, namespace: 'before' });
      assert.equal(cm.metadata?.labels?.['istio.io/config'], 'true');

      await core.createNamespace({ body: { metadata: { name: 'later' } } });
      await eventually(async () => (await rootIn('later')) === ROOT, 10_000);

      await core.deleteNamespacedConfigMap({ name: ROOT_CONFIGMAP, namespace: 'later' });
      await eventually(async () => (await rootIn('later')) === ROOT, 10_000);

      await core.replaceNamespacedConfigMap({ name: ROOT_CONFIGMAP, namespace: 'before', body: { metadata: { name: ROOT_CONFIGMAP, namespace: 'before' }, data: { [ROOT_CONFIGMAP_KEY]: 'tampered' } } });
      await eventually(async () => (await rootIn('before')) === ROOT, 10_000);
    } finally {
      await pub.stop();
    }
    await core.deleteNamespacedConfigMap({ name: ROOT_CONFIGMAP, namespace: 'later' });
    await sleep(300);
    assert.equal(await rootIn('later'), undefined, 'a stopped publisher writes nothing');
  });

  it('writes only while leader, and catches up on every namespace when it becomes leader', { timeout: 30_000 }, async () => {
    let leader = false;
    const pub = startRootCertPublisher({ kube, rootCertPem: ROOT, isLeader: () => leader, log: silent, leaderPollMs: 50 });
    try {
      await core.createNamespace({ body: { metadata: { name: 'follower' } } });
      await core.deleteNamespacedConfigMap({ name: ROOT_CONFIGMAP, namespace: 'default' });
      await sleep(400);
      assert.equal(await rootIn('follower'), undefined);
      assert.equal(await rootIn('default'), undefined);
      leader = true;
      await eventually(async () => (await rootIn('follower')) === ROOT && (await rootIn('default')) === ROOT, 10_000);
    } finally {
      await pub.stop();
    }
  });
});
