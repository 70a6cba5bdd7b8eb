// One side of the waypoint benchmark (bench/waypoint.ts) in its own process, so its CPU and RSS can be read alone.
// Not a test. `node bench/waypoint-bed.ts <role>` with the role's JSON in BED_CONFIG; prints one JSON line once it
// listens and runs until stdin closes or SIGTERM.
//
// - `apps`: the HTTP app on 127.0.9.2 and a stand-in for its node's ztunnel (an HBONE server on 127.0.9.2:15008 that
//   splices accepted tunnels to the target), like those waypoint/proxy/testbed.ts builds with `hbone: true`.
// - `waypoint`: the waypoint's data path as the test bed builds it (HBONE server, tunnel handling, HTTP servers,
//   request handler over a hand-built xDS state), its endpoint the app above, reached through the stand-in ztunnel
//   (`upstream: 'hbone'`) or directly (`upstream: 'plain'`, the app outside the mesh).
import http from 'node:http';
import type net from 'node:net';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { silent } from '../shared/log.ts';
import { persistCompileCache } from '../shared/runtime.ts';
import { defaultSocketFactory } from '../shared/socket/index.ts';
import { HbonePool, createHboneServer, respondConnect, rejectConnect, splice, type TlsMaterial } from '../shared/hbone/index.ts';
import { XdsState } from '../shared/state/index.ts';
import type { SpiffeId } from '../shared/spiffe.ts';
import type { Address } from '../shared/proto/types.ts';
import { WAYPOINT_CONFIG_SCHEMA } from '../shared/waypoint/config.ts';
import { WaypointConfigStore } from '../waypoint/store.ts';
import type { ProxyContext } from '../waypoint/proxy/context.ts';
import { acceptTunnel, createHttpServers } from '../waypoint/proxy/tunnel.ts';
import { createTcpProxy } from '../waypoint/proxy/tcp.ts';
import { createRequestHandler } from '../waypoint/proxy/handler.ts';

// The test bed's names (waypoint/proxy/testbed.ts), repeated so the waypoint's process does not load the test bed.
export const SVC = 'demo/reviews.demo.svc.cluster.local';
export const VIP = '10.96.0.50';
/** Away from the test bed's 127.0.0.2…, whose stand-in ztunnels also listen on :15008, so tests can run alongside. */
export const APP_IP = '127.0.9.2';

export interface AppsConfig {
  /** The stand-in ztunnel's certificate (identity `reviews`). */
  tls: TlsMaterial;
  /** Peers allowed to open tunnels to the stand-in (the waypoint and the benchmark client). */
  allowed: string[];
}

export interface WaypointBedConfig {
  tls: TlsMaterial;
  identity: string;
  appPort: number;
  upstream: 'hbone' | 'plain';
}

const ip4 = (s: string): Uint8Array => Uint8Array.from(s.split('.').map(Number));

async function apps(c: AppsConfig): Promise<Record<string, number>> {
  // Not the test bed's startApp: that one keeps every request for the tests to inspect, and tens of thousands of
  // retained requests made this process's scavenges take 20-60 ms, which showed up as latency spikes on both paths.
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain', 'x-version': 'v1' });
      res.end('v1');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, APP_IP, resolve));
  const app = { port: (server.address() as net.AddressInfo).port };
  const z = createHboneServer({
    tls: () => c.tls,
    log: silent,
    onConnect: (stream, info) => {
      if (!c.allowed.includes(info.peerIdentity)) return rejectConnect(stream, 401);
      defaultSocketFactory().connect({ host: info.target.host, port: info.target.port, timeoutMs: 2000 }).then((up) => {
        respondConnect(stream);
        splice(stream, up).catch(() => {});
      }, () => rejectConnect(stream, 503));
    },
  });
  await defaultSocketFactory().listen({ host: APP_IP, port: 15008, server: z });
  return { appPort: app.port, hbonePort: 15008 };
}

