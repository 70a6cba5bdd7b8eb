// The in-process controller manager: shared informer caches, one reconcile loop per controller
// (scheduler, deployment, daemonset, endpointslice, serviceaccount), each calling its pure plan
// and applying the actions through the API. Writes are idempotent; conflicts re-read and retry.
import { AppsV1Api, CoreV1Api, DiscoveryV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1DaemonSet, type V1Deployment, type V1EndpointSlice, type V1Namespace, type V1Node, type V1Pod, type V1Service, type V1ServiceAccount } from '@kubernetes/client-node';
import { logger, type Logger } from '../../shared/log.ts';
import { errorMessage } from '../../shared/errors.ts';
import { makeCache } from './informers.ts';
import { reconcileLoop, type Loop } from './loop.ts';
import { Expectations } from './expectations.ts';
import { planScheduling } from './scheduler.ts';
import { planDeployment, type WorkloadPlan } from './deployment.ts';
import { planDaemonSet } from './daemonset.ts';
import { defaultControlPlane, planEndpointSlices, type ControlPlane } from './endpointslice.ts';
import { planServiceAccounts } from './serviceaccount.ts';
import { controllerRef, isTerminating, randomSuffix } from './util.ts';

export interface ControllersOptions {
  kubeconfig: KubeConfig;
  logger?: Logger;
  controlPlane?: ControlPlane;
  /** Full resync period of every loop (default 10 s). */
  resyncMs?: number;
}

export interface Controllers { stop(): Promise<void> }

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const codeOf = (err: unknown): number | undefined => (err as { code?: number }).code;
const ignore = (...codes: number[]) => (err: unknown): void => { if (!codes.includes(codeOf(err) ?? 0)) throw err; };
/** How long a bind is assumed to hold before the cache shows it (keeps "fewest pods" honest). */
const assumeMs = 10_000;

