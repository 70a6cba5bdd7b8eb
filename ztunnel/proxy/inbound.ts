// Inbound HBONE listener (15008, inside the destination pod): mTLS with the pod's own certificate, the peer's SPIFFE
// identity from its certificate, the destination's authorizations (DENY first, then ALLOW), then a connection to
// the app from the client's own IP (IP_TRANSPARENT; the pod's policy routing brings the replies back to us).
import type { ServerHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import { errorMessage } from '../../shared/errors.ts';
import { parseSpiffeId } from '../../shared/spiffe.ts';
import { createHboneServer, respondConnect, splice } from '../../shared/hbone/index.ts';
import { authorize } from '../policy/index.ts';
import { ConnectionTelemetry } from '../telemetry/index.ts';
import type { IpText, SpiffeId, Workload } from '../types.ts';
import { HBONE_PORT, hostPort, track, type PodContext } from './context.ts';
import { closeServer, type Listener } from './outbound.ts';

export async function bindInbound(ctx: PodContext): Promise<Listener & { refreshTls(): Promise<void> }> {
  const sa = { trustDomain: ctx.trustDomain, namespace: ctx.pod.namespace, serviceAccount: ctx.pod.serviceAccount };
  let cert = await ctx.certs.get(sa);
  const server = createHboneServer({
    tls: () => ({ chainPem: cert.chainPem, keyPem: cert.keyPem, rootsPem: cert.rootsPem }),
    onConnect: (stream, info) => void handleInbound(ctx, stream, info),
    log: ctx.log.child({ listener: 'inbound' }),
  });
  await ctx.factory.listen({ host: '0.0.0.0', port: HBONE_PORT, server });
  return {
    name: 'inbound',
    close: () => {
      const closing = closeServer(server);
      server.goAway(); // peers dial the successor for new tunnels; live ones finish within the drain
      return closing;
    },
    async refreshTls() {
      cert = await ctx.certs.get(sa);
      server.refreshTls();
    },
  };
}

interface StreamInfo {
  peerIdentity: SpiffeId;
  authority: string;
  /** The parsed authority (the server answers 400 to one that is not ip:port). */
  target: { host: string; port: number };
  remoteAddress: string;
}

async function handleInbound(ctx: PodContext, stream: ServerHttp2Stream, info: StreamInfo): Promise<void> {
  track(ctx, stream);
  stream.on('error', () => {});
  const srcIp = (info.remoteAddress.startsWith('::ffff:') ? info.remoteAddress.slice(7) : info.remoteAddress) as IpText;
  const target = { ip: info.target.host as IpText, port: info.target.port };
  const dstWorkload: Workload | undefined = ctx.state.workloadByIp(target.ip);
  const srcWorkload = ctx.state.workloadByIp(srcIp);
  const t = new ConnectionTelemetry({
    reporter: 'destination', direction: 'inbound', srcAddr: srcIp, dstAddr: info.authority,
    srcWorkload, dstWorkload, srcIdentity: info.peerIdentity, dstIdentity: ctx.identity, mtls: true,
  }, ctx.metrics, ctx.accessLog);
  const refuse = (status: number, code: string, message: string, verdict?: { allowed: boolean; policy?: string; reason: string }): void => {
    t.close({ bytesFromClient: 0, bytesToClient: 0, error: { code, message }, ...(verdict ? { verdict } : {}) });
    if (!stream.headersSent && !stream.destroyed) stream.respond({ ':status': status }, { endStream: true });
    else stream.close();
  };
  // This listener lives in the pod's namespace: it only delivers to the pod itself.
  if (target.ip !== ctx.pod.ip) return refuse(400, 'ZT_WRONG_DESTINATION', `tunnel for ${info.authority} arrived at pod ${ctx.pod.namespace}/${ctx.pod.name} (${ctx.pod.ip})`);
  if (!dstWorkload) return refuse(503, 'ZT_UNKNOWN_WORKLOAD', `no workload with address ${target.ip} in the control plane's state yet`);
  const namespace = parseSpiffeId(info.peerIdentity)?.sa.namespace ?? '';
  const verdict = authorize({ source: { identity: info.peerIdentity, namespace }, sourceIp: srcIp, destIp: target.ip, destPort: target.port }, ctx.state.policiesFor(dstWorkload));
  if (!verdict.allowed) return refuse(401, 'ZT_POLICY_DENIED', `connection from ${info.peerIdentity} denied: ${verdict.reason}`, verdict);
  let app: Duplex;
  try {
    app = await ctx.factory.connect({ host: target.ip, port: target.port, localAddress: srcIp, transparent: true, timeoutMs: 10_000 });
  } catch (err) {
    return refuse(503, 'ZT_APP_UNREACHABLE', `connect to the app at ${hostPort(target.ip, target.port)} failed: ${errorMessage(err)}`, verdict);
  }
  track(ctx, app);
  respondConnect(stream);
  try {
    const bytes = await splice(stream, app);
    t.close({ bytesFromClient: bytes.aToB, bytesToClient: bytes.bToA, verdict });
  } catch (err) {
    t.close({ bytesFromClient: 0, bytesToClient: 0, verdict, error: { code: (err as { code?: string }).code ?? 'ZT_STREAM_FAILED', message: errorMessage(err) } });
  }
}
