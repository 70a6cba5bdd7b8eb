// Loopback test bed for the waypoint's data path: a waypoint (HBONE server, tunnel handling, HTTP servers, request
// handler) over a hand-built xDS state and configuration, apps on 127.0.0.x standing in for pods outside HBONE, and a
// client that opens HBONE tunnels to it as a ztunnel would. No controller, no CA, no namespaces.
import http from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { Registry } from 'prom-client';
import { silent, type Logger } from '../../shared/log.ts';
import { testPki } from '../../shared/testing/certs.ts';
import { defaultSocketFactory } from '../../shared/socket/index.ts';
import { HbonePool, createHboneServer, respondConnect, rejectConnect, splice } from '../../shared/hbone/index.ts';
import { XdsState } from '../../shared/state/index.ts';
import type { SpiffeId } from '../../shared/spiffe.ts';
import type { Address, Workload } from '../../shared/proto/types.ts';
import { WAYPOINT_CONFIG_SCHEMA, type WaypointConfig } from '../../shared/waypoint/config.ts';
import { WaypointConfigStore } from '../store.ts';
import type { ProxyContext } from './context.ts';
import { acceptTunnel, createHttpServers } from './tunnel.ts';
import { createTcpProxy } from './tcp.ts';
import { createRequestHandler } from './handler.ts';

export const SVC = 'demo/reviews.demo.svc.cluster.local';
export const VIP = '10.96.0.50';
const ip4 = (s: string): Uint8Array => Uint8Array.from(s.split('.').map(Number));

export interface App {
  ip: string;
  port: number;
  uid: string;
  /** Requests it has seen. */
  seen: http.IncomingMessage[];
  server: http.Server;
}

