// The local cluster daemon: one process in the root netns that runs the API server, the controllers,
// one kubelet and one kube-proxy per node and the cluster DNS (see ARCHITECTURE.md). Started detached by
// `meshctl up` with `--dir <cluster dir>`; reports progress and readiness in <dir>/status.json; SIGTERM
// stops everything and removes the network. A SIGKILL leaves the creation record for `meshctl down`.
import { writeFileSync, renameSync, readFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { KubeConfig, CoreV1Api, type V1Service, type V1EndpointSlice } from '@kubernetes/client-node';
import { KubeClient } from '../shared/kube/client.ts';
import { startWatches, type Watches } from '../shared/kube/watch.ts';
import { logger } from '../shared/log.ts';
import { errorMessage } from '../shared/errors.ts';
import { listenTcp, bindUdp } from '../shared/netsock/index.ts';
import { clusterPaths, type ClusterConfig, type DaemonStatus } from './paths.ts';
import { ClusterNetwork, KubeProxy, FABRIC_ADDRESS, etcNetnsDir } from './network/index.ts';
import { startApiServer, type ApiServer } from './apiserver/index.ts';
import { startControllers, type Controllers } from './controllers/index.ts';
import { startKubelet, nodeProber, type Kubelet, type PodNetwork } from './kubelet/index.ts';
import { DnsServer } from './dns/index.ts';
import { installMesh, waitDaemonSetReady, waitDeploymentReady, MESH_NAMESPACE } from './mesh-install.ts';

const log = logger('daemon');
const { values } = parseArgs({ options: { dir: { type: 'string' } } });
if (!values.dir) throw new Error('daemon: --dir is required');
const paths = clusterPaths(dirname(values.dir));
const config = JSON.parse(readFileSync(paths.config, 'utf8')) as ClusterConfig;

function report(s: Omit<DaemonStatus, 'pid'>): void {
  const tmp = `${paths.statusFile}.tmp`;
  writeFileSync(tmp, JSON.stringify({ pid: process.pid, ...s }));
  renameSync(tmp, paths.statusFile);
}

interface Running {
  net?: ClusterNetwork;
  api?: ApiServer;
  controllers?: Controllers;
  kubelets: Kubelet[];
  proxies: KubeProxy[];
  dns?: DnsServer;
  watches?: Watches;
}
const running: Running = { kubelets: [], proxies: [] };

async function start(): Promise<void> {
  mkdirSync(paths.logsDir, { recursive: true });
  report({ phase: `creating ${config.nodes} node network namespaces`, ready: false });
  const net = (running.net = await ClusterNetwork.create({
    clusterId: config.clusterId, stateDir: paths.dir, nodeCount: config.nodes, podNetns: config.podNetns ?? 'named', log: logger('network'),
  }));

  report({ phase: 'starting the API server', ready: false });
  const api = (running.api = await startApiServer({ stateDir: paths.apiserverDir, host: '127.0.0.1', port: 0, logger: logger('apiserver') }));
  // Pods reach the API server at the fabric's control-plane address (Service `kubernetes` → 10.100.0.1:6443).
  api.attach(await listenTcp({ netns: net.fabric.netns, host: FABRIC_ADDRESS, port: 6443 }));
  const kc = new KubeConfig();
  kc.loadFromFile(api.kubeconfigPath);
  await forgetVanishedNodes(kc, net);

  report({ phase: 'starting controllers, DNS and kube-proxy', ready: false });
  running.controllers = await startControllers({ kubeconfig: kc, logger: logger('controllers') });
  const dns = (running.dns = new DnsServer({ log: logger('dns') }));
  dns.serveUdp(await bindUdp({ netns: net.fabric.netns, host: FABRIC_ADDRESS, port: 53 }));
  dns.serveTcp(await listenTcp({ netns: net.fabric.netns, host: FABRIC_ADDRESS, port: 53 }));
  running.proxies = net.nodes.map((n) => new KubeProxy({ netns: n.netns, log: logger('kube-proxy', { node: n.name }) }));
  await watchServices(await KubeClient.load({ kubeconfig: api.kubeconfigPath }), (services, slices) => {
    dns.update(services, slices);
    for (const p of running.proxies) p.update(services, slices);
  });

  report({ phase: 'starting kubelets', ready: false });
  for (const n of net.nodes) {
    const network: PodNetwork = {
      setupPod: async (pod) => {
        const p = await net.addPod(n.name, pod);
        // an anonymous pod netns is entered through its holder, with the pod's /etc/netns files
        const netns = p.netnsPath ? { path: p.netnsPath, etcDir: etcNetnsDir(p.netns) } : p.netns;
        return { netns, ip: p.ip, hostIP: p.hostIP };
      },
      teardownPod: (uid) => net.removePod(uid),
    };
    running.kubelets.push(
      await startKubelet({ kubeconfig: kc, nodeName: n.name, node: { ip: n.address, podCidr: n.podCIDR }, network, prober: nodeProber(n.netns), logsDir: paths.logsDir, stateDir: paths.dir, logger: logger('kubelet') }),
    );
  }
  // Each kubelet answers for the pods on its node only (undefined otherwise).
  api.setPodLogProvider((ns, pod, opts) => {
    for (const k of running.kubelets) {
      const s = k.podLogs(ns, pod, opts);
      if (s) return s;
    }
    return undefined;
  });

  report({ phase: 'waiting for nodes to be Ready', ready: false });
  await waitNodesReady(kc, net.nodes.map((n) => n.name));
  for (const p of running.proxies) await p.flush();

  // The mesh, installed from deploy/ (overlays/local) through the API like on a real cluster: the kubelets run
  // the controller Deployment and the ztunnel DaemonSet.
  report({ phase: 'installing the mesh from deploy/', ready: false });
  await installMesh(kc);
  await waitDeploymentReady(kc, MESH_NAMESPACE, 'istiod', 90_000);
  await waitDaemonSetReady(kc, MESH_NAMESPACE, 'ztunnel', net.nodes.length, 60_000);
  report({ phase: 'ready', ready: true, apiUrl: api.url });
  log.info({ nodes: config.nodes, api: api.url }, 'local cluster ready');
}

/** Node objects (and pods bound to them) left in the API state by an earlier run with more nodes. */
async function forgetVanishedNodes(kc: KubeConfig, net: ClusterNetwork): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const current = new Set(net.nodes.map((n) => n.name));
  for (const node of (await core.listNode()).items) {
    if (!current.has(node.metadata!.name!)) await core.deleteNode({ name: node.metadata!.name! });
  }
  for (const pod of (await core.listPodForAllNamespaces()).items) {
    if (pod.spec?.nodeName && !current.has(pod.spec.nodeName)) {
      await core.deleteNamespacedPod({ name: pod.metadata!.name!, namespace: pod.metadata!.namespace! });
    }
  }
}

