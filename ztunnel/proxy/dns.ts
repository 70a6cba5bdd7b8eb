// DNS listener (15053, inside the pod, UDP and TCP): the pod's DNS queries, redirected by its capture rules, answered
// from the mesh's state (Service and ServiceEntry names) by the DNS proxy; the rest is forwarded to the cluster DNS
// from inside the pod's namespace with the proxy's mark, so the forwarded query is not captured again.
import { once } from 'node:events';
import { bindUdp } from '../../shared/netsock/index.ts';
import { createDnsProxy } from '../dns/index.ts';
import { DNS_PORT, PROXY_MARK, type PodContext } from './context.ts';
import { closeServer, type Listener } from './outbound.ts';

const FORWARD_TIMEOUT_MS = 5000;

async function forwardUdp(ctx: PodContext, query: Buffer): Promise<Buffer> {
  const sock = await bindUdp({ netns: ctx.pod.netns, port: 0, mark: PROXY_MARK });
  try {
    sock.send(query, 53, ctx.dnsUpstream);
    const signal = AbortSignal.timeout(FORWARD_TIMEOUT_MS);
    const [msg] = (await once(sock, 'message', { signal })) as [Buffer];
    return msg;
  } finally {
    sock.close();
  }
}

async function forwardTcp(ctx: PodContext, query: Buffer): Promise<Buffer> {
  const sock = await ctx.factory.connect({ host: ctx.dnsUpstream, port: 53, timeoutMs: FORWARD_TIMEOUT_MS });
  try {
    const len = Buffer.alloc(2);
    len.writeUInt16BE(query.length);
    sock.write(Buffer.concat([len, query]));
    let buf = Buffer.alloc(0);
    const signal = AbortSignal.timeout(FORWARD_TIMEOUT_MS);
    for (;;) {
      const [chunk] = (await once(sock, 'data', { signal })) as [Buffer];
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) return buf.subarray(2, 2 + buf.readUInt16BE(0));
    }
  } finally {
    sock.destroy();
  }
}

export async function bindDns(ctx: PodContext): Promise<Listener> {
  const proxy = createDnsProxy({
    view: ctx.state,
    forward: (query, tcp) => (tcp ? forwardTcp(ctx, query) : forwardUdp(ctx, query)),
    log: ctx.log.child({ listener: 'dns' }),
  });
  const udp = await bindUdp({ netns: ctx.pod.netns, host: '127.0.0.1', port: DNS_PORT, reusePort: true }); // handover, as inpod.ts
  proxy.serveUdp(udp);
  const tcp = await ctx.factory.listen({ host: '127.0.0.1', port: DNS_PORT });
  proxy.serveTcp(tcp);
  return {
    name: 'dns',
    async close() {
      udp.close();
      await closeServer(tcp);
    },
  };
}
