// The node agent: which pods on this node are captured, and making it so. It watches the node's Pods and all
// Namespaces (shared/kube informers, as Istio's CNI node agent watches them), decides capture with the controller's own
// enrolment rule (shared/ambient), finds each pod's network namespace by its IP (no container-runtime API), opens
// the pod's listeners and only then installs the capture rules. Unenrolling removes the rules first, then drains
// the listeners. On start it re-adopts pods captured by an earlier run and removes rules left on pods that are no
// longer enrolled. Work on one pod is serialized; pods are independent.
import type { KubernetesObject, V1DaemonSet, V1Namespace, V1Pod } from '@kubernetes/client-node';
import type { KubeClient } from '../../shared/kube/client.ts';
import type { Logger } from 'pino';
import { startWatches, type Watches } from '../../shared/kube/watch.ts';
import { captureDecision, podHasWorkload, podIPs } from '../../shared/ambient/enrolment.ts';
import { errorMessage } from '../../shared/errors.ts';
import {
  capturePod, findPodNetns, isCaptured, parseCaptureAnnotations, releasePod, renderPodRules,
} from '../capture/index.ts';
import { PodProxy, DNS_PORT, HBONE_PORT, INBOUND_PLAIN_PORT, OUTBOUND_PORT, PROXY_MARK, type CapturedPod, type NodeServices } from '../proxy/index.ts';
import type { IpText } from '../types.ts';
import { PodNetnsNotFoundError } from '../errors.ts';
import { uninstallReason, type DaemonSetState } from './uninstall.ts';

export interface NodeAgentOptions {
  kube: KubeClient;
  nodeName: string;
  nodeIp: string;
  services: NodeServices;
  drainMs: number;
  log: Logger;
}

interface Captured {
  proxy: PodProxy;
  pod: CapturedPod;
  /** The rules script installed, to re-apply only when it changes (annotations edited). */
  script: string;
}

export interface CapturedPodInfo extends CapturedPod {
  liveConnections: number;
}

/** What the agent wants for a pod: its rules script when captured, else undefined. Pure. */
export function desiredCapture(pod: V1Pod, ns: V1Namespace | undefined, nodeIp: string, captureDns: boolean, log?: Logger): { ip: IpText; script: string } | undefined {
  if (!podHasWorkload(pod) || !captureDecision(pod, ns).captured) return undefined;
  const ip = podIPs(pod)[0] as IpText;
  const ann = parseCaptureAnnotations(pod.metadata?.annotations);
  if (ann.errors.length > 0) log?.warn({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, errors: ann.errors }, 'ignoring bad capture annotations');
  const script = renderPodRules({
    mark: PROXY_MARK, outboundPort: OUTBOUND_PORT, inboundPlainPort: INBOUND_PLAIN_PORT, hbonePort: HBONE_PORT, dnsPort: DNS_PORT,
    captureDns, probeSources: [nodeIp],
    excludeInboundPorts: ann.excludeInboundPorts, excludeOutboundPorts: ann.excludeOutboundPorts, excludeOutboundCidrs: ann.excludeOutboundCidrs,
  });
  return { ip, script };
}

export class NodeAgent {
  private readonly o: NodeAgentOptions;
  private readonly captured = new Map<string, Captured>();
  private readonly queues = new Map<string, Promise<void>>();
  /** Pods whose namespace may hold our rules without a live capture (an earlier run, or a capture that failed
   *  half-way, e.g. listeners refused while a previous ztunnel still drained). */
  private readonly maybeStale = new Set<string>();
  private watches?: Watches;
  private stopped = false;

  constructor(o: NodeAgentOptions) {
    this.o = o;
    o.services.certs.onRotated((sa) => {
      for (const c of this.captured.values()) {
        if (c.pod.namespace === sa.namespace && c.pod.serviceAccount === sa.serviceAccount) {
          c.proxy.refreshCertificate().catch((err: unknown) => this.o.log.warn({ err: errorMessage(err) }, 'serving the rotated certificate failed'));
        }
      }
    });
  }

