// TCP through the waypoint: the tunnel's bytes go to a backend chosen by the bound service's TCP routes (TCPRoute,
// VirtualService `tcp`; none: the service itself, or the addressed pod), over HBONE to one of its endpoints.
import type { Duplex } from 'node:stream';
import { errorMessage } from '../../shared/errors.ts';
import { splice } from '../../shared/hbone/index.ts';
import type { BackendRef } from '../../shared/waypoint/config.ts';
import { matchTcp, pickWeighted } from '../route/index.ts';
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

export async function proxyTcp(ctx: ProxyContext, stream: Duplex, t: Tunnel): Promise<void> {
  const log = ctx.log.child({ src: t.source.principal, dst: `${t.destination.ip}:${t.destination.port}` });
  const cluster = tcpCluster(ctx, t);
  if ('code' in cluster || cluster.endpoints.length === 0) {
    log.warn({ reason: 'code' in cluster ? cluster.message : `no healthy endpoints in ${cluster.name}` }, 'tcp tunnel closed: no upstream');
    stream.destroy();
    return;
  }
  const ep = cluster.endpoints[Math.floor(Math.random() * cluster.endpoints.length)]!;
  let up: Duplex;
  try {
    up = await connectUpstream(ctx, { workload: ep.workload, ip: ep.ip, port: ep.port }, t.source.ip);
  } catch (err) {
    log.warn({ upstream: ep.id, err: errorMessage(err) }, 'tcp upstream connect failed');
    stream.destroy();
    return;
  }
  up.on('error', () => {});
  try {
    const bytes = await splice(stream, up);
    log.debug({ upstream: ep.id, ...bytes }, 'tcp tunnel done');
  } catch (err) {
    log.debug({ upstream: ep.id, err: errorMessage(err) }, 'tcp tunnel failed');
  }
}
