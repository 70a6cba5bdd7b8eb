// The listeners of one captured pod, all opened inside its network namespace: outbound (15001), inbound HBONE
// (15008), inbound plaintext (15006) and DNS (15053). Every listener is bound before the pod's capture rules are
// installed (the node agent's order), so redirected traffic never meets a closed port. `close` stops accepting and
// lets live connections finish until the deadline, then cuts what remains.
import { setTimeout as sleep } from 'node:timers/promises';
import { inPodSocketFactory } from '../../shared/socket/index.ts';
import { bindOutbound, type Listener } from './outbound.ts';
import { bindInbound } from './inbound.ts';
import { bindInboundPlain } from './inbound-plain.ts';
import { bindDns } from './dns.ts';
import { spiffeId } from '../../shared/spiffe.ts';
import { PROXY_MARK, type CapturedPod, type NodeServices, type PodContext } from './context.ts';

export class PodProxy {
  readonly pod: CapturedPod;
  private readonly ctx: PodContext;
  private readonly listeners: Listener[];
  private readonly refresh: () => Promise<void>;

  private constructor(ctx: PodContext, listeners: Listener[], refresh: () => Promise<void>) {
    this.ctx = ctx;
    this.pod = ctx.pod;
    this.listeners = listeners;
    this.refresh = refresh;
  }

  static async start(pod: CapturedPod, node: NodeServices): Promise<PodProxy> {
    const ctx: PodContext = {
      ...node,
      pod,
      identity: spiffeId(node.trustDomain, pod),
      factory: inPodSocketFactory(pod.netns, { mark: PROXY_MARK }),
      live: new Set(),
      log: node.log.child({ pod: `${pod.namespace}/${pod.name}` }),
    };
    const bound: Listener[] = [];
    try {
      const inbound = await bindInbound(ctx);
      bound.push(inbound);
      bound.push(await bindOutbound(ctx));
      bound.push(await bindInboundPlain(ctx));
      if (node.captureDns) bound.push(await bindDns(ctx));
      return new PodProxy(ctx, bound, () => inbound.refreshTls());
    } catch (err) {
      await Promise.all(bound.map((l) => l.close()));
      throw err;
    }
  }

  /** The pod's certificate was rotated: serve the new one on 15008. */
  refreshCertificate(): Promise<void> {
    return this.refresh();
  }

  get liveConnections(): number {
    return this.ctx.live.size;
  }

  async close(drainMs: number): Promise<void> {
    const closing = Promise.all(this.listeners.map((l) => l.close()));
    const deadline = Date.now() + drainMs;
    while (this.ctx.live.size > 0 && Date.now() < deadline) await sleep(50);
    for (const s of this.ctx.live) s.destroy();
    // A server's close waits for its idle keep-alive sessions too; they carry nothing now.
    await Promise.race([closing, sleep(1000)]);
  }
}
