// Waypoint deployment: for every Gateway of class istio-waypoint, keeps its ServiceAccount, Deployment and Service
// (render.ts) in the cluster and writes the Gateway's status (status.ts); creates the istio-waypoint GatewayClass
// and marks it Accepted. Fed by the controller's informers through `event`; every replica keeps the same state, only
// the leader writes, and a replica that becomes leader re-checks everything.
//
// Writes go through shared/kube's client, so the local API server and a real one take the same path: create, or
// replace when the rendered hash changed (keeping the live replica count, cluster IP and other controllers' labels and
// annotations), never a field-by-field comparison with a defaulted object. Deletion of a Gateway removes its objects
// by ownerReference garbage collection (the local API server does it too); objects we manage whose Gateway is gone
// or no longer a waypoint are also deleted here, which covers a class change and clusters without a collector.
import type {
  KubernetesObject, V1Deployment, V1ObjectMeta, V1Pod, V1Service, V1ServiceAccount,
} from '@kubernetes/client-node';
import { isConflict, isNotFound, type KubeClient } from '../../../shared/kube/client.ts';
import type { Logger } from '../../../shared/log.ts';
import { errorMessage } from '../../../shared/errors.ts';
import { followLeadership } from '../../kube/leader.ts';
import type { EventType, WatchedKind } from '../../../shared/kube/watch.ts';
import {
  checkWaypointListeners, GATEWAY_NAME, MANAGED_LABEL, MANAGED_VALUE, RENDER_HASH, renderWaypoint, WAYPOINT_CLASS,
  WAYPOINT_CONTROLLER, type WaypointGateway, type WaypointRenderOptions,
} from './render.ts';
import { gatewayClassStatus, sameStatus, waypointGatewayClass, waypointStatus, type GatewayClassLike } from './status.ts';

/** The kinds `event` wants: the controller's informers already watch all but Deployments (waypointWatchedKinds). */
export const WAYPOINT_EVENT_KINDS: readonly string[] = ['Gateway', 'GatewayClass', 'Deployment', 'Service', 'ServiceAccount', 'Pod'];

/** Informers the controller must add for this reconciler: Deployments (apps/v1, all namespaces). */
export function waypointWatchedKinds(): WatchedKind[] {
  return [{ kind: 'Deployment', path: '/apis/apps/v1/deployments' }];
}

export interface WaypointReconcilerOptions {
  kube: KubeClient;
  render: WaypointRenderOptions;
  isLeader: () => boolean;
  log: Logger;
  /** Resolves once the informers feeding `event` have listed everything; nothing is written before (default: now). */
  synced?: Promise<void>;
  /** How often leadership is checked (default 1000 ms). */
  leaderPollMs?: number;
  domainSuffix?: string;
}

export interface WaypointReconciler {
  event(kind: string, type: EventType, obj: KubernetesObject): void;
  stop(): Promise<void>;
}

const GATEWAY_API = '/apis/gateway.networking.k8s.io/v1';
const MIN_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;
const CLASS_KEY = '\0class';

const keyOf = (m: V1ObjectMeta | undefined): string => `${m?.namespace ?? ''}/${m?.name ?? ''}`;
const splitKey = (key: string): [string, string] => {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
};
/** Kubernetes timestamps are RFC 3339 with second precision. */
const now = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Managed by this controller for Gateway `name`: Istio's managed label and a Gateway owner of that name. */
function managedFor(obj: KubernetesObject | undefined, name?: string): boolean {
  if (obj?.metadata?.labels?.[MANAGED_LABEL] !== MANAGED_VALUE) return false;
  return (obj.metadata.ownerReferences ?? []).some((r) => r.kind === 'Gateway' && (name === undefined || r.name === name));
}

type Managed = V1ServiceAccount | V1Deployment | V1Service;