/** Services + EndpointSlices feed DNS and every node's kube-proxy; bursts are coalesced (20 ms). */
async function watchServices(kube: KubeClient, onChange: (s: readonly V1Service[], e: readonly V1EndpointSlice[]) => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const snapshot = (): void => onChange(watches.list('Service') as V1Service[], watches.list('EndpointSlice') as V1EndpointSlice[]);
  const watches = startWatches(kube, [
    { kind: 'Service', path: '/api/v1/services' },
    { kind: 'EndpointSlice', path: '/apis/discovery.k8s.io/v1/endpointslices' },
  ], () => {
    timer ??= setTimeout(() => {
      timer = undefined;
      snapshot();
    }, 20);
  }, log.child({ part: 'service-watch' }));
  running.watches = watches;
  await watches.synced;
  snapshot();
}

async function waitNodesReady(kc: KubeConfig, names: string[]): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  for (;;) {
    const nodes = (await core.listNode()).items;
    const ready = nodes.filter((n) => names.includes(n.metadata!.name!) && n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    if (ready.length === names.length) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'stopping the local cluster');
  report({ phase: 'stopping', ready: false });
  // Each step is bounded, so one stuck component cannot keep the others (and the network) alive.
  const step = async (what: string, fn: () => Promise<unknown> | unknown, limitMs = 15_000): Promise<void> => {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.resolve().then(fn),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`gave up after ${limitMs} ms`)), limitMs))),
      ]);
      log.info({ step: what, ms: Math.round(performance.now() - started) }, 'stopped');
    } catch (err) {
      log.warn({ err: errorMessage(err), step: what }, 'stopping failed');
    } finally {
      clearTimeout(timer);
    }
  };
  await step('service watch', () => running.watches?.stop(), 2000);
  await Promise.all(running.kubelets.map((k) => step('kubelet', () => k.stop({ killPods: true }))));
  await step('controllers', () => running.controllers?.stop());
  for (const p of running.proxies) await step('kube-proxy', () => p.stop());
  await step('dns', () => running.dns?.close());
  await step('api server', () => running.api?.close(), 5000);
  await step('network', () => running.net?.destroy());
  report({ phase: 'stopped', ready: false });
  process.exit(0);
}

process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));

start().catch(async (err: unknown) => {
  log.error({ err: errorMessage(err), stack: (err as Error)?.stack }, 'the local cluster failed to start');
  report({ phase: 'failed', ready: false, error: errorMessage(err) });
  await stop('start-failure');
});
