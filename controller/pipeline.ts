// The controller's pipeline: Kubernetes events → the ambient index (Workloads, Services) and the policy
// conversion (Authorizations) → the delta ADS store. Only projected resources are compared, so an event
// that changes nothing a ztunnel sees pushes nothing; bursts of events are flushed together.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../shared/log.ts';
import { AmbientIndex, validateServiceEntry, validateWorkloadEntry, type InputKind, type AmbientOptions } from './ambient/index.ts';
import {
  convertAuthorizationPolicy, convertPeerAuthentication, policiesForWorkload, staticStrictPolicy,
  type PolicyResource, type PolicyStatus,
} from './policy/index.ts';
import { ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL, encodeAddress, encodeAuthorization } from '../shared/proto/index.ts';
import { WAYPOINT_CONFIG_TYPE_URL } from '../shared/waypoint/config.ts';
import { encodeWaypointConfig } from '../shared/waypoint/codec.ts';
import type { EventType } from './kube/watch.ts';
import { WaypointCompiler } from './waypoint/compiler.ts';
import type { ConfigVerdict, KubeObject } from './waypoint/verdict.ts';
import type { BypassPolicy } from './waypoint/bypass.ts';

/** What the pipeline needs from the xDS server. */
export interface ResourceSink {
  update(typeUrl: string, upserts: ReadonlyArray<{ name: string; resource: Buffer }>, removals: readonly string[]): string[];
}

export interface PolicyVerdict {
  kind: 'AuthorizationPolicy' | 'PeerAuthentication' | 'ServiceEntry' | 'WorkloadEntry';
  namespace: string;
  name: string;
  generation?: number;
  status: PolicyStatus;
}

export interface PipelineOptions extends AmbientOptions {
  rootNamespace: string;
  sink: ResourceSink;
  log: Logger;
  /** Called after a flush with the verdict of every policy whose verdict changed (the status writer). */
  onVerdicts?: (v: PolicyVerdict[]) => void;
  /** Called after a flush with the verdict of every waypoint config object whose verdict changed. */
  onWaypointVerdicts?: (v: ConfigVerdict[]) => void;
  /** Quiet period before a flush (default 10 ms; the xDS server debounces pushes on top). */
  flushDelayMs?: number;
}

const indexKinds = new Set<string>(['Pod', 'Service', 'Namespace', 'Node', 'ServiceEntry', 'WorkloadEntry', 'Gateway']);
const key = (o: KubernetesObject): string => (o.metadata?.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : String(o.metadata?.name));

export class Pipeline {
  readonly index: AmbientIndex;
  readonly #o: PipelineOptions;
  readonly #authorizationPolicies = new Map<string, PolicyResource>();
  readonly #peerAuthentications = new Map<string, PolicyResource>();
  #policiesDirty = false;
  /** The policy maps as lists, rebuilt once per policy change (not once per workload derived). */
  #policyLists: { authorizationPolicies: PolicyResource[]; peerAuthentications: PolicyResource[] } = { authorizationPolicies: [], peerAuthentications: [] };
  #timer: NodeJS.Timeout | undefined;
  /** Names of Authorizations currently published. */
  #published = new Set<string>();
  /** Last verdict per policy key, so status is written only when it changes. */
  readonly #verdicts = new Map<string, string>();
  readonly waypoints: WaypointCompiler;
  /** Names of WaypointConfigs currently published. */
  #publishedWaypoints = new Set<string>();
  #bypass: BypassPolicy[] = [];
  #bypassFingerprint = '[]';
  readonly #waypointVerdicts = new Map<string, string>();

