// The controller as one object: informers → pipeline → delta ADS, the CA, both on one TLS gRPC server
// (istiod's 15012), plus the debug/metrics/readiness HTTP endpoint (istiod's 15014). It serves only once
// every informer has synced, so a ztunnel never sees a half-built mesh.
import * as grpc from '@grpc/grpc-js';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry, Counter, collectDefaultMetrics } from 'prom-client';
import { hostname } from 'node:os';
import type { KubeClient } from '../shared/kube/client.ts';
import { logger, type Logger } from '../shared/log.ts';
import { errorMessage } from '../shared/errors.ts';
import { createCa, type Ca } from './ca/index.ts';
import { startRootCertPublisher } from './ca/root-publisher.ts';
import { tokenReviewAuthenticator } from './ca/authn.ts';
import { createDeltaAds, type DeltaAds } from './xds/index.ts';
import { ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL, decodeAddress, decodeAuthorization, ipString } from '../shared/proto/index.ts';
import { startWatches, meshKinds, type EventType, type Watches } from './kube/watch.ts';
import { startWaypointReconciler, waypointWatchedKinds, WAYPOINT_EVENT_KINDS, type WaypointReconciler } from './waypoint/deploy/index.ts';
import type { KubernetesObject } from '@kubernetes/client-node';
import { Pipeline } from './pipeline.ts';
import { createStatusWriter } from './status-writer.ts';
import { WAYPOINT_CONFIG_TYPE_URL } from '../shared/waypoint/config.ts';
import { decodeWaypointConfig } from '../shared/waypoint/codec.ts';
import { startLeaderElection, type LeaderElection } from './kube/leader.ts';

export interface ControllerOptions {
  kube: KubeClient;
  namespace?: string; // istio-system
  trustDomain?: string; // cluster.local
  clusterId?: string; // Kubernetes
  network?: string;
  host?: string; // 127.0.0.1
  grpcPort?: number; // 15012
  debugPort?: number; // 15014
  debounceMs?: number; // 100
  caAudience?: string; // istio-ca
  /** Where waypoint pods reach the controller's xDS and CA (default `istiod.<namespace>.svc:15012`). */
  waypointXdsAddress?: string;
  /** Image of the waypoint Deployments it renders (default ambient-mesh/ambient-mesh, the one image of deploy/). */
  waypointImage?: string;
  log?: Logger;
}

export interface Controller {
  grpcPort: number;
  debugPort: number;
  rootCertPem: string;
  /** The DNS name the serving certificate carries (clients connecting by IP set it as the TLS server name). */
  serverName: string;
  ads: DeltaAds;
  ca: Ca;
  close(): Promise<void>;
}

// JSON for humans: IP bytes as dotted strings, other bytes as base64.
function readable(_k: string, v: unknown): unknown {
  if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
    const bytes = Buffer.from((v as { data: number[] }).data);
    return bytes.length === 4 || bytes.length === 16 ? ipString(bytes) : bytes.toString('base64');
  }
  return v;
}

