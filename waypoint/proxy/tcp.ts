// TCP through the waypoint: the tunnel's bytes go to a backend chosen by the bound service's TCP routes (TCPRoute,
// VirtualService `tcp`; none: the service itself, or the addressed pod), over HBONE to one of its endpoints. Each
// connection counts in Istio's TCP metrics (reporter="waypoint") and gets an access-log record.
import type { Duplex } from 'node:stream';
import type { Registry } from 'prom-client';
import type { Logger } from '../../shared/log.ts';
import { errorMessage } from '../../shared/errors.ts';
import { splice, SpliceError } from '../../shared/hbone/index.ts';
import type { BackendRef } from '../../shared/waypoint/config.ts';
import { matchTcp, pickWeighted } from '../route/index.ts';
import { RESPONSE_FLAGS, type ResponseFlag } from '../telemetry/metrics.ts';
import { TcpMetrics, type TcpFacts, type TcpOutcome } from '../telemetry/tcp.ts';
import type { ProxyContext } from './context.ts';
import { resolveCluster, workloadCluster, type Cluster, type ClusterError } from './endpoints.ts';
import type { Tunnel } from './tunnel.ts';
import { connectUpstream } from './upstream-connect.ts';

export function tcpCluster(ctx: ProxyContext, t: Tunnel, rand = Math.random): Cluster | ClusterError {
  const port = t.destination.port;
  if (!t.destination.serviceKey) {
    return t.destination.workload ? workloadCluster(t.destination.workload, port) : { code: 'NO_SERVICE', message: 'no destination' };
  }
  const route = matchTcp(t.listener?.tcp ?? [], port);
  const backend: BackendRef | undefined = route ? pickWeighted(route.backends, rand()) : { service: t.destination.serviceKey };
  if (!backend) return { code: 'NO_SERVICE', message: `tcp route ${route?.id} has no backend with weight > 0` };
  return resolveCluster(ctx.state, (k) => ctx.store.destination(k), backend, port);
}

/** Proxies a tunnel as TCP, with Istio's TCP metrics and an access-log record per connection (telemetry/tcp.ts). */
export function createTcpProxy(ctx: ProxyContext, registry: Registry, accessLog: Logger): (stream: Duplex, t: Tunnel) => Promise<void> {
  const metrics = new TcpMetrics(registry, accessLog);
  return async (stream, t) => {
    const log = ctx.log.child({ src: t.source.principal, dst: `${t.destination.ip}:${t.destination.port}` });
    const srcWorkload = ctx.state.workloadByIp(t.source.ip as never);
    const facts: TcpFacts = {
      ...(srcWorkload ? { srcWorkload } : {}), ...(t.source.principal ? { srcPrincipal: t.source.principal } : {}),
      ...(t.destination.workload ? { dstWorkload: t.destination.workload } : {}),
      ...(t.destination.serviceKey ? { dstService: t.destination.serviceKey } : {}),
      responseFlags: '-', mtls: true,
    };
    const conn = metrics.open(facts, { downstreamRemoteAddress: t.source.ip, downstreamLocalAddress: `${t.destination.ip}:${t.destination.port}` });
    /** The client's stream is closed without a byte moved. */
    const refuse = (f: TcpFacts, flag: ResponseFlag, failure: string, more: Partial<TcpOutcome> = {}): void => {
      stream.destroy();
      conn.close(f, { bytesFromClient: 0, bytesToClient: 0, responseFlags: flag, failure, ...more });
    };
    const cluster = tcpCluster(ctx, t);
    if ('code' in cluster || cluster.endpoints.length === 0) {
      const reason = 'code' in cluster ? cluster.message : `no healthy endpoints in ${cluster.name}`;
      log.warn({ reason }, 'tcp tunnel closed: no upstream');
      return refuse(facts, 'code' in cluster ? RESPONSE_FLAGS.NO_CLUSTER_FOUND : RESPONSE_FLAGS.NO_HEALTHY_UPSTREAM, reason);
    }
    const ep = cluster.endpoints[Math.floor(Math.random() * cluster.endpoints.length)]!;
    const upstream = { upstreamHost: `${ep.ip}:${ep.port}`, upstreamCluster: cluster.name };
    const done: TcpFacts = { ...facts, dstWorkload: ep.workload };
    let up: Duplex;
    try {
      up = await connectUpstream(ctx, { workload: ep.workload, ip: ep.ip, port: ep.port }, t.source.ip);
    } catch (err) {
      log.warn({ upstream: ep.id, err: errorMessage(err) }, 'tcp upstream connect failed');
      return refuse(done, RESPONSE_FLAGS.UPSTREAM_CONNECTION_FAILURE, errorMessage(err), upstream);
    }
    up.on('error', () => {});
    try {
      const bytes = await splice(stream, up);
      log.debug({ upstream: ep.id, ...bytes }, 'tcp tunnel done');
      conn.close(done, { bytesFromClient: bytes.aToB, bytesToClient: bytes.bToA, responseFlags: '-', ...upstream });
    } catch (err) {
      log.debug({ upstream: ep.id, err: errorMessage(err) }, 'tcp tunnel failed');
      const counts = err instanceof SpliceError ? { bytesFromClient: err.aToB, bytesToClient: err.bToA } : { bytesFromClient: 0, bytesToClient: 0 };
      conn.close(done, { ...counts, responseFlags: RESPONSE_FLAGS.UPSTREAM_CONNECTION_TERMINATION, failure: errorMessage(err), ...upstream });
    }
  };
}