  /** Starts watching; resolves once the first lists are in and every pod has been reconciled once. */
  async start(): Promise<void> {
    this.watches = startWatches(this.o.kube, [
      { kind: 'Pod', path: '/api/v1/pods', fieldSelector: `spec.nodeName=${this.o.nodeName}` },
      { kind: 'Namespace', path: '/api/v1/namespaces' },
    ], (kind, _type, obj) => {
      if (!this.synced) return;
      if (kind === 'Pod') this.enqueue(obj as V1Pod);
      else for (const p of this.podsIn(obj.metadata?.name)) this.enqueue(p);
    }, this.o.log.child({ part: 'pod-watch' }));
    await this.watches.synced;
    this.synced = true;
    await Promise.all(this.pods().map((p) => this.enqueue(p, true)));
  }

  private synced = false;

  private pods(): V1Pod[] {
    return (this.watches?.list('Pod') ?? []) as V1Pod[];
  }

  private podsIn(namespace: string | undefined): V1Pod[] {
    return this.pods().filter((p) => p.metadata?.namespace === namespace);
  }

  private namespace(name: string | undefined): V1Namespace | undefined {
    return ((this.watches?.list('Namespace') ?? []) as KubernetesObject[]).find((n) => n.metadata?.name === name) as V1Namespace | undefined;
  }

  /** Serialize work per pod uid: the latest state of the pod is read when the turn comes. */
  private enqueue(pod: V1Pod, initial = false): Promise<void> {
    const uid = pod.metadata?.uid;
    if (!uid) return Promise.resolve();
    const prev = this.queues.get(uid) ?? Promise.resolve();
    const next = prev.then(() => this.reconcile(uid, initial)).catch((err: unknown) => {
      this.o.log.warn({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, err: errorMessage(err), code: (err as { code?: string }).code }, 'capture change failed; will retry on the next pod event or in 1 s');
      if (!this.stopped) setTimeout(() => void this.enqueue(this.current(uid) ?? pod), 1000).unref();
    });
    this.queues.set(uid, next);
    void next.finally(() => {
      if (this.queues.get(uid) === next) this.queues.delete(uid);
    });
    return next;
  }

  private current(uid: string): V1Pod | undefined {
    return this.pods().find((p) => p.metadata?.uid === uid);
  }

  private async reconcile(uid: string, initial: boolean): Promise<void> {
    if (this.stopped) return;
    const pod = this.current(uid);
    const have = this.captured.get(uid);
    const want = pod ? desiredCapture(pod, this.namespace(pod.metadata?.namespace), this.o.nodeIp, this.o.services.captureDns, this.o.log) : undefined;
    if (!want) {
      if (have) await this.release(uid, have, pod !== undefined);
      else if ((initial || this.maybeStale.has(uid)) && pod && podIPs(pod).length > 0) await this.removeStaleRules(pod);
      this.maybeStale.delete(uid);
      return;
    }
    if (have && have.pod.ip === want.ip) {
      if (have.script !== want.script) {
        await capturePod(have.pod.netns, want.script);
        have.script = want.script;
        this.o.log.info({ pod: `${have.pod.namespace}/${have.pod.name}` }, 'capture rules updated');
      }
      return;
    }
    if (have) await this.release(uid, have, true);
    await this.capture(pod!, want.ip, want.script);
  }

  private async capture(pod: V1Pod, ip: IpText, script: string): Promise<void> {
    const name = `${pod.metadata!.namespace}/${pod.metadata!.name}`;
    this.maybeStale.add(pod.metadata!.uid!);
    const netns = await findPodNetns(ip, pod.metadata!.uid);
    if (!netns) throw new PodNetnsNotFoundError(name, ip);
    const captured: CapturedPod = {
      uid: pod.metadata!.uid!, name: pod.metadata!.name!, namespace: pod.metadata!.namespace!, ip,
      serviceAccount: pod.spec?.serviceAccountName || 'default', netns,
    };
    const started = performance.now();
    // Listeners first, then rules: redirected traffic must never find a closed port.
    const proxy = await PodProxy.start(captured, this.o.services);
    try {
      await capturePod(netns, script);
    } catch (err) {
      await proxy.close(0);
      throw err;
    }
    this.captured.set(captured.uid, { proxy, pod: captured, script });
    this.maybeStale.delete(captured.uid);
    this.o.log.info({ pod: name, ip, netns, ms: Math.round(performance.now() - started) }, 'pod captured');
  }