export async function startControllers(opts: ControllersOptions): Promise<Controllers> {
  const log = opts.logger ?? logger('controllers');
  const kc = opts.kubeconfig;
  const cp = opts.controlPlane ?? defaultControlPlane;
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  const loops: Loop[] = [];
  const triggers = { pods: [] as Loop[], nodes: [] as Loop[], deployments: [] as Loop[], daemonsets: [] as Loop[], services: [] as Loop[], slices: [] as Loop[], namespaces: [] as Loop[], accounts: [] as Loop[] };
  const fire = (k: keyof typeof triggers) => (): void => { for (const l of triggers[k]) l.trigger(); };

  const pods = makeCache<V1Pod>(kc, '/api/v1/pods', () => core.listPodForAllNamespaces(), fire('pods'), log);
  const nodes = makeCache<V1Node>(kc, '/api/v1/nodes', () => core.listNode(), fire('nodes'), log);
  const deployments = makeCache<V1Deployment>(kc, '/apis/apps/v1/deployments', () => apps.listDeploymentForAllNamespaces(), fire('deployments'), log);
  const daemonsets = makeCache<V1DaemonSet>(kc, '/apis/apps/v1/daemonsets', () => apps.listDaemonSetForAllNamespaces(), fire('daemonsets'), log);
  const services = makeCache<V1Service>(kc, '/api/v1/services', () => core.listServiceForAllNamespaces(), fire('services'), log);
  const slices = makeCache<V1EndpointSlice>(kc, '/apis/discovery.k8s.io/v1/endpointslices', () => discovery.listEndpointSliceForAllNamespaces(), fire('slices'), log);
  const namespaces = makeCache<V1Namespace>(kc, '/api/v1/namespaces', () => core.listNamespace(), fire('namespaces'), log);
  const accounts = makeCache<V1ServiceAccount>(kc, '/api/v1/serviceaccounts', () => core.listServiceAccountForAllNamespaces(), fire('accounts'), log);
  const caches = [pods, nodes, deployments, daemonsets, services, slices, namespaces, accounts];

  const add = (name: string, on: Array<keyof typeof triggers>, fn: () => Promise<void>): void => {
    const l = reconcileLoop(name, fn, log);
    loops.push(l);
    for (const k of on) triggers[k].push(l);
  };

  // --- scheduler
  /** pod uid → node it was bound to, until the cache shows the binding. */
  const assumed = new Map<string, { node: string; until: number }>();
  add('scheduler', ['pods', 'nodes'], async () => {
    const now = Date.now();
    const view = pods.list().map((p) => {
      const a = assumed.get(p.metadata?.uid ?? '');
      if (!a || p.spec?.nodeName || a.until < now) return p;
      return { ...p, spec: { ...p.spec, containers: p.spec?.containers ?? [], nodeName: a.node } };
    });
    for (const [uid, a] of assumed) if (a.until < now) assumed.delete(uid);
    for (const action of planScheduling(view, nodes.list())) {
      const uid = pods.list().find((p) => p.metadata?.namespace === action.namespace && p.metadata?.name === action.pod)?.metadata?.uid ?? '';
      if (action.kind === 'bind') {
        assumed.set(uid, { node: action.node, until: now + assumeMs });
        await core.createNamespacedPodBinding({
          name: action.pod, namespace: action.namespace,
          body: { apiVersion: 'v1', kind: 'Binding', metadata: { name: action.pod, namespace: action.namespace }, target: { apiVersion: 'v1', kind: 'Node', name: action.node } },
        }).then(() => log.info({ pod: `${action.namespace}/${action.pod}`, node: action.node }, 'pod bound'),
          (err) => { assumed.delete(uid); ignore(404, 409)(err); });
      } else {
        await core.patchNamespacedPodStatus({
          name: action.pod, namespace: action.namespace,
          body: { status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: action.message, lastTransitionTime: new Date().toISOString() }] } },
        }, mergePatch).catch(ignore(404));
        log.info({ pod: `${action.namespace}/${action.pod}`, message: action.message }, 'pod unschedulable');
      }
    }
  });

  // --- workloads (deployment, daemonset) and pod garbage collection
  const expectations = new Expectations();
  const applyWorkload = async (kind: string, owner: V1Deployment | V1DaemonSet, plan: WorkloadPlan, writeStatus: (status: unknown) => Promise<unknown>): Promise<void> => {
    const namespace = owner.metadata?.namespace ?? 'default';
    const key = `${kind}/${namespace}/${owner.metadata?.name}`;
    expectations.expect(key, plan.create.map((p) => p.metadata?.name ?? ''), plan.delete);
    await Promise.all([
      ...plan.create.map((body) => core.createNamespacedPod({ namespace, body }).catch((err) => {
        expectations.forget(key, body.metadata?.name ?? '');
        log.warn({ owner: key, err: errorMessage(err) }, 'pod create failed');
      })),
      ...plan.delete.map((name) => core.deleteNamespacedPod({ name, namespace }).catch((err) => {
        expectations.forget(key, name);
        ignore(404)(err);
      })),
    ]);
    if (plan.create.length || plan.delete.length) log.info({ owner: key, created: plan.create.length, deleted: plan.delete.length }, 'pods reconciled');
    if (plan.status) await writeStatus({ status: plan.status }).catch(ignore(404));
  };
  const podIndex = (): Set<string> => new Set(pods.list().map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`));

  add('deployment', ['deployments', 'pods'], async () => {
    const present = podIndex();
    const all = pods.list();
    for (const d of deployments.list()) {
      if (isTerminating(d) || !d.spec?.template) continue;
      const ns = d.metadata?.namespace ?? 'default';
      const key = `Deployment/${ns}/${d.metadata?.name}`;
      if (!expectations.satisfied(key, (n) => present.has(`${ns}/${n}`))) continue;
      const plan = planDeployment(d, all, randomSuffix, new Date().toISOString());
      await applyWorkload('Deployment', d, plan, (body) => apps.patchNamespacedDeploymentStatus({ name: d.metadata?.name ?? '', namespace: ns, body }, mergePatch));
    }
  });

  add('daemonset', ['daemonsets', 'pods', 'nodes'], async () => {
    const present = podIndex();
    const all = pods.list();
    for (const ds of daemonsets.list()) {
      if (isTerminating(ds) || !ds.spec?.template) continue;
      const ns = ds.metadata?.namespace ?? 'default';
      const key = `DaemonSet/${ns}/${ds.metadata?.name}`;
      if (!expectations.satisfied(key, (n) => present.has(`${ns}/${n}`))) continue;
      const plan = planDaemonSet(ds, nodes.list(), all, randomSuffix);
      await applyWorkload('DaemonSet', ds, plan, (body) => apps.patchNamespacedDaemonSetStatus({ name: ds.metadata?.name ?? '', namespace: ns, body }, mergePatch));
    }
  });

  add('podgc', ['pods', 'deployments', 'daemonsets'], async () => {
    const owners = new Set([...deployments.list(), ...daemonsets.list()].map((o) => o.metadata?.uid));
    for (const p of pods.list()) {
      const ref = controllerRef(p);
      if (!ref || (ref.kind !== 'Deployment' && ref.kind !== 'DaemonSet') || owners.has(ref.uid) || isTerminating(p)) continue;
      log.info({ pod: `${p.metadata?.namespace}/${p.metadata?.name}`, owner: ref.name }, 'deleting pod of a deleted owner');
      await core.deleteNamespacedPod({ name: p.metadata?.name ?? '', namespace: p.metadata?.namespace ?? 'default' }).catch(ignore(404));
    }
  });

  // --- endpoint slices
  add('endpointslice', ['services', 'pods', 'slices'], async () => {
    const plan = planEndpointSlices(services.list(), pods.list(), slices.list(), cp);
    for (const want of plan.upsert) {
      const namespace = want.metadata?.namespace ?? 'default';
      const name = want.metadata?.name ?? '';
      const cached = slices.list().find((s) => s.metadata?.namespace === namespace && s.metadata?.name === name);
      const replace = async (resourceVersion: string | undefined): Promise<unknown> =>
        discovery.replaceNamespacedEndpointSlice({ name, namespace, body: { ...want, metadata: { ...want.metadata, resourceVersion } } });
      try {
        if (cached) await replace(cached.metadata?.resourceVersion);
        else await discovery.createNamespacedEndpointSlice({ namespace, body: want });
      } catch (err) {
        if (codeOf(err) !== 409) throw err;
        const fresh = await discovery.readNamespacedEndpointSlice({ name, namespace });
        await replace(fresh.metadata?.resourceVersion);
      }
    }
    for (const d of plan.delete) await discovery.deleteNamespacedEndpointSlice(d).catch(ignore(404));
  });

  // --- service accounts
  add('serviceaccount', ['namespaces', 'accounts'], async () => {
    for (const body of planServiceAccounts(namespaces.list(), accounts.list())) {
      await core.createNamespacedServiceAccount({ namespace: body.metadata?.namespace ?? '', body }).catch(ignore(409, 404));
    }
  });

  await Promise.all(caches.map((c) => c.start()));
  for (const l of loops) l.trigger();
  const resync = setInterval(() => { for (const l of loops) l.trigger(); }, opts.resyncMs ?? 10_000);
  log.info('controllers started');

  return {
    async stop() {
      clearInterval(resync);
      await Promise.all(loops.map((l) => l.stop()));
      await Promise.all(caches.map((c) => c.stop()));
      log.info('controllers stopped');
    },
  };
}
