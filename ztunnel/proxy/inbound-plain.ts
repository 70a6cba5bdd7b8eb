// Inbound plaintext listener (15006, inside the destination pod): TCP that reached the pod without HBONE (from a pod
// outside the mesh, say), redirected by the capture rules. There is no peer identity, so the destination's
// authorizations decide — the controller's STRICT conversion (a DENY of connections without a principal) refuses it;
// under PERMISSIVE it is delivered from the client's own IP.
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { originalDestination } from '../../shared/netsock/index.ts';
import { errorMessage } from '../../shared/errors.ts';
import { splice } from '../../shared/hbone/index.ts';
import { authorize } from '../policy/index.ts';
import { ConnectionTelemetry } from '../telemetry/index.ts';
import type { IpText } from '../types.ts';
import { INBOUND_PLAIN_PORT, hostPort, track, type PodContext } from './context.ts';
import { closeServer, type Listener } from './outbound.ts';

export async function bindInboundPlain(ctx: PodContext): Promise<Listener> {
  const server = await ctx.factory.listen({ host: '0.0.0.0', port: INBOUND_PLAIN_PORT });
  server.on('connection', (sock: net.Socket) => void handleInboundPlain(ctx, sock));
  return { name: 'inbound-plaintext', close: () => closeServer(server) };
}

async function handleInboundPlain(ctx: PodContext, client: net.Socket): Promise<void> {
  track(ctx, client);
  client.setNoDelay(true);
  client.on('error', () => {});
  let orig;
  try {
    orig = originalDestination(client);
  } catch (err) {
    ctx.log.warn({ err: errorMessage(err) }, 'inbound plaintext connection without an original destination; closed');
    client.destroy();
    return;
  }
  const srcIp = (client.remoteAddress ?? '') as IpText;
  const dst = { ip: orig.address as IpText, port: orig.port };
  const dstWorkload = ctx.state.workloadByIp(dst.ip);
  const t = new ConnectionTelemetry({
    reporter: 'destination', direction: 'inbound', srcAddr: hostPort(srcIp, client.remotePort ?? 0), dstAddr: hostPort(dst.ip, dst.port),
    srcWorkload: ctx.state.workloadByIp(srcIp), dstWorkload, dstIdentity: ctx.identity, mtls: false,
  }, ctx.metrics, ctx.accessLog);
  if (!dstWorkload) {
    t.close({ bytesFromClient: 0, bytesToClient: 0, error: { code: 'ZT_UNKNOWN_WORKLOAD', message: `no workload with address ${dst.ip} in the control plane's state yet` } });
    client.destroy();
    return;
  }
  const verdict = authorize({ sourceIp: srcIp, destIp: dst.ip, destPort: dst.port }, ctx.state.policiesFor(dstWorkload));
  if (!verdict.allowed) {
    t.close({ bytesFromClient: 0, bytesToClient: 0, verdict, error: { code: 'ZT_POLICY_DENIED', message: `plaintext connection from ${srcIp} denied: ${verdict.reason}` } });
    client.destroy();
    return;
  }
  let app: Duplex;
  try {
    app = await ctx.factory.connect({ host: dst.ip, port: dst.port, localAddress: srcIp, transparent: true, timeoutMs: 10_000 });
  } catch (err) {
    t.close({ bytesFromClient: 0, bytesToClient: 0, verdict, error: { code: 'ZT_APP_UNREACHABLE', message: errorMessage(err) } });
    client.destroy();
    return;
  }
  track(ctx, app);
  try {
    const bytes = await splice(client, app);
    t.close({ bytesFromClient: bytes.aToB, bytesToClient: bytes.bToA, verdict });
  } catch (err) {
    t.close({ bytesFromClient: 0, bytesToClient: 0, verdict, error: { code: 'ZT_STREAM_FAILED', message: errorMessage(err) } });
  }
}
