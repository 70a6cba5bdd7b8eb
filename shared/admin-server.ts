// A proxy's HTTP endpoints, as Istio's ztunnel and waypoints have them: admin on localhost:15000 (`/config_dump`:
// whatever the proxy's dump holds), Prometheus metrics on :15020 (`/metrics`, also `/stats/prometheus`), readiness
// on :15021 (`/healthz/ready`). They run in the proxy's own namespace (the node's for ztunnel, the pod's for a waypoint).
import http from 'node:http';
import { once } from 'node:events';
import type { Registry } from 'prom-client';
import { errorMessage } from './errors.ts';

export interface AdminSources {
  registry: Registry;
  ready: () => boolean;
  /** Everything `/config_dump` shows, gathered at request time. */
  configDump: () => unknown;
}

export interface AdminServers {
  adminPort: number;
  metricsPort: number;
  readinessPort: number;
  close(): Promise<void>;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

function send(res: http.ServerResponse, status: number, body: string, type = 'text/plain'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function serve(host: string, port: number, handler: Handler): Promise<http.Server> {
  const server = http.createServer(handler);
  server.listen(port, host);
  await once(server, 'listening');
  return server;
}

const portOf = (s: http.Server): number => (s.address() as { port: number }).port;

export async function startAdmin(src: AdminSources, o: { adminPort: number; metricsPort: number; readinessPort: number; host: string }): Promise<AdminServers> {
  const admin = await serve('127.0.0.1', o.adminPort, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/config_dump') {
      try {
        send(res, 200, JSON.stringify(src.configDump(), null, 2), 'application/json');
      } catch (err) {
        send(res, 500, `config dump failed: ${errorMessage(err)}\n`);
      }
      return;
    }
    if (path === '/healthz/ready') return send(res, src.ready() ? 200 : 503, src.ready() ? 'ready\n' : 'not ready\n');
    send(res, 404, 'endpoints: /config_dump, /healthz/ready\n');
  });
  const metrics = await serve(o.host, o.metricsPort, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' && path !== '/stats/prometheus') return send(res, 404, 'endpoints: /metrics, /stats/prometheus\n');
    src.registry.metrics().then((m) => send(res, 200, m, src.registry.contentType), (err: unknown) => send(res, 500, errorMessage(err)));
  });
  const readiness = await serve(o.host, o.readinessPort, (req, res) => {
    if ((req.url ?? '/').split('?')[0] !== '/healthz/ready') return send(res, 404, 'endpoint: /healthz/ready\n');
    send(res, src.ready() ? 200 : 503, src.ready() ? 'ready\n' : 'not ready\n');
  });
  return {
    adminPort: portOf(admin), metricsPort: portOf(metrics), readinessPort: portOf(readiness),
    async close() {
      for (const s of [admin, metrics, readiness]) s.closeAllConnections();
      await Promise.all([admin, metrics, readiness].map((s) => new Promise((r) => s.close(r))));
    },
  };
}