  private async release(uid: string, c: Captured, podStillThere: boolean): Promise<void> {
    this.captured.delete(uid);
    // Rules first so new connections flow plainly, then drain what the listeners still carry.
    if (podStillThere) {
      await releasePod(c.pod.netns).catch((err: unknown) => this.o.log.warn({ err: errorMessage(err) }, 'removing capture rules failed (namespace gone?)'));
    }
    await c.proxy.close(podStillThere ? this.o.drainMs : 0);
    this.forgetIdentityIfUnused(c.pod);
    this.o.log.info({ pod: `${c.pod.namespace}/${c.pod.name}` }, 'pod released');
  }

  private forgetIdentityIfUnused(p: CapturedPod): void {
    for (const c of this.captured.values()) if (c.pod.namespace === p.namespace && c.pod.serviceAccount === p.serviceAccount) return;
    this.o.services.certs.forget({ trustDomain: this.o.services.trustDomain, namespace: p.namespace, serviceAccount: p.serviceAccount });
  }

  /** A pod no longer enrolled that still carries rules from an earlier run (ztunnel was down when it left). */
  private async removeStaleRules(pod: V1Pod): Promise<void> {
    const netns = await findPodNetns(podIPs(pod)[0]!, pod.metadata?.uid).catch(() => undefined);
    if (netns && (await isCaptured(netns))) {
      await releasePod(netns);
      this.o.log.info({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}` }, 'removed capture rules left by an earlier run');
    }
  }

  list(): CapturedPodInfo[] {
    return [...this.captured.values()].map((c) => ({ ...c.pod, liveConnections: c.proxy.liveConnections }));
  }

  /**
   * Why this ztunnel (pod `podName` in `namespace`) is being uninstalled rather than replaced, or undefined
   * (uninstall.ts). Reads its own pod (from the informer: it runs on this node) for the owning DaemonSet.
   */
  async uninstalling(namespace: string, podName: string): Promise<string | undefined> {
    const ns = this.namespace(namespace);
    const own = this.pods().find((p) => p.metadata?.namespace === namespace && p.metadata?.name === podName);
    const dsName = own?.metadata?.ownerReferences?.find((r) => r.kind === 'DaemonSet')?.name;
    let daemonSet: DaemonSetState = 'unknown';
    if (dsName) {
      try {
        const ds = await this.o.kube.find<V1DaemonSet>(`/apis/apps/v1/namespaces/${namespace}/daemonsets/${dsName}`, undefined, { timeoutMs: 3000 });
        daemonSet = !ds ? 'gone' : ds.metadata?.deletionTimestamp ? 'deleting' : 'present';
      } catch (err) {
        this.o.log.warn({ err: errorMessage(err) }, 'cannot read my DaemonSet; keeping the capture rules');
      }
    }
    const namespaceTerminating = ns ? ns.metadata?.deletionTimestamp !== undefined && ns.metadata?.deletionTimestamp !== null : undefined;
    return uninstallReason({ namespaceTerminating, daemonSet }, { namespace, daemonSet: dsName });
  }

  /**
   * Stop watching and drain every pod's listeners. Rules stay (the next ztunnel re-adopts the pods), unless
   * `release`: an uninstall removes them first, so no pod is left redirecting into a proxy that is gone.
   */
  async stop(drainMs: number, release = false): Promise<void> {
    this.stopped = true;
    await this.watches?.stop();
    await Promise.allSettled([...this.queues.values()]);
    if (release) {
      await Promise.all([...this.captured.values()].map((c) => releasePod(c.pod.netns).catch((err: unknown) =>
        this.o.log.warn({ pod: `${c.pod.namespace}/${c.pod.name}`, err: errorMessage(err) }, 'removing capture rules failed'))));
      this.o.log.info({ pods: this.captured.size }, 'uninstall: capture rules removed from every pod');
    }
    await Promise.all([...this.captured.values()].map((c) => c.proxy.close(drainMs)));
    this.captured.clear();
  }
}