export async function startController(o: ControllerOptions): Promise<Controller> {
  const log = o.log ?? logger('controller');
  const namespace = o.namespace ?? 'istio-system';
  const trustDomain = o.trustDomain ?? 'cluster.local';
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const ca = await createCa({ kube: o.kube, namespace, trustDomain, audience: o.caAudience ?? 'istio-ca', registry, log: log.child({ part: 'ca' }) });
  const authenticate = tokenReviewAuthenticator(o.kube, o.caAudience ?? 'istio-ca');
  const ads = createDeltaAds({
    debounceMs: o.debounceMs ?? 100,
    registry,
    log: log.child({ part: 'xds' }),
    authenticate: async (call) => {
      const who = await authenticate(call.metadata);
      return { id: `${who.namespace}/${who.serviceAccount}${who.pod ? `/${who.pod.name}` : ''}` };
    },
  });

  const rejections = new Counter({ name: 'mesh_controller_config_rejections_total', help: 'Policies not applied as written, by kind and reason', labelNames: ['kind', 'reason'], registers: [registry] });
  const status = createStatusWriter(o.kube, log.child({ part: 'status' }));
  // Only the leader writes status, so two replicas can run; a new leader rewrites the latest verdicts.
  const election: LeaderElection = startLeaderElection({
    kube: o.kube, namespace, name: 'ambient-controller-status', identity: process.env.POD_NAME ?? `${hostname()}-${process.pid}`,
    log: log.child({ part: 'leader' }), onChange: (leader) => leader && status.writeAll(),
  });
  const rootPublisher = startRootCertPublisher({ kube: o.kube, rootCertPem: ca.rootCertPem, isLeader: () => election.isLeader(), log: log.child({ part: 'root-cert' }) });
  const pipeline = new Pipeline({
    clusterId: o.clusterId ?? 'Kubernetes', trustDomain, network: o.network ?? '', rootNamespace: namespace,
    sink: ads, log: log.child({ part: 'index' }),
    onVerdicts: (vs) => {
      for (const v of vs) if (!v.status.accepted) rejections.inc({ kind: v.kind, reason: v.status.reason });
      status.record(vs.map((v) => ({
        kind: v.kind, namespace: v.namespace, name: v.name, generation: v.generation, ...v.status,
        condition: v.kind === 'AuthorizationPolicy' || v.kind === 'PeerAuthentication' ? 'ZtunnelAccepted' : 'Accepted',
      })), election.isLeader());
    },
    onWaypointVerdicts: (vs) => {
      for (const v of vs) if (!v.accepted) rejections.inc({ kind: v.kind, reason: v.reason });
      status.record(vs.map((v) => ({ ...v, condition: v.kind === 'AuthorizationPolicy' || v.kind === 'RequestAuthentication' ? 'WaypointAccepted' : 'Accepted' })), election.isLeader());
    },
  });
  let toWaypoints = (_k: string, _t: EventType, _o: KubernetesObject): void => {};
  const watches: Watches = startWatches(o.kube, [...meshKinds(), ...waypointWatchedKinds()], (kind, type, obj) => {
    pipeline.event(kind, type, obj);
    if ((WAYPOINT_EVENT_KINDS as readonly string[]).includes(kind)) toWaypoints(kind, type, obj);
  }, log.child({ part: 'watch' }));
  const xdsForWaypoints = o.waypointXdsAddress ?? `istiod.${namespace}.svc:15012`;
  const waypoints: WaypointReconciler = startWaypointReconciler({
    kube: o.kube,
    render: {
      image: o.waypointImage ?? 'ambient-mesh/ambient-mesh', xdsAddress: xdsForWaypoints, caAddress: xdsForWaypoints,
      trustDomain, clusterId: o.clusterId ?? 'Kubernetes', controlPlaneNamespace: namespace,
    },
    isLeader: () => election.isLeader(), log: log.child({ part: 'waypoint-deploy' }), synced: watches.synced,
  });
  toWaypoints = (k, t, obj) => waypoints.event(k, t, obj);
  await watches.synced;
  pipeline.flush();
  log.info('all informers synced; serving');

  const serving = ca.issueServingCert([`istiod.${namespace}.svc`, `istiod.${namespace}.svc.cluster.local`, 'istiod', 'localhost']);
  const server = new grpc.Server({ 'grpc.keepalive_time_ms': 30_000 });
  server.addService(ads.definition, ads.service);
  server.addService(ca.service.definition, ca.service.implementation);
  const credentials = grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(serving.chainPem), private_key: Buffer.from(serving.keyPem) }], false);
  const host = o.host ?? '127.0.0.1';
  const grpcPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${o.grpcPort ?? 15012}`, credentials, (err, port) => (err ? reject(err) : resolve(port))),
  );

  const debug: HttpServer = createServer((req, res) => {
    const send = (code: number, body: unknown, type = 'application/json'): void => {
      res.writeHead(code, { 'content-type': type });
      res.end(type === 'application/json' ? JSON.stringify(body, readable, 2) : String(body));
    };
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/ready') return send(200, 'ready\n', 'text/plain');
    if (path === '/metrics') {
      void registry.metrics().then((m) => send(200, m, registry.contentType), (err) => send(500, errorMessage(err), 'text/plain'));
      return;
    }
    if (path === '/debug/addresses') {
      return send(200, [...ads.resources(ADDRESS_TYPE_URL)].map(([name, r]) => ({ name, version: r.version, address: decodeAddress(r.resource) })));
    }
    if (path === '/debug/authorizations') {
      return send(200, [...ads.resources(AUTHORIZATION_TYPE_URL)].map(([name, r]) => ({ name, version: r.version, authorization: decodeAuthorization(r.resource) })));
    }
    if (path === '/debug/waypoints') {
      return send(200, [...ads.resources(WAYPOINT_CONFIG_TYPE_URL)].map(([name, r]) => ({ name, version: r.version, config: decodeWaypointConfig(r.resource) })));
    }
    if (path === '/debug/connections') return send(200, ads.connectedClients());
    send(404, { error: `no such endpoint ${path}; try /debug/addresses, /debug/authorizations, /debug/waypoints, /debug/connections, /metrics, /ready` });
  });
  const debugPort = await new Promise<number>((resolve) => debug.listen(o.debugPort ?? 15014, host, () => resolve((debug.address() as AddressInfo).port)));
  log.info({ grpcPort, debugPort }, 'controller serving xDS and CA');

  return {
    grpcPort, debugPort, rootCertPem: ca.rootCertPem, serverName: `istiod.${namespace}.svc`, ads, ca,
    async close() {
      pipeline.stop();
      await waypoints.stop();
      await election.stop();
      await rootPublisher.stop();
      await watches.stop();
      ads.close();
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => server.forceShutdown(), 2000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      debug.closeAllConnections();
      await new Promise<void>((resolve) => debug.close(() => resolve()));
    },
  };
}
