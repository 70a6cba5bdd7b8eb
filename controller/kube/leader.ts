// Leader election on a coordination.k8s.io Lease, so two controller replicas can run and only one writes
// status. `decideLease` is the pure decision; `startLeaderElection` renews or takes over the Lease on a timer
// (optimistic concurrency: a conflict means someone else won this round).
import type { V1Lease } from '@kubernetes/client-node';
import type { KubeClient } from '../../shared/kube/client.ts';
import type { Logger } from '../../shared/log.ts';
import { errorMessage } from '../../shared/errors.ts';

export type LeaseDecision = 'create' | 'renew' | 'takeover' | 'follow';

export function decideLease(lease: V1Lease | undefined, me: string, nowMs: number): LeaseDecision {
  if (!lease) return 'create';
  const holder = lease.spec?.holderIdentity;
  if (holder === me) return 'renew';
  const renewed = lease.spec?.renewTime ? new Date(lease.spec.renewTime as unknown as string).getTime() : 0;
  const durationMs = (lease.spec?.leaseDurationSeconds ?? 15) * 1000;
  if (!holder || renewed + durationMs < nowMs) return 'takeover';
  return 'follow';
}

export interface LeaderElection {
  isLeader(): boolean;
  stop(): Promise<void>;
}

export function startLeaderElection(o: {
  kube: KubeClient; namespace: string; name: string; identity: string; log: Logger;
  leaseDurationSeconds?: number; retryMs?: number; onChange?: (leader: boolean) => void;
}): LeaderElection {
  const leases = `/apis/coordination.k8s.io/v1/namespaces/${o.namespace}/leases`;
  /** MicroTime: RFC 3339 with exactly six fractional digits (the API server refuses JavaScript's three). */
  const microTime = (d = new Date()): string => d.toISOString().replace(/Z$/, '000Z');
  const duration = o.leaseDurationSeconds ?? 15;
  let leader = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const set = (v: boolean): void => {
    if (v === leader) return;
    leader = v;
    o.log.info({ lease: `${o.namespace}/${o.name}`, identity: o.identity, leader: v }, v ? 'became leader' : 'lost leadership');
    o.onChange?.(v);
  };
  const spec = (acquire: boolean, old?: V1Lease) => ({
    holderIdentity: o.identity,
    leaseDurationSeconds: duration,
    renewTime: microTime() as never,
    acquireTime: (acquire ? microTime() : old?.spec?.acquireTime ?? microTime()) as never,
    leaseTransitions: (old?.spec?.leaseTransitions ?? 0) + (acquire && old ? 1 : 0),
  });
  const round = async (): Promise<void> => {
    const lease = await o.kube.find<V1Lease>(`${leases}/${o.name}`);
    const d = decideLease(lease, o.identity, Date.now());
    if (d === 'follow') return set(false);
    if (d === 'create') {
      await o.kube.create(leases, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: o.name, namespace: o.namespace }, spec: spec(true) });
    } else {
      await o.kube.replace(`${leases}/${o.name}`, { ...lease!, spec: spec(d === 'takeover', lease) });
    }
    set(true);
  };
  const loop = (): void => {
    if (stopped) return;
    round().catch((err: unknown) => {
      // A conflict (someone else renewed first) or an unreachable API: not leader until a round succeeds.
      o.log.debug({ err: errorMessage(err) }, 'lease round failed');
      set(false);
    }).finally(() => {
      if (!stopped) timer = setTimeout(loop, o.retryMs ?? 2000);
    });
  };
  loop();
  return {
    isLeader: () => leader,
    async stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/**
 * Follow this replica's leadership for a leader-only writer: `onChange(leader)` when it flips (polled every
 * `pollMs`), and `recheck()` to report the current state again (e.g. once the writer's informers have synced and it
 * must re-examine everything).
 */
export function followLeadership(isLeader: () => boolean, onChange: (leader: boolean) => void, pollMs = 1000): { recheck(): void; stop(): void } {
  let last = false;
  const check = (): void => {
    const now = isLeader();
    if (now === last) return;
    last = now;
    onChange(now);
  };
  const poll = setInterval(check, pollMs);
  poll.unref();
  return {
    recheck() {
      last = false;
      check();
    },
    stop: () => clearInterval(poll),
  };
}
