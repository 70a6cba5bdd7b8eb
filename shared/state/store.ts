// The node proxy's copy of the control plane's state: workloads, services and authorizations as the xDS client
// applies them, with the indexes the data path queries (StateView). Every batch is validated before anything
// changes, so a refused batch leaves the last good state; the state keeps serving while xDS is disconnected.
import type { Address, Authorization, Service, Workload } from '../proto/types.ts';
import type { Endpoint, IpText, PolicyKey, ServiceKey, StateView } from './types.ts';
import { InvalidResourceError } from './errors.ts';
import { addressProblem, authorizationProblem } from './validate.ts';
import { scopeOf, serviceKeyOf, serviceVips, targetPort, workloadIps } from './lookups.ts';
import { dumpPolicy, dumpService, dumpWorkload, type StateDump } from './dump.ts';

/** What one apply changed: uids, service keys, policy keys (upserted or removed). */
export interface StateChange {
  workloads: string[];
  services: string[];
  policies: string[];
}

export interface AddressUpsert {
  name: string;
  address: Address;
  /** The xDS version, reported back as initial_resource_versions on reconnect. */
  version?: string;
}

export interface AuthorizationUpsert {
  name: string;
  authorization: Authorization;
  version?: string;
}

export type ResourceKind = 'address' | 'authorization';

type Listener = (c: StateChange) => void;

/** key → set of members: the shape of every secondary index. */
class MultiIndex<K, V> {
  readonly #m = new Map<K, Set<V>>();
  add(k: K, v: V): void {
    let s = this.#m.get(k);
    if (!s) this.#m.set(k, (s = new Set()));
    s.add(v);
  }
  delete(k: K, v: V): void {
    const s = this.#m.get(k);
    if (!s) return;
    s.delete(v);
    if (s.size === 0) this.#m.delete(k);
  }
  get(k: K): ReadonlySet<V> {
    return this.#m.get(k) ?? (NONE as ReadonlySet<V>); // lookups that miss (a client that is no workload) allocate nothing
  }
}

