// One ztunnel: the node-wide services (xDS state, certificates, HBONE pool, telemetry), the node agent that captures
// this node's enrolled pods, and the admin/metrics/readiness endpoints. `startZtunnel` is the whole process minus
// argument parsing and signals (main.ts), so tests can run one in-process.
import { readFileSync } from 'node:fs';
import { KubeClient } from '../shared/kube/client.ts';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from 'pino';
import { XdsState } from '../shared/state/index.ts';
import { startXdsClient, stateSubscriptions } from '../shared/xds/index.ts';
import { CertificateManager, createCaClient } from '../shared/identity/index.ts';
import { HbonePool } from '../shared/hbone/index.ts';
import { connectionMetrics } from './telemetry/index.ts';
import { NodeAgent } from './nodeagent/index.ts';
import { startAdmin, type AdminServers } from './admin/index.ts';
import type { ZtunnelConfig } from './config.ts';

export interface Ztunnel {
  admin: AdminServers;
  state: XdsState;
  agent: NodeAgent;
  ready(): boolean;
  /** Graceful: not ready, stop accepting, let live connections finish within drainMs, then close everything. */
  stop(drainMs?: number): Promise<void>;
}

export async function startZtunnel(config: ZtunnelConfig, log: Logger): Promise<Ztunnel> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = connectionMetrics(registry);
  const rootCaPem = readFileSync(config.rootCaFile, 'utf8');
  // Projected tokens rotate on disk; read the current one for every call.
  const token = (): string => readFileSync(config.tokenFile, 'utf8').trim();

  const state = new XdsState();
  const xds = startXdsClient({
    address: config.xdsAddress, servername: config.controlPlaneName, rootCaPem, token,
    node: {
      id: `ztunnel~${config.nodeIp}~${config.podName}.${config.podNamespace}~${config.podNamespace}.svc.cluster.local`,
      metadata: { NODE_NAME: config.nodeName, CLUSTER_ID: config.clusterId, NAMESPACE: config.podNamespace, INSTANCE_IPS: config.nodeIp },
    },
    subscriptions: stateSubscriptions(state), log: log.child({ part: 'xds' }),
    onSynced: () => log.info({ workloads: [...state.allWorkloads()].length, services: [...state.allServices()].length, policies: [...state.allPolicies()].length }, 'xds synced'),
  });
  const ca = createCaClient({ address: config.caAddress, servername: config.controlPlaneName, rootCaPem, token });
  const certs = new CertificateManager({ ca, trustDomain: config.trustDomain, log: log.child({ part: 'identity' }) });
  const pool = new HbonePool({ log: log.child({ part: 'hbone-pool' }) });

  const kube = await KubeClient.load({ kubeconfig: config.kubeconfig });

  const agent = new NodeAgent({
    kube, nodeName: config.nodeName, nodeIp: config.nodeIp, drainMs: config.drainSeconds * 1000, log: log.child({ part: 'node-agent' }),
    services: {
      state, certs, pool, metrics, trustDomain: config.trustDomain, dnsUpstream: config.dnsUpstream, captureDns: config.captureDns,
      log: log.child({ part: 'proxy' }), accessLog: log.child({ part: 'access' }),
    },
  });

  let isReady = false;
  const admin = await startAdmin({
    registry,
    ready: () => isReady,
    configDump: () => ({
      ...state.dump(),
      certificates: certs.dump(),
      connections: pool.dump(),
      capturedPods: agent.list(),
      xds: xds.dump(),
    }),
  }, { adminPort: config.adminPort, metricsPort: config.metricsPort, readinessPort: config.readinessPort, host: '0.0.0.0' });

  // Serve only with a full view of the mesh: capture before the first xDS state would refuse every connection.
  await xds.synced;
  await agent.start();
  isReady = true;
  log.info({ node: config.nodeName, captured: agent.list().length }, 'ztunnel ready');

  return {
    admin, state, agent,
    ready: () => isReady,
    async stop(drainMs = config.drainSeconds * 1000) {
      isReady = false;
      // Uninstalled (namespace or DaemonSet deleted) rather than replaced: take the rules out of every pod.
      const uninstall = await agent.uninstalling(config.podNamespace, config.podName).catch(() => undefined);
      if (uninstall) log.info({ reason: uninstall }, 'uninstalling: removing capture rules from every pod');
      await agent.stop(drainMs, uninstall !== undefined);
      pool.close();
      await xds.close();
      certs.close();
      ca.close();
      kube.close();
      await admin.close();
    },
  };
}