interface Kind<T extends Managed> {
  label: string;
  cache: Map<string, T>;
  create(ns: string, body: T): Promise<T>;
  read(ns: string, name: string): Promise<T>;
  replace(ns: string, name: string, body: T): Promise<T>;
  remove(ns: string, name: string): Promise<unknown>;
  /** Fields of the live object a replace keeps. */
  keep(live: T, body: T): void;
}

export function startWaypointReconciler(o: WaypointReconcilerOptions): WaypointReconciler {
  const log = o.log;
  const kube = o.kube;
  /** create/read/replace/delete of one namespaced kind under its collection path. */
  const crud = <T>(collection: (ns: string) => string, deleteQuery?: Record<string, string>) => ({
    create: (ns: string, body: T) => kube.create<T>(collection(ns), body),
    read: (ns: string, name: string) => kube.get<T>(`${collection(ns)}/${name}`),
    replace: (ns: string, name: string, body: T) => kube.replace<T>(`${collection(ns)}/${name}`, body),
    remove: (ns: string, name: string) => kube.delete(`${collection(ns)}/${name}`, deleteQuery),
  });

  // Waypoint Gateways by ns/name (other classes are not kept).
  const gateways = new Map<string, WaypointGateway>();
  // The istio-waypoint GatewayClass, when it exists.
  let gatewayClass: GatewayClassLike | undefined;
  // Pods of waypoints by gateway ns/name, then pod name: only pods carrying the gateway-name label.
  const pods = new Map<string, Map<string, V1Pod>>();

  const serviceAccounts: Kind<V1ServiceAccount> = {
    label: 'serviceaccount', cache: new Map(),
    ...crud<V1ServiceAccount>((ns) => `/api/v1/namespaces/${ns}/serviceaccounts`),
    // Token controllers on older clusters list secrets here; keep whatever the cluster added.
    keep: (live, body) => {
      if (live.secrets) body.secrets = live.secrets;
      if (live.imagePullSecrets) body.imagePullSecrets = live.imagePullSecrets;
    },
  };
  const deployments: Kind<V1Deployment> = {
    label: 'deployment', cache: new Map(),
    ...crud<V1Deployment>((ns) => `/apis/apps/v1/namespaces/${ns}/deployments`, { propagationPolicy: 'Background' }),
    // The replica count is set at creation only: an HPA or `kubectl scale` owns it afterwards.
    keep: (live, body) => {
      if (body.spec && live.spec?.replicas !== undefined) body.spec.replicas = live.spec.replicas;
    },
  };
  const services: Kind<V1Service> = {
    label: 'service', cache: new Map(),
    ...crud<V1Service>((ns) => `/api/v1/namespaces/${ns}/services`),
    // The cluster IP is immutable; the API server would refuse a replace without it.
    keep: (live, body) => {
      if (!body.spec) return;
      if (live.spec?.clusterIP) body.spec.clusterIP = live.spec.clusterIP;
      if (live.spec?.clusterIPs) body.spec.clusterIPs = live.spec.clusterIPs;
      if (live.spec?.ipFamilies) body.spec.ipFamilies = live.spec.ipFamilies;
    },
  };
  const kinds = { ServiceAccount: serviceAccounts, Deployment: deployments, Service: services } as const;

  const dirty = new Set<string>();
  let stopped = false;
  let synced = o.synced === undefined;
  let leader = false;
  let draining: Promise<void> | undefined;
  let scheduled = false;
  let retryMs = MIN_RETRY_MS;
  let retryTimer: NodeJS.Timeout | undefined;

  const classIsForeign = (): boolean => !!gatewayClass && gatewayClass.spec?.controllerName !== WAYPOINT_CONTROLLER;

  const schedule = (): void => {
    if (scheduled || stopped) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      drain();
    });
  };
  const mark = (key: string): void => {
    if (!leader || !synced) return;
    dirty.add(key);
    schedule();
  };
  const markAll = (): void => {
    if (!leader || !synced) return;
    dirty.add(CLASS_KEY);
    for (const k of gateways.keys()) dirty.add(k);
    for (const kind of Object.values(kinds)) for (const [k, obj] of kind.cache) if (managedFor(obj)) dirty.add(k);
    schedule();
  };

  function drain(): void {
    if (draining || stopped || !synced || !leader) return;
    draining = run().finally(() => {
      draining = undefined;
    });
  }

  // One key at a time, so two writes for the same waypoint never race; keys marked meanwhile join the loop. A key that
  // fails waits for the retry timer (or its next event) without holding up the others.
  async function run(): Promise<void> {
    const failed = new Set<string>();
    // Leadership is re-read before every write: the poll may not have noticed a lost lease yet.
    while (leader && !stopped && o.isLeader()) {
      const key = [...dirty].find((k) => !failed.has(k));
      if (key === undefined) break;
      dirty.delete(key);
      try {
        if (key === CLASS_KEY) await reconcileClass();
        else await reconcileGateway(key);
      } catch (err) {
        log.warn({ waypoint: key === CLASS_KEY ? `gatewayclass/${WAYPOINT_CLASS}` : key, err: errorMessage(err), retryMs }, 'cannot reconcile waypoint; will retry');
        failed.add(key);
      }
    }
    for (const k of failed) dirty.add(k);
    if (failed.size && !stopped) {
      clearTimeout(retryTimer);
      retryTimer = setTimeout(drain, retryMs);
      retryTimer.unref();
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    } else if (!failed.size) {
      retryMs = MIN_RETRY_MS;
    }
  }

  async function reconcileClass(): Promise<void> {
    if (!gatewayClass) {
      try {
        gatewayClass = await kube.create<GatewayClassLike>(`${GATEWAY_API}/gatewayclasses`, waypointGatewayClass(WAYPOINT_CLASS));
        log.info({ gatewayClass: WAYPOINT_CLASS }, 'created waypoint GatewayClass');
      } catch (err) {
        if (!isConflict(err)) throw err;
        gatewayClass = await kube.get<GatewayClassLike>(`${GATEWAY_API}/gatewayclasses/${WAYPOINT_CLASS}`);
      }
    }
    const conditions = gatewayClassStatus(gatewayClass, now());
    if (!conditions) return;
    gatewayClass = await kube.patch<GatewayClassLike>(`${GATEWAY_API}/gatewayclasses/${WAYPOINT_CLASS}/status`, { status: { conditions } }, 'merge');
  }

  async function reconcileGateway(key: string): Promise<void> {
    if (classIsForeign()) return; // another controller implements istio-waypoint here
    const gw = gateways.get(key);
    const [ns, name] = splitKey(key);
    if (!gw) {
      await cleanup(ns, name);
      return;
    }
    const verdict = checkWaypointListeners(gw);
    if (verdict.ok) {
      const r = renderWaypoint(gw, o.render);
      // Service first: its cluster IP is what the status needs, and the pods' readiness takes longer anyway.
      await ensure(serviceAccounts, ns, name, r.serviceAccount);
      await ensure(services, ns, name, r.service);
      await ensure(deployments, ns, name, r.deployment);
    }
    const want = waypointStatus(gw, verdict, {
      deployment: deployments.cache.get(key), service: services.cache.get(key), pods: [...(pods.get(key)?.values() ?? [])],
    }, now(), o.domainSuffix);
    if (sameStatus(gw.status, want)) return;
    try {
      const updated = await kube.patch<WaypointGateway>(`${GATEWAY_API}/namespaces/${ns}/gateways/${name}/status`, { status: want }, 'merge');
      // Compare later events against what we wrote, so the status is not written twice before its event arrives.
      if (gateways.has(key)) gateways.set(key, updated);
    } catch (err) {
      if (!isNotFound(err)) throw err; // deleted meanwhile: its delete event follows
    }
  }

  async function ensure<T extends Managed>(kind: Kind<T>, ns: string, name: string, desired: T): Promise<void> {
    const key = `${ns}/${name}`;
    let live = kind.cache.get(key);
    if (!live) {
      try {
        kind.cache.set(key, await kind.create(ns, desired));
        log.info({ waypoint: key, kind: kind.label }, 'created waypoint object');
        return;
      } catch (err) {
        if (!isConflict(err)) throw err;
        live = await kind.read(ns, name); // exists but its event has not arrived yet
        kind.cache.set(key, live);
      }
    }
    if (live.metadata?.annotations?.[RENDER_HASH] === desired.metadata?.annotations?.[RENDER_HASH]) return;
    const body = structuredClone(desired);
    body.metadata = {
      ...body.metadata,
      resourceVersion: live.metadata?.resourceVersion,
      labels: { ...live.metadata?.labels, ...body.metadata?.labels },
      annotations: { ...live.metadata?.annotations, ...body.metadata?.annotations },
    };
    kind.keep(live, body);
    try {
      kind.cache.set(key, await kind.replace(ns, name, body));
      log.info({ waypoint: key, kind: kind.label }, 'updated waypoint object');
    } catch (err) {
      if (isConflict(err)) kind.cache.set(key, await kind.read(ns, name)); // changed under us: retry from the latest
      if (isNotFound(err)) kind.cache.delete(key); // deleted under us: create it on the retry
      throw err;
    }
  }

  async function cleanup(ns: string, name: string): Promise<void> {
    const key = `${ns}/${name}`;
    for (const kind of [deployments, services, serviceAccounts] as Kind<Managed>[]) {
      const live = kind.cache.get(key);
      if (!managedFor(live, name)) continue;
      try {
        await kind.remove(ns, name);
        log.info({ waypoint: key, kind: kind.label }, 'deleted waypoint object');
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      kind.cache.delete(key);
    }
  }

  const leadership = followLeadership(o.isLeader, (now) => {
    leader = now;
    if (leader) markAll();
    else dirty.clear();
  }, o.leaderPollMs);
  if (o.synced) {
    o.synced.then(() => {
      synced = true;
      leadership.recheck();
    }, () => {});
  } else {
    leadership.recheck();
  }

  return {
    event(kind, type, obj) {
      const key = keyOf(obj.metadata);
      switch (kind) {
        case 'Gateway': {
          const gw = obj as WaypointGateway;
          if (type !== 'delete' && gw.spec?.gatewayClassName === WAYPOINT_CLASS) gateways.set(key, gw);
          else if (!gateways.delete(key)) return; // never was a waypoint: nothing of ours to touch
          mark(key);
          return;
        }
        case 'GatewayClass':
          if (obj.metadata?.name !== WAYPOINT_CLASS) return;
          gatewayClass = type === 'delete' ? undefined : (obj as GatewayClassLike);
          markAll();
          return;
        case 'ServiceAccount':
        case 'Deployment':
        case 'Service': {
          const k = kinds[kind] as Kind<Managed>;
          if (type === 'delete') k.cache.delete(key);
          else k.cache.set(key, obj as Managed);
          if (gateways.has(key) || managedFor(obj)) mark(key);
          return;
        }
        case 'Pod': {
          const gwName = obj.metadata?.labels?.[GATEWAY_NAME];
          if (!gwName) return;
          const gwKey = `${obj.metadata?.namespace ?? ''}/${gwName}`;
          let m = pods.get(gwKey);
          if (type === 'delete') {
            m?.delete(obj.metadata?.name ?? '');
            if (m?.size === 0) pods.delete(gwKey);
          } else {
            if (!m) pods.set(gwKey, (m = new Map()));
            m.set(obj.metadata?.name ?? '', obj as V1Pod);
          }
          if (gateways.has(gwKey)) mark(gwKey);
          return;
        }
      }
    },
    async stop() {
      stopped = true;
      leadership.stop();
      clearTimeout(retryTimer);
      await draining;
    },
  };
}