const NONE: ReadonlySet<unknown> = new Set();

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export class XdsState implements StateView {
  /** uid (= xDS name) → workload: the primary store of workloads. */
  readonly #workloads = new Map<string, Workload>();
  /** IP text → uids: inbound/outbound lookups by address; a host-network pod shares its node's IP, so a set. */
  readonly #workloadsByIp = new MultiIndex<IpText, string>();
  /** node name → uids: the workloads this node's proxy captures. */
  readonly #workloadsByNode = new MultiIndex<string, string>();
  /** `ns/hostname` (= xDS name) → service: the primary store of services. */
  readonly #services = new Map<ServiceKey, Service>();
  /** VIP text → service keys: outbound traffic to a ClusterIP; two services claiming one VIP is a conflict, smallest key wins. */
  readonly #servicesByVip = new MultiIndex<IpText, ServiceKey>();
  /** hostname → service keys: DNS and HBONE authority lookups; ServiceEntries may repeat a host across namespaces. */
  readonly #servicesByHostname = new MultiIndex<string, ServiceKey>();
  /** service key → uids listing it in Workload.services: endpoints arrive on workloads, not on the service. */
  readonly #endpoints = new MultiIndex<ServiceKey, string>();
  /** `ns/name` (= xDS name) → authorization: the primary store of policies. */
  readonly #policies = new Map<PolicyKey, Authorization>();
  /** namespace → NAMESPACE-scope policy keys: applied to every workload of that namespace. */
  readonly #policiesByNamespace = new MultiIndex<string, PolicyKey>();
  /** GLOBAL-scope policy keys: applied to every workload. */
  readonly #globalPolicies = new Set<PolicyKey>();
  /** xDS name → version, per type: what the xDS client reports as initial_resource_versions. */
  readonly #versions: Record<ResourceKind, Map<string, string>> = { address: new Map(), authorization: new Map() };
  readonly #listeners = new Set<Listener>();

  // ---- applying xDS deltas ----

  /** Apply one Address delta (removals first, then upserts). Throws InvalidResourceError, changing nothing, on a bad resource. */
  applyAddresses(upserts: readonly AddressUpsert[], removed: readonly string[]): StateChange {
    const problems = upserts.map((u) => addressProblem(u.name, u.address)).filter((p) => p !== undefined);
    if (problems.length > 0) throw new InvalidResourceError(problems.join('; '));
    const change: StateChange = { workloads: [], services: [], policies: [] };
    for (const name of removed) {
      if (this.#removeWorkload(name)) change.workloads.push(name);
      if (this.#removeService(name as ServiceKey)) change.services.push(name);
      this.#versions.address.delete(name);
    }
    for (const u of upserts) {
      // A name may switch between workload and service; whichever it was goes.
      if (this.#removeWorkload(u.name) && !u.address.workload) change.workloads.push(u.name);
      if (this.#removeService(u.name as ServiceKey) && !u.address.service) change.services.push(u.name);
      if (u.address.workload) {
        this.#addWorkload(u.address.workload);
        change.workloads.push(u.name);
      } else if (u.address.service) {
        this.#addService(u.address.service);
        change.services.push(u.name);
      }
      this.#versions.address.set(u.name, u.version ?? '');
    }
    this.#emit(change);
    return change;
  }

  /** Apply one Authorization delta (removals first, then upserts). Throws InvalidResourceError, changing nothing, on a bad resource. */
  applyAuthorizations(upserts: readonly AuthorizationUpsert[], removed: readonly string[]): StateChange {
    const problems = upserts.map((u) => authorizationProblem(u.name, u.authorization)).filter((p) => p !== undefined);
    if (problems.length > 0) throw new InvalidResourceError(problems.join('; '));
    const change: StateChange = { workloads: [], services: [], policies: [] };
    for (const name of removed) {
      if (this.#removePolicy(name as PolicyKey)) change.policies.push(name);
      this.#versions.authorization.delete(name);
    }
    for (const u of upserts) {
      this.#removePolicy(u.name as PolicyKey);
      this.#addPolicy(u.authorization);
      change.policies.push(u.name);
      this.#versions.authorization.set(u.name, u.version ?? '');
    }
    this.#emit(change);
    return change;
  }

  /**
   * Called after every apply that changed something. Returns the unsubscribe function. A listener that throws is
   * a bug: the error is rethrown outside the apply (uncaught), so the xDS exchange itself is not disturbed.
   */
  onChange(fn: Listener): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** xDS name → version of every resource of a kind held (version '' when applied without one). */
  resourceVersions(kind: ResourceKind): Record<string, string> {
    return Object.fromEntries(this.#versions[kind]);
  }

  // ---- StateView ----

  workloadByUid(uid: string): Workload | undefined {
    return this.#workloads.get(uid);
  }

  /** A pod's own address wins over a host-network workload on the same IP; else the latest inserted. */
  workloadByIp(ip: IpText): Workload | undefined {
    let found: Workload | undefined;
    for (const uid of this.#workloadsByIp.get(ip)) {
      const w = this.#workloads.get(uid)!;
      const hostDisplacingPod = w.networkMode === 'HOST_NETWORK' && found !== undefined && found.networkMode !== 'HOST_NETWORK';
      if (!hostDisplacingPod) found = w;
    }
    return found;
  }

  serviceByVip(ip: IpText): Service | undefined {
    return this.#first(this.#servicesByVip.get(ip));
  }

  serviceByKey(key: ServiceKey): Service | undefined {
    return this.#services.get(key);
  }

  /** The smallest `ns/hostname` key among services with this hostname, so the answer does not depend on arrival order. */
  serviceByHostname(hostname: string): Service | undefined {
    return this.#first(this.#servicesByHostname.get(hostname));
  }

  endpointsOf(key: ServiceKey, servicePort: number): Endpoint[] {
    const out: Endpoint[] = [];
    for (const uid of [...this.#endpoints.get(key)].sort(byText)) {
      const workload = this.#workloads.get(uid)!;
      const port = targetPort(workload.services?.[key], servicePort);
      if (port !== undefined) out.push({ workload, port });
    }
    return out;
  }

  policy(key: PolicyKey): Authorization | undefined {
    return this.#policies.get(key);
  }

  /** GLOBAL ∪ NAMESPACE(w.namespace) ∪ the policies w lists by name (as Istio ztunnel: listed ones apply whatever their scope). */
  policiesFor(w: Workload): Authorization[] {
    const keys = new Set<PolicyKey>(this.#globalPolicies);
    for (const k of this.#policiesByNamespace.get(w.namespace ?? '')) keys.add(k);
    for (const k of w.authorizationPolicies ?? []) keys.add(k as PolicyKey);
    const out: Authorization[] = [];
    for (const k of [...keys].sort(byText)) {
      const p = this.#policies.get(k);
      if (p) out.push(p);
    }
    return out;
  }

  workloadsOnNode(node: string): Workload[] {
    return [...this.#workloadsByNode.get(node)].sort(byText).map((uid) => this.#workloads.get(uid)!);
  }

  allWorkloads(): Iterable<Workload> {
    return this.#workloads.values();
  }

  allServices(): Iterable<Service> {
    return this.#services.values();
  }

  allPolicies(): Iterable<Authorization> {
    return this.#policies.values();
  }

  /** JSON-able config dump (Istio ztunnel's shape), sorted by key. */
  dump(): StateDump {
    const sorted = <K extends string, V>(m: Map<K, V>): V[] => [...m.keys()].sort(byText).map((k) => m.get(k)!);
    return {
      workloads: sorted(this.#workloads).map(dumpWorkload),
      services: sorted(this.#services).map((s) => {
        const key = serviceKeyOf(s);
        return dumpService(s, [...this.#endpoints.get(key)].sort(byText).map((uid) => this.#workloads.get(uid)!));
      }),
      policies: sorted(this.#policies).map(dumpPolicy),
    };
  }

  // ---- index maintenance: every insert is remove-then-add ----

  #addWorkload(w: Workload): void {
    this.#workloads.set(w.uid, w);
    for (const ip of workloadIps(w)) this.#workloadsByIp.add(ip, w.uid);
    if (w.node) this.#workloadsByNode.add(w.node, w.uid);
    for (const key of Object.keys(w.services ?? {})) this.#endpoints.add(key as ServiceKey, w.uid);
  }

  #removeWorkload(uid: string): boolean {
    const w = this.#workloads.get(uid);
    if (!w) return false;
    this.#workloads.delete(uid);
    for (const ip of workloadIps(w)) this.#workloadsByIp.delete(ip, uid);
    if (w.node) this.#workloadsByNode.delete(w.node, uid);
    for (const key of Object.keys(w.services ?? {})) this.#endpoints.delete(key as ServiceKey, uid);
    return true;
  }

  #addService(s: Service): void {
    const key = serviceKeyOf(s);
    this.#services.set(key, s);
    for (const ip of serviceVips(s)) this.#servicesByVip.add(ip, key);
    this.#servicesByHostname.add(s.hostname, key);
  }

  #removeService(key: ServiceKey): boolean {
    const s = this.#services.get(key);
    if (!s) return false;
    this.#services.delete(key);
    for (const ip of serviceVips(s)) this.#servicesByVip.delete(ip, key);
    this.#servicesByHostname.delete(s.hostname, key);
    return true;
  }

  #addPolicy(p: Authorization): void {
    const key = `${p.namespace}/${p.name}` as PolicyKey;
    this.#policies.set(key, p);
    const scope = scopeOf(p);
    if (scope === 'GLOBAL') this.#globalPolicies.add(key);
    else if (scope === 'NAMESPACE') this.#policiesByNamespace.add(p.namespace, key);
  }

  #removePolicy(key: PolicyKey): boolean {
    const p = this.#policies.get(key);
    if (!p) return false;
    this.#policies.delete(key);
    this.#globalPolicies.delete(key);
    this.#policiesByNamespace.delete(p.namespace, key);
    return true;
  }

  #first(keys: ReadonlySet<ServiceKey>): Service | undefined {
    let best: ServiceKey | undefined;
    for (const k of keys) if (best === undefined || k < best) best = k;
    return best === undefined ? undefined : this.#services.get(best);
  }

  #emit(change: StateChange): void {
    if (change.workloads.length + change.services.length + change.policies.length === 0) return;
    for (const fn of [...this.#listeners]) {
      try {
        fn(change);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
