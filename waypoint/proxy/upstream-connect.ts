// How the waypoint reaches an endpoint: over HBONE to the endpoint's node proxy (<pod ip>:15008, CONNECT to
// <pod ip>:<target port>) with the waypoint's own certificate, checking the endpoint's identity; or plain TCP when
// the endpoint is not in the mesh (no HBONE). The waypoint's own traffic never goes back through a waypoint: it
// names the endpoint's pod address, which ztunnel delivers directly.
import type { Duplex } from 'node:stream';
import { HBONE_PORT } from '../../shared/ambient/keys.ts';
import { workloadIdentity } from '../../shared/state/index.ts';
import type { Workload } from '../../shared/state/types.ts';
import type { ProxyContext } from './context.ts';

const hostPort = (ip: string, port: number): string => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

export interface UpstreamTarget {
  workload: Workload;
  ip: string;
  port: number;
}

/** A byte stream to the endpoint's app port. `clientIp` is passed on as `Forwarded: for=` (the original client). */
export async function connectUpstream(ctx: ProxyContext, t: UpstreamTarget, clientIp: string, signal?: AbortSignal): Promise<Duplex> {
  if (t.workload.tunnelProtocol !== 'HBONE') {
    return ctx.factory.connect({ host: t.ip, port: t.port, timeoutMs: 10_000, ...(signal ? { signal } : {}) });
  }
  const cert = await ctx.certs.get({ trustDomain: ctx.trustDomain, namespace: ctx.namespace, serviceAccount: ctx.serviceAccount });
  const expected = workloadIdentity(t.workload, ctx.trustDomain);
  return ctx.pool.open({
    poolKey: `${ctx.identity}|${expected}|${hostPort(t.ip, HBONE_PORT)}`,
    dial: () => ctx.factory.connect({ host: t.ip, port: HBONE_PORT, timeoutMs: 10_000 }),
    tls: { chainPem: cert.chainPem, keyPem: cert.keyPem, rootsPem: cert.rootsPem },
    expectedIdentity: expected,
    authority: hostPort(t.ip, t.port),
    headers: { forwarded: `for=${clientIp.includes(':') ? `"[${clientIp}]"` : clientIp}` },
    ...(signal ? { signal } : {}),
  });
}
