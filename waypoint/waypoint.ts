// The waypoint as one object: its identity (a certificate for its own service account from the CA), the xDS client
// (Addresses for endpoints, plus its own WaypointConfig by name), the HBONE listener on :15008 whose tunnels are read
// as HTTP/1.1, HTTP/2 or TCP, and the admin (15000 /config_dump), metrics (15020) and readiness (15021) endpoints.
// It serves only once the first state and configuration arrived; afterwards it keeps serving the last good ones
// while the controller is away or pushes something invalid.
import { readFileSync } from 'node:fs';
import type net from 'node:net';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from '../shared/log.ts';
import { startAdmin } from '../shared/admin-server.ts';
import { XdsState } from '../shared/state/index.ts';
import { addressSubscription, startXdsClient } from '../shared/xds/index.ts';
import { CertificateManager, createCaClient } from '../shared/identity/index.ts';
import { HbonePool, createHboneServer } from '../shared/hbone/index.ts';
import { defaultSocketFactory, type SocketFactory } from '../shared/socket/index.ts';
import { spiffeId } from '../shared/spiffe.ts';
import type { WaypointEnv } from './config.ts';
import { WaypointConfigStore } from './store.ts';
import type { ProxyContext } from './proxy/context.ts';
import { acceptTunnel, createHttpServers } from './proxy/tunnel.ts';
import { createTcpProxy } from './proxy/tcp.ts';
import { createRequestHandler } from './proxy/handler.ts';

export interface Waypoint {
  ctx: ProxyContext;
  hbonePort: number;
  ready(): boolean;
  stop(drainMs?: number): Promise<void>;
}

export interface WaypointOptions {
  factory?: SocketFactory;
  /** Listen address of the HBONE server (default 0.0.0.0, the pod's namespace). */
  host?: string;
}

export async function startWaypoint(env: WaypointEnv, log: Logger, o: WaypointOptions = {}): Promise<Waypoint> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const rootCaPem = readFileSync(env.rootCaFile, 'utf8');
  const token = (): string => readFileSync(env.tokenFile, 'utf8').trim();
  const state = new XdsState();
  const store = new WaypointConfigStore(env.namespace, env.gatewayName);
  const xds = startXdsClient({
    address: env.xdsAddress, servername: env.controlPlaneName, rootCaPem, token,
    node: {
      id: `waypoint~${env.podIp}~${env.podName}.${env.namespace}~${env.namespace}.svc.cluster.local`,
      metadata: { NAMESPACE: env.namespace, CLUSTER_ID: env.clusterId, INSTANCE_IPS: env.podIp, GATEWAY_NAME: env.gatewayName },
    },
    subscriptions: [addressSubscription(state), store.subscription()],
    onSynced: () => log.info({ services: store.config.services.length, workloads: [...state.allWorkloads()].length }, 'xds synced'),
    log: log.child({ part: 'xds' }),
  });
  store.onChange((c) => log.info({ services: c.services.map((s) => s.service), version: store.version }, 'waypoint configuration applied'));
  const ca = createCaClient({ address: env.caAddress, servername: env.controlPlaneName, rootCaPem, token });
  const certs = new CertificateManager({ ca, trustDomain: env.trustDomain, log: log.child({ part: 'identity' }) });
  const sa = { trustDomain: env.trustDomain, namespace: env.namespace, serviceAccount: env.serviceAccount };
  let cert = await certs.get(sa);
  const pool = new HbonePool({ log: log.child({ part: 'hbone-pool' }) });
  const factory = o.factory ?? defaultSocketFactory();
  const ctx: ProxyContext = {
    name: `${env.namespace}/${env.gatewayName}`, namespace: env.namespace, trustDomain: env.trustDomain, clusterId: env.clusterId,
    podIp: env.podIp, identity: spiffeId(env.trustDomain, sa), serviceAccount: env.serviceAccount,
    state, store, certs, pool, factory, log: log.child({ part: 'proxy' }),
  };
  const accessLog = log.child({ part: 'access' });
  const handler = createRequestHandler(ctx, registry, accessLog);
  const tcp = createTcpProxy(ctx, registry, accessLog);
  const http = createHttpServers((req, res) => handler.handle(req, res, http.tunnelOf(req)));
  const hbone = createHboneServer({
    tls: () => ({ chainPem: cert.chainPem, keyPem: cert.keyPem, rootsPem: cert.rootsPem }),
    onConnect: acceptTunnel(ctx, { http: (s, t) => http.feed(s, t), tcp: (s, t) => void tcp(s, t) }),
    log: log.child({ part: 'hbone' }),
  });
  certs.onRotated((_sa, c) => {
    cert = c;
    hbone.refreshTls();
  });

  let isReady = false;
  const admin = await startAdmin({
    registry,
    ready: () => isReady,
    configDump: () => ({ waypoint: ctx.name, version: store.version, config: store.config, ...state.dump(), certificates: certs.dump(), connections: pool.dump(), xds: xds.dump() }),
  }, { adminPort: env.adminPort, metricsPort: env.metricsPort, readinessPort: env.readinessPort, host: o.host ?? '0.0.0.0' });

  await xds.synced;
  const listener: net.Server = await factory.listen({ host: o.host ?? '0.0.0.0', port: env.hbonePort, server: hbone });
  const hbonePort = (listener.address() as net.AddressInfo).port;
  isReady = true;
  log.info({ waypoint: ctx.name, hbonePort, identity: ctx.identity }, 'waypoint ready');

  return {
    ctx, hbonePort,
    ready: () => isReady,
    async stop(drainMs = env.drainSeconds * 1000) {
      isReady = false;
      // Ztunnels stop choosing this pod only once the endpoint change reaches them through the controller; until then
      // they may still dial it, and a refused dial fails the client's connection. So, like Envoy's graceful drain,
      // the listener stays open for the first half of the drain. GOAWAY now moves the ztunnels' pooled connections
      // off their sessions (a stale ztunnel dials this pod again and is served); then the listener closes, the
      // sessions opened meanwhile get their GOAWAY, and the tunnels in flight have the rest of the drain. Inside the
      // tunnels the apps' own HTTP connections drain the same way (http.drain: `Connection: close`, GOAWAY), so their
      // clients reconnect, through ztunnel, to the successor rather than reuse a connection that is about to close.
      hbone.goAway();
      http.drain();
      await new Promise((resolve) => setTimeout(resolve, drainMs / 2));
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          http.closeAll();
          resolve();
        }, drainMs / 2);
        force.unref();
        hbone.close(() => {
          clearTimeout(force);
          resolve();
        });
        hbone.goAway();
        http.drain();
        // Busy connections got their `Connection: close` over the first half; what is still idle now has been idle
        // a while, so closing it hardly races a request.
        http.closeIdle();
      });
      await handler.close();
      await pool.close(1000);
      await xds.close();
      certs.close();
      ca.close();
      await admin.close();
    },
  };
}
