// Outbound listener (15001, inside the pod): the pod's own TCP connections, redirected by its capture rules. The
// original destination goes through the pure route decision; the upstream leg is HBONE (mTLS with the pod's
// identity, pooled), plaintext to a workload outside the mesh, or a passthrough to an unknown destination — always
// dialled from inside the pod's namespace, so the network sees the pod's own IP.
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { originalDestination } from '../../shared/netsock/index.ts';
import { errorMessage } from '../../shared/errors.ts';
import { decideOutbound } from '../route/index.ts';
import { splice } from '../../shared/hbone/index.ts';
import { ConnectionTelemetry } from '../telemetry/index.ts';
import type { IpText } from '../types.ts';
import { HBONE_PORT, OUTBOUND_PORT, hostPort, track, type PodContext } from './context.ts';

export interface Listener {
  readonly name: string;
  /** Stop accepting; live connections are left to the caller's drain. */
  close(): Promise<void>;
}

export async function bindOutbound(ctx: PodContext): Promise<Listener> {
  const server = await ctx.factory.listen({ host: '127.0.0.1', port: OUTBOUND_PORT });
  server.on('connection', (sock: net.Socket) => void handleOutbound(ctx, sock));
  return { name: 'outbound', close: () => closeServer(server) };
}

export function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function codeOf(err: unknown): string {
  return (err as { code?: string })?.code ?? 'ZT_UPSTREAM_FAILED';
}

async function handleOutbound(ctx: PodContext, client: net.Socket): Promise<void> {
  track(ctx, client);
  client.setNoDelay(true);
  client.on('error', () => {}); // reported through the splice / telemetry below
  let orig;
  try {
    orig = originalDestination(client);
  } catch (err) {
    ctx.log.warn({ err: errorMessage(err) }, 'outbound connection without an original destination; closed');
    client.destroy();
    return;
  }
  const dst = { ip: orig.address as IpText, port: orig.port };
  const src = ctx.state.workloadByIp(ctx.pod.ip);
  const route = decideOutbound(src, dst, ctx.state, { trustDomain: ctx.trustDomain });
  const base = {
    reporter: 'source' as const, direction: 'outbound' as const,
    srcAddr: hostPort(client.remoteAddress ?? ctx.pod.ip, client.remotePort ?? 0), dstAddr: hostPort(dst.ip, dst.port),
    srcWorkload: src, srcIdentity: ctx.identity,
  };
  if (!('kind' in route)) {
    const t = new ConnectionTelemetry({ ...base, mtls: false }, ctx.metrics, ctx.accessLog);
    t.close({ bytesFromClient: 0, bytesToClient: 0, error: { code: route.code, message: route.message } });
    client.destroy();
    return;
  }
  const service = 'service' in route && route.service ? { hostname: route.service.hostname, name: route.service.name, namespace: route.service.namespace } : undefined;
  const workload = 'workload' in route ? route.workload : undefined;
  const upstreamAddr = hostPort(route.upstream.ip, route.upstream.port);
  const t = new ConnectionTelemetry({
    ...base,
    dstAddr: upstreamAddr,
    ...(route.kind === 'hbone' ? { hboneAddr: hostPort(route.hbone.ip, route.hbone.port), dstIdentity: route.identity, mtls: true } : { mtls: false }),
    dstWorkload: workload, dstService: service,
  }, ctx.metrics, ctx.accessLog);
  let upstream: Duplex;
  try {
    if (route.kind === 'hbone') {
      const cert = await ctx.certs.get({ trustDomain: ctx.trustDomain, namespace: ctx.pod.namespace, serviceAccount: ctx.pod.serviceAccount });
      const hbone = route.hbone;
      upstream = await ctx.pool.open({
        // The source IP is part of the key: the tunnel is dialled from this pod's namespace, so its address is the pod's.
        poolKey: `${ctx.pod.ip}|${ctx.identity}|${route.identity}|${hostPort(hbone.ip, hbone.port)}`,
        dial: () => ctx.factory.connect({ host: hbone.ip, port: hbone.port || HBONE_PORT, timeoutMs: 10_000 }),
        tls: { chainPem: cert.chainPem, keyPem: cert.keyPem, rootsPem: cert.rootsPem },
        expectedIdentity: route.identity,
        authority: upstreamAddr,
        headers: { forwarded: `for=${ctx.pod.ip.includes(':') ? `"[${ctx.pod.ip}]"` : ctx.pod.ip}` },
      });
    } else {
      upstream = await ctx.factory.connect({ host: route.upstream.ip, port: route.upstream.port, timeoutMs: 10_000 });
    }
  } catch (err) {
    t.close({ bytesFromClient: 0, bytesToClient: 0, error: { code: codeOf(err), message: errorMessage(err) } });
    client.destroy();
    return;
  }
  track(ctx, upstream);
  try {
    const bytes = await splice(client, upstream);
    t.close({ bytesFromClient: bytes.aToB, bytesToClient: bytes.bToA });
  } catch (err) {
    t.close({ bytesFromClient: 0, bytesToClient: 0, error: { code: codeOf(err), message: errorMessage(err) } });
  }
}