/** An HTTP app on `ip` answering `<version>` (or what `handler` says). */
export async function startApp(ip: string, version: string, handler?: (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void): Promise<App> {
  const seen: http.IncomingMessage[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req);
    req.resume();
    req.on('end', () => {
      if (handler) return handler(req, res, seen.length);
      res.writeHead(200, { 'content-type': 'text/plain', 'x-version': version });
      res.end(version);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, ip, resolve));
  return { ip, port: (server.address() as net.AddressInfo).port, uid: `Kubernetes//Pod/demo/${version}`, seen, server };
}

export interface Bed {
  ctx: ProxyContext;
  registry: Registry;
  apps: App[];
  configure(c: Partial<WaypointConfig>): void;
  /** One HTTP/1.1 exchange through a fresh tunnel to `authority` (default the VIP:80). */
  request(o: { method?: string; path?: string; headers?: Record<string, string>; body?: string; authority?: string }): Promise<{ status: number; headers: Record<string, string>; body: string }>;
  tunnel(authority: string): Promise<Duplex>;
  close(): Promise<void>;
}

/**
 * `hbone`: the endpoints are in the mesh, as in a cluster: each app's address gets a stand-in for its ztunnel (an
 * HBONE server on <ip>:15008 with the `reviews` identity that checks the peer is the waypoint and splices to the app).
 * `app`: replace an app's HTTP server (e.g. with a gRPC one) — it receives the address to listen on.
 * `firstIp`: the apps live on 127.0.0.<firstIp>, <firstIp + 1> … (default 2), so beds with `hbone` in different test
 * files do not both want <ip>:15008. `accessLog`: where the access-log records go (default: nowhere).
 */
export async function startBed(
  appVersions: Array<{ version: string; handler?: Parameters<typeof startApp>[2] }>,
  o: { hbone?: boolean; firstIp?: number; accessLog?: Logger } = {},
): Promise<Bed> {
  const pki = testPki();
  const wpCert = pki.issue({ ns: 'demo', sa: 'waypoint' });
  const clientCert = pki.issue({ ns: 'demo', sa: 'client' });
  const apps: App[] = [];
  for (const [i, a] of appVersions.entries()) apps.push(await startApp(`127.0.0.${i + (o.firstIp ?? 2)}`, a.version, a.handler));
  const ztunnels: net.Server[] = [];
  if (o.hbone) {
    const cert = pki.issue({ ns: 'demo', sa: 'reviews' });
    for (const a of apps) {
      const z = createHboneServer({
        tls: () => ({ chainPem: cert.chainPem, keyPem: cert.keyPem, rootsPem: pki.rootPem }),
        log: silent,
        onConnect: (stream, info) => {
          if (info.peerIdentity !== wpCert.identity) return rejectConnect(stream, 401);
          defaultSocketFactory().connect({ host: info.target.host, port: info.target.port, timeoutMs: 2000 }).then((up) => {
            respondConnect(stream);
            splice(stream, up).catch(() => {});
          }, () => rejectConnect(stream, 503));
        },
      });
      await defaultSocketFactory().listen({ host: a.ip, port: 15008, server: z });
      ztunnels.push(z);
    }
  }
  const state = new XdsState();
  const workload = (a: App, version: string): Workload => ({
    uid: a.uid, name: `reviews-${version}`, namespace: 'demo', addresses: [ip4(a.ip)], tunnelProtocol: o.hbone ? 'HBONE' : 'NONE', serviceAccount: 'reviews',
    canonicalName: 'reviews', canonicalRevision: version, workloadName: `reviews-${version}`, status: 'HEALTHY',
    services: { [SVC]: { ports: [{ servicePort: 80, targetPort: a.port }] } },
  });
  const addresses: Address[] = [
    { service: { name: 'reviews', namespace: 'demo', hostname: 'reviews.demo.svc.cluster.local', addresses: [{ network: '', address: ip4(VIP) }], ports: [{ servicePort: 80, targetPort: 9080 }] } },
    ...apps.map((a, i) => ({ workload: workload(a, appVersions[i]!.version) })),
  ];
  state.applyAddresses(addresses.map((a, i) => ({ name: a.service ? SVC : a.workload!.uid, address: a, version: String(i) })), []);
  const store = new WaypointConfigStore('demo', 'waypoint');
  const pool = new HbonePool({ log: silent });
  const factory = defaultSocketFactory();
  const ctx: ProxyContext = {
    name: 'demo/waypoint', namespace: 'demo', trustDomain: 'cluster.local', clusterId: 'Kubernetes', podIp: '127.0.0.1',
    identity: wpCert.identity as SpiffeId, serviceAccount: 'waypoint', state, store,
    certs: { get: async () => ({ chainPem: wpCert.chainPem, keyPem: wpCert.keyPem, rootsPem: pki.rootPem }) } as never,
    pool, factory, log: silent,
  };
  const registry = new Registry();
  const handler = createRequestHandler(ctx, registry, o.accessLog ?? silent);
  const tcp = createTcpProxy(ctx, registry, silent);
  const servers = createHttpServers((req, res) => handler.handle(req, res, servers.tunnelOf(req)));
  const hbone = createHboneServer({
    tls: () => ({ chainPem: wpCert.chainPem, keyPem: wpCert.keyPem, rootsPem: pki.rootPem }),
    onConnect: acceptTunnel(ctx, { http: (s, t) => servers.feed(s, t), tcp: (s, t) => void tcp(s, t) }),
    log: silent,
  });
  await factory.listen({ host: '127.0.0.1', port: 0, server: hbone });
  const hbonePort = (hbone.address() as net.AddressInfo).port;
  const clientPool = new HbonePool({ log: silent });
  const tunnel = (authority: string): Promise<Duplex> => clientPool.open({
    poolKey: 'client', dial: () => factory.connect({ host: '127.0.0.1', port: hbonePort, timeoutMs: 2000 }),
    tls: { chainPem: clientCert.chainPem, keyPem: clientCert.keyPem, rootsPem: pki.rootPem },
    expectedIdentity: wpCert.identity as SpiffeId, authority, headers: { forwarded: 'for=10.244.1.5' },
  });
  const base: WaypointConfig = {
    schema: WAYPOINT_CONFIG_SCHEMA, namespace: 'demo', name: 'waypoint',
    services: [{ service: SVC, ports: [{ port: 80, protocol: 'HTTP' }], http: [], tcp: [] }],
    destinations: [], authorization: [], authentication: [], rateLimits: [],
  };
  store.replace(base);
  return {
    ctx, registry, apps, tunnel,
    configure: (c) => store.replace({ ...base, ...c }),
    async request(o) {
      const s = await tunnel(o.authority ?? `${VIP}:80`);
      const body = o.body ?? '';
      const head = [`${o.method ?? 'GET'} ${o.path ?? '/'} HTTP/1.1`, 'host: reviews.demo.svc.cluster.local', 'connection: close', `content-length: ${Buffer.byteLength(body)}`,
        ...Object.entries(o.headers ?? {}).map(([k, v]) => `${k}: ${v}`)].join('\r\n');
      s.end(`${head}\r\n\r\n${body}`);
      const chunks: Buffer[] = [];
      for await (const c of s) chunks.push(c as Buffer);
      const text = Buffer.concat(chunks).toString();
      const [headText, ...rest] = text.split('\r\n\r\n');
      const lines = (headText ?? '').split('\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
      const headers = Object.fromEntries(lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      let bodyText = rest.join('\r\n\r\n');
      if (headers['transfer-encoding'] === 'chunked') bodyText = dechunk(bodyText);
      return { status, headers, body: bodyText };
    },
    async close() {
      await clientPool.close(100);
      await handler.close();
      await new Promise<void>((r) => hbone.close(() => r()));
      servers.closeAll();
      await pool.close(100);
      for (const z of ztunnels) z.close();
      for (const a of apps) {
        a.server.closeAllConnections();
        a.server.close();
      }
    },
  };
}

function dechunk(s: string): string {
  let out = '';
  let rest = s;
  for (;;) {
    const nl = rest.indexOf('\r\n');
    if (nl < 0) return out;
    const n = parseInt(rest.slice(0, nl), 16);
    if (!n) return out;
    out += rest.slice(nl + 2, nl + 2 + n);
    rest = rest.slice(nl + 2 + n + 2);
  }
}