  constructor(o: PipelineOptions) {
    this.#o = o;
    this.index = new AmbientIndex({
      clusterId: o.clusterId, trustDomain: o.trustDomain, network: o.network, domainSuffix: o.domainSuffix, log: o.log,
      policies: (ns, labels) => policiesForWorkload(labels, ns, this.#policyLists, { rootNamespace: o.rootNamespace }),
    });
    this.waypoints = new WaypointCompiler({ clusterId: o.clusterId, trustDomain: o.trustDomain, network: o.network, domainSuffix: o.domainSuffix, rootNamespace: o.rootNamespace });
  }

  event(kind: string, type: EventType, obj: KubernetesObject): void {
    if (this.waypoints.event(kind, type, obj as KubeObject)) this.#schedule();
    if ((kind === 'ServiceEntry' || kind === 'WorkloadEntry') && type !== 'delete' && !this.#admit(kind, obj)) return;
    if (indexKinds.has(kind)) {
      if (type === 'delete') this.index.remove(kind as InputKind, key(obj));
      else this.index.upsert(kind as InputKind, obj as never);
    } else if (kind === 'AuthorizationPolicy' || kind === 'PeerAuthentication') {
      const map = kind === 'AuthorizationPolicy' ? this.#authorizationPolicies : this.#peerAuthentications;
      if (type === 'delete') map.delete(key(obj));
      else map.set(key(obj), obj as PolicyResource);
      this.#policiesDirty = true;
    } else {
      return; // watched for later issues (routes, destination rules …): nothing for ztunnel yet
    }
    this.#schedule();
  }

  /**
   * Validate a ServiceEntry/WorkloadEntry. An invalid one is not indexed: the last good version (if any) keeps
   * being served, and the verdict goes to the status writer; a valid one is admitted.
   */
  #admit(kind: 'ServiceEntry' | 'WorkloadEntry', obj: KubernetesObject): boolean {
    const spec = (obj as { spec?: unknown }).spec;
    const status = kind === 'ServiceEntry' ? validateServiceEntry(spec) : validateWorkloadEntry(spec);
    const meta = obj.metadata ?? {};
    if (!status.accepted) this.#o.log.warn({ kind, name: `${meta.namespace}/${meta.name}`, message: status.message }, 'rejected invalid config; serving the last good version');
    const k = `${kind}/${meta.namespace}/${meta.name}`;
    const fingerprint = JSON.stringify([status, meta.generation]);
    if (this.#verdicts.get(k) !== fingerprint && (!status.accepted || this.#verdicts.has(k))) {
      this.#verdicts.set(k, fingerprint);
      this.#o.onVerdicts?.([{ kind, namespace: meta.namespace ?? '', name: meta.name ?? '', generation: meta.generation, status }]);
    }
    return status.accepted;
  }

  #schedule(): void {
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.flush();
    }, this.#o.flushDelayMs ?? 10);
  }

  /** Push everything that changed since the last flush. */
  flush(): void {
    if (this.waypoints.dirty) this.#flushWaypoints();
    if (this.#policiesDirty) {
      this.#policiesDirty = false;
      this.#policyLists = { authorizationPolicies: [...this.#authorizationPolicies.values(), ...this.#bypass], peerAuthentications: [...this.#peerAuthentications.values()] };
      this.#publishPolicies();
      this.index.policiesChanged(); // the projected Workloads are compared: only real changes go out
    }
    const upserts: Array<{ name: string; resource: Buffer }> = [];
    const removals: string[] = [];
    for (const name of this.index.changes()) {
      const a = this.index.get(name);
      if (a) upserts.push({ name, resource: encodeAddress(a) });
      else removals.push(name);
    }
    if (upserts.length || removals.length) this.#o.sink.update(ADDRESS_TYPE_URL, upserts, removals);
  }

  /** Waypoint configs, their objects' verdicts, and the bypass policies (which feed the L4 policies). */
  #flushWaypoints(): void {
    const r = this.waypoints.compile();
    const upserts = [...r.configs].map(([name, c]) => ({ name, resource: encodeWaypointConfig(c) }));
    const removals = [...this.#publishedWaypoints].filter((n) => !r.configs.has(n));
    this.#o.sink.update(WAYPOINT_CONFIG_TYPE_URL, upserts, removals);
    this.#publishedWaypoints = new Set(r.configs.keys());
    const fingerprint = JSON.stringify(r.bypass);
    if (fingerprint !== this.#bypassFingerprint) {
      this.#bypassFingerprint = fingerprint;
      this.#bypass = r.bypass;
      this.#policiesDirty = true;
    }
    const changed: ConfigVerdict[] = [];
    const live = new Set<string>();
    for (const v of r.verdicts) {
      const k = `${v.kind}/${v.namespace}/${v.name}`;
      live.add(k);
      const f = JSON.stringify(v);
      if (this.#waypointVerdicts.get(k) === f) continue;
      this.#waypointVerdicts.set(k, f);
      changed.push(v);
      if (!v.accepted) this.#o.log.warn({ kind: v.kind, name: `${v.namespace}/${v.name}`, reason: v.reason, message: v.message }, 'waypoint config rejected');
    }
    for (const k of this.#waypointVerdicts.keys()) if (!live.has(k)) this.#waypointVerdicts.delete(k);
    if (changed.length) this.#o.onWaypointVerdicts?.(changed);
  }

  #publishPolicies(): void {
    const opts = { rootNamespace: this.#o.rootNamespace };
    const desired = new Map<string, Buffer>();
    const verdicts: PolicyVerdict[] = [];
    const convert = (kind: PolicyVerdict['kind'], p: PolicyResource): void => {
      const c = kind === 'AuthorizationPolicy'
        ? convertAuthorizationPolicy(p, opts)
        : convertPeerAuthentication(p, { ...opts, peerAuthentications: this.#policyLists.peerAuthentications });
      if (c.authorization && c.resourceName) desired.set(c.resourceName, encodeAuthorization(c.authorization));
      if (!c.status.accepted) this.#o.log.warn({ kind, policy: `${p.metadata.namespace}/${p.metadata.name}`, reason: c.status.reason, message: c.status.message }, 'policy not applied as written');
      const k = `${kind}/${p.metadata.namespace}/${p.metadata.name}`;
      const fingerprint = JSON.stringify([c.status, (p.metadata as { generation?: number }).generation]);
      if (this.#verdicts.get(k) !== fingerprint) {
        this.#verdicts.set(k, fingerprint);
        verdicts.push({ kind, namespace: p.metadata.namespace, name: p.metadata.name, generation: (p.metadata as { generation?: number }).generation, status: c.status });
      }
    };
    for (const p of this.#authorizationPolicies.values()) convert('AuthorizationPolicy', p);
    for (const p of this.#bypass) {
      const c = convertAuthorizationPolicy(p, opts);
      if (c.authorization && c.resourceName) desired.set(c.resourceName, encodeAuthorization(c.authorization));
    }
    for (const p of this.#peerAuthentications.values()) convert('PeerAuthentication', p);
    if (this.#peerAuthentications.size > 0) {
      const s = staticStrictPolicy(opts);
      desired.set(s.resourceName, encodeAuthorization(s.authorization));
    }
    const live = new Set([...this.#authorizationPolicies.keys()].map((k) => `AuthorizationPolicy/${k}`).concat([...this.#peerAuthentications.keys()].map((k) => `PeerAuthentication/${k}`)));
    for (const k of this.#verdicts.keys()) if (k.startsWith('AuthorizationPolicy/') || k.startsWith('PeerAuthentication/')) if (!live.has(k)) this.#verdicts.delete(k);
    const removals = [...this.#published].filter((n) => !desired.has(n));
    this.#o.sink.update(AUTHORIZATION_TYPE_URL, [...desired].map(([name, resource]) => ({ name, resource })), removals);
    this.#published = new Set(desired.keys());
    if (verdicts.length) this.#o.onVerdicts?.(verdicts);
  }

  stop(): void {
    clearTimeout(this.#timer);
  }
}