async function waypoint(c: WaypointBedConfig): Promise<Record<string, number>> {
  const state = new XdsState();
  const uid = 'Kubernetes//Pod/demo/reviews-v1';
  const addresses: Address[] = [
    { service: { name: 'reviews', namespace: 'demo', hostname: 'reviews.demo.svc.cluster.local', addresses: [{ network: '', address: ip4(VIP) }], ports: [{ servicePort: 80, targetPort: c.appPort }] } },
    { workload: {
      uid, name: 'reviews-v1', namespace: 'demo', addresses: [ip4(APP_IP)], tunnelProtocol: c.upstream === 'hbone' ? 'HBONE' : 'NONE', serviceAccount: 'reviews',
      canonicalName: 'reviews', canonicalRevision: 'v1', workloadName: 'reviews-v1', status: 'HEALTHY',
      services: { [SVC]: { ports: [{ servicePort: 80, targetPort: c.appPort }] } },
    } },
  ];
  state.applyAddresses(addresses.map((a, i) => ({ name: a.service ? SVC : uid, address: a, version: String(i) })), []);
  const store = new WaypointConfigStore('demo', 'waypoint');
  store.replace({
    schema: WAYPOINT_CONFIG_SCHEMA, namespace: 'demo', name: 'waypoint',
    services: [{ service: SVC, ports: [{ port: 80, protocol: 'HTTP' }], http: [], tcp: [] }],
    destinations: [], authorization: [], authentication: [], rateLimits: [],
  });
  const factory = defaultSocketFactory();
  const pool = new HbonePool({ log: silent });
  const ctx: ProxyContext = {
    name: 'demo/waypoint', namespace: 'demo', trustDomain: 'cluster.local', clusterId: 'Kubernetes', podIp: '127.0.0.1',
    identity: c.identity as SpiffeId, serviceAccount: 'waypoint', state, store,
    certs: { get: async () => c.tls } as never,
    pool, factory, log: silent,
  };
  // BENCH_ACCESS_LOG=1: the product's default, one JSON line per request (here into /dev/null); off, none is built.
  const accessLog = process.env.BENCH_ACCESS_LOG === '1' ? pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false })) : silent;
  const registry = new Registry();
  const handler = createRequestHandler(ctx, registry, accessLog);
  const tcp = createTcpProxy(ctx, registry, accessLog);
  const servers = createHttpServers((req, res) => handler.handle(req, res, servers.tunnelOf(req)));
  const hbone = createHboneServer({
    tls: () => c.tls,
    onConnect: acceptTunnel(ctx, { http: (s, t) => servers.feed(s, t), tcp: (s, t) => void tcp(s, t) }),
    log: silent,
  });
  await factory.listen({ host: '127.0.0.1', port: 0, server: hbone });
  return { hbonePort: (hbone.address() as net.AddressInfo).port };
}

async function main(): Promise<void> {
  const role = process.argv[2];
  const config = JSON.parse(process.env.BED_CONFIG ?? '{}');
  let out: Record<string, number>;
  if (role === 'apps') out = await apps(config as AppsConfig);
  else if (role === 'waypoint') out = await waypoint(config as WaypointBedConfig);
  else throw new Error(`unknown role ${JSON.stringify(role)}; expected apps or waypoint`);
  // As waypoint/main.ts does: what this process compiled goes to the compile cache (the parent points
  // NODE_COMPILE_CACHE at the product's default), so a warm run measures the waypoint without the TypeScript stripper.
  persistCompileCache();
  process.stdout.write(`${JSON.stringify({ role, pid: process.pid, ...out })}\n`);
  // The parent's pipe closing means it is gone: never outlive it.
  process.stdin.on('end', () => process.exit(0)).on('error', () => process.exit(0)).resume();
  process.once('SIGTERM', () => process.exit(0));
}

if (import.meta.main) {
  try {
    await main();
  } catch (err) {
    console.error(err);
    process.exit(1);
  }
}
