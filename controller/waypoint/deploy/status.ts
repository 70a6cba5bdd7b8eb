// The status a waypoint Gateway and the istio-waypoint GatewayClass should carry, from what the cluster shows (the
// Deployment's ready replicas, the Service's cluster IP, the pods). Pure; the reconciler writes the result when it
// differs from the live status.
//
// The address rule is Istio's: a waypoint gets its Service's cluster IP in `status.addresses` once its Deployment has
// a ready replica, and keeps it afterwards while the Service keeps that IP. ztunnel routes to a waypoint only through
// that address; dropping it when the pods go unready would make traffic skip the waypoint (and its L7 policy), while
// keeping it makes traffic fail until a pod is ready again.
import type { V1Deployment, V1Pod, V1Service } from '@kubernetes/client-node';
import {
  canonical, HBONE_PORT, WAYPOINT_CONTROLLER,
  type Condition, type GatewayStatus, type ListenerStatus, type WaypointGateway, type WaypointVerdict,
} from './render.ts';

export interface Observed {
  deployment?: V1Deployment;
  service?: V1Service;
  /** The waypoint's pods (label gateway.networking.k8s.io/gateway-name), for saying why it is not ready. */
  pods?: V1Pod[];
}

type Draft = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

/** Keep a condition's lastTransitionTime while its status stays the same (Kubernetes' convention). */
function settle(drafts: Draft[], previous: Condition[] | undefined, generation: number | undefined, now: string): Condition[] {
  return drafts.map((d) => {
    const prev = previous?.find((p) => p.type === d.type);
    const lastTransitionTime = prev && prev.status === d.status && prev.lastTransitionTime ? prev.lastTransitionTime : now;
    return { ...d, ...(generation !== undefined ? { observedGeneration: generation } : {}), lastTransitionTime };
  });
}

/** The cluster IP of a Service, when it has one (not headless, assigned). */
export function clusterIP(svc: V1Service | undefined): string | undefined {
  const ip = svc?.spec?.clusterIP;
  return ip && ip !== 'None' ? ip : undefined;
}

function isReady(pod: V1Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Why the first not-ready pod is not ready, in the words `kubectl get pods` uses. */
function podProblem(pods: V1Pod[] | undefined): string {
  const pod = [...(pods ?? [])].filter((p) => !isReady(p) && !p.metadata?.deletionTimestamp)
    .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))[0];
  if (!pod) return '';
  const states = pod.status?.containerStatuses ?? [];
  const why = states.map((c) => c.state?.waiting?.reason ?? c.state?.terminated?.reason).find(Boolean)
    ?? (states.some((c) => c.state?.running) ? 'running, not ready yet' : pod.status?.phase ?? 'Pending');
  return `; pod ${pod.metadata?.name}: ${why}`;
}

/** The whole status of a waypoint Gateway (addresses, Accepted, Programmed, listeners). */
export function waypointStatus(gw: WaypointGateway, verdict: WaypointVerdict, seen: Observed, now: string, domainSuffix = 'cluster.local'): GatewayStatus {
  const name = gw.metadata?.name ?? '';
  const ns = gw.metadata?.namespace ?? '';
  const generation = gw.metadata?.generation;
  const ip = clusterIP(seen.service);
  const want = seen.deployment?.spec?.replicas ?? 1;
  const ready = seen.deployment?.status?.readyReplicas ?? 0;
  const hadAddress = !!ip && (gw.status?.addresses ?? []).some((a) => a.value === ip);
  const addresses = ip && (ready >= 1 || hadAddress) ? [{ type: 'IPAddress', value: ip }] : [];

  const accepted: Draft = verdict.ok
    ? { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'Resource accepted' }
    : { type: 'Accepted', status: 'False', reason: 'Invalid', message: verdict.message };
  let programmed: Draft;
  if (!verdict.ok) {
    programmed = { type: 'Programmed', status: 'False', reason: 'Invalid', message: 'not deployed: the Gateway is not accepted (see its Accepted condition)' };
  } else if (!seen.deployment) {
    programmed = { type: 'Programmed', status: 'False', reason: 'Pending', message: `waiting for deployment ${ns}/${name} to be created` };
  } else if (!ip) {
    programmed = { type: 'Programmed', status: 'False', reason: 'Pending', message: `waiting for service ${ns}/${name} to be assigned a cluster IP` };
  } else if (ready < 1) {
    programmed = {
      type: 'Programmed', status: 'False', reason: 'Pending',
      message: `waiting for a ready replica of deployment ${ns}/${name} (${ready}/${want} ready)${podProblem(seen.pods)}`,
    };
  } else {
    programmed = {
      type: 'Programmed', status: 'True', reason: 'Programmed',
      message: `Resource programmed, assigned to service(s) ${name}.${ns}.svc.${domainSuffix}:${HBONE_PORT}`,
    };
  }

  const previousListeners = gw.status?.listeners ?? [];
  const listeners: ListenerStatus[] = (gw.spec?.listeners ?? []).map((l, index) => {
    const problem = verdict.ok ? undefined : verdict.problems.find((p) => p.index === index);
    const drafts: Draft[] = problem
      ? [
        { type: 'Accepted', status: 'False', reason: problem.reason, message: problem.message },
        { type: 'Programmed', status: 'False', reason: 'Invalid', message: 'listener not accepted' },
      ]
      : [
        { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'No errors found' },
        { ...programmed, type: 'Programmed', ...(programmed.reason === 'Programmed' ? { message: 'No errors found' } : {}) },
      ];
    drafts.push(
      { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: 'No errors found' },
      { type: 'Conflicted', status: 'False', reason: 'NoConflicts', message: 'No errors found' },
    );
    const lname = l.name ?? '';
    return {
      name: lname,
      supportedKinds: [],
      attachedRoutes: 0,
      conditions: settle(drafts, previousListeners.find((p) => p.name === lname)?.conditions, generation, now),
    };
  });

  return { addresses, conditions: settle([accepted, programmed], gw.status?.conditions, generation, now), listeners };
}

/** True when the live status already says what `want` says (key order and absent-vs-empty lists aside). */
export function sameStatus(live: GatewayStatus | undefined, want: GatewayStatus): boolean {
  const norm = (s: GatewayStatus | undefined) => canonical({ a: s?.addresses ?? [], c: s?.conditions ?? [], l: s?.listeners ?? [] });
  return norm(live) === norm(want);
}

export interface GatewayClassLike {
  metadata?: { name?: string; generation?: number };
  spec?: { controllerName?: string; description?: string };
  status?: { conditions?: Condition[] };
}

/** The istio-waypoint GatewayClass as Istio creates it. */
export function waypointGatewayClass(name: string): GatewayClassLike & { apiVersion: string; kind: string } {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GatewayClass',
    metadata: { name },
    spec: { controllerName: WAYPOINT_CONTROLLER, description: 'The default Istio waypoint GatewayClass' },
  };
}

/** The conditions our GatewayClass should carry, or undefined when the live one already says it (or it is not ours). */
export function gatewayClassStatus(cls: GatewayClassLike, now: string): Condition[] | undefined {
  if (cls.spec?.controllerName !== WAYPOINT_CONTROLLER) return undefined;
  const conditions = settle(
    [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'Handled by Istio controller' }],
    cls.status?.conditions, cls.metadata?.generation, now,
  );
  const live = (cls.status?.conditions ?? []).find((c) => c.type === 'Accepted');
  return live && canonical(live) === canonical(conditions[0]) ? undefined : conditions;
}
