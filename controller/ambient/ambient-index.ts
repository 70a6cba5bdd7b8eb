// AmbientIndex: the input collections (pods, services, namespaces, nodes, service entries, workload entries,
// gateways) and the Addresses projected from them, kept up to date incrementally. An input change recomputes only
// the objects that read it; `changes()` reports the resource names whose projected Address actually changed.
import type { V1Namespace, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import { logger, type Logger } from '../../shared/log.ts';
import type { Address } from './address-types.ts';
import { fingerprint } from './fingerprint.ts';
import type { AmbientOptions, Gateway, ServiceEntry, WorkloadEntry } from './inputs.ts';
import { GATEWAY_NAME, selectsNonEmpty } from './labels.ts';
import { resolveOptions, type Lookups, type ResolvedOptions } from './lookups.ts';
import { serviceFromKube, serviceResourceName, servicesFromServiceEntry } from './services.ts';
import { waypointRef } from './waypoints.ts';
import { workloadFromPod, workloadFromWorkloadEntry, workloadsFromServiceEntry } from './workloads.ts';

export type InputKind = 'Pod' | 'Service' | 'Namespace' | 'Node' | 'ServiceEntry' | 'WorkloadEntry' | 'Gateway';

interface InputTypes {
  Pod: V1Pod;
  Service: V1Service;
  Namespace: V1Namespace;
  Node: V1Node;
  ServiceEntry: ServiceEntry;
  WorkloadEntry: WorkloadEntry;
  Gateway: Gateway;
}

type AnyInput = InputTypes[InputKind];
// Kinds that produce Addresses; a "source" is `<kind>:<key>`.
type SourceKind = 'Pod' | 'Service' | 'ServiceEntry' | 'WorkloadEntry';
const NAMESPACED: readonly InputKind[] = ['Pod', 'Service', 'ServiceEntry', 'WorkloadEntry', 'Gateway'];

export interface AmbientIndexOptions extends AmbientOptions {
  /** Selector-based authorization policy names (`<ns>/<name>`) applying to a workload; default none. */
  policies?: (namespace: string, labels: Record<string, string>) => string[];
  log?: Logger;
}

interface Projected {
  address: Address;
  fp: string;
  source: string;
}

/** `<ns>/<name>` for namespaced kinds, `<name>` for Namespace and Node. */
export function inputKey(kind: InputKind, obj: AnyInput): string {
  const name = obj.metadata?.name ?? '';
  return NAMESPACED.includes(kind) ? `${obj.metadata?.namespace ?? ''}/${name}` : name;
}

export class AmbientIndex {
  readonly #opts: ResolvedOptions;
  readonly #policies: (namespace: string, labels: Record<string, string>) => string[];
  readonly #log: Logger;
  // kind → key → object: the informer caches this index derives from.
  readonly #inputs = new Map<InputKind, Map<string, AnyInput>>();
  // kind → namespace → keys: the namespace index every per-namespace lookup goes through.
  readonly #byNamespace = new Map<InputKind, Map<string, Set<string>>>();
  // resource name → projected Address (with its fingerprint and producing source).
  readonly #outputs = new Map<string, Projected>();
  // source → resource names it produced last time: what to delete when it stops producing them.
  readonly #owned = new Map<string, Set<string>>();
  // resource name → every source that produces it (two ServiceEntries may declare one host): who takes over on delete.
  readonly #claims = new Map<string, Set<string>>();
  readonly #changes = new Set<string>();
  // subject → last warning, so a persistent problem is logged once rather than on every recompute.
  readonly #warned = new Map<string, string>();
  readonly #lookups: Lookups;

  constructor(opts: AmbientIndexOptions) {
    this.#opts = resolveOptions(opts);
    this.#policies = opts.policies ?? (() => []);
    this.#log = opts.log ?? logger('controller.ambient');
    this.#lookups = {
      namespace: (name) => this.#get('Namespace', name),
      node: (name) => this.#get('Node', name),
      gateway: (ns, name) => this.#get('Gateway', `${ns}/${name}`),
      services: (ns) => this.#inNamespace('Service', ns),
      serviceEntries: (ns) => this.#inNamespace('ServiceEntry', ns),
      policies: (ns, labels) => this.#policies(ns, labels),
      warn: (subject, reason) => {
        if (this.#warned.get(subject) === reason) return;
        this.#warned.set(subject, reason);
        this.#log.warn({ subject, reason }, 'ambient binding skipped');
      },
    };
  }

  /** Add or replace an input object, and recompute what reads it. */
  upsert<K extends InputKind>(kind: K, obj: InputTypes[K]): void {
    const key = inputKey(kind, obj);
    const old = this.#get(kind, key);
    this.#store(kind, key, obj);
    this.#recompute(this.#affected(kind, key, old, obj));
  }

  /** Remove an input object by key (`<ns>/<name>`, or `<name>` for Namespace/Node), and recompute what read it. */
  remove(kind: InputKind, key: string): void {
    const old = this.#get(kind, key);
    if (!old) return;
    this.#unstore(kind, key, old);
    this.#recompute(this.#affected(kind, key, old, undefined));
  }

  /** Authorization policies changed: recompute the workloads of one namespace, or all (root namespace policies). */
  policiesChanged(namespace?: string): void {
    const sources = new Set<string>();
    for (const kind of ['Pod', 'WorkloadEntry', 'ServiceEntry'] as const) {
      const keys = namespace === undefined ? this.#inputs.get(kind)?.keys() ?? [] : this.#byNamespace.get(kind)?.get(namespace) ?? [];
      for (const k of keys) sources.add(`${kind}:${k}`);
    }
    this.#recompute(sources);
  }

  /** Every projected Address by resource name (Workload uid, or `<namespace>/<hostname>`). */
  addresses(): Map<string, Address> {
    return new Map([...this.#outputs].map(([name, p]) => [name, p.address]));
  }

  /** One projected Address by resource name. */
  get(name: string): Address | undefined {
    return this.#outputs.get(name)?.address;
  }

  /** The resource names whose projected Address changed (added, updated or removed) since the last call; drains. */
  changes(): Set<string> {
    const out = new Set(this.#changes);
    this.#changes.clear();
    return out;
  }

  #get<K extends InputKind>(kind: K, key: string): InputTypes[K] | undefined {
    return this.#inputs.get(kind)?.get(key) as InputTypes[K] | undefined;
  }

  *#inNamespace<K extends InputKind>(kind: K, ns: string): Iterable<InputTypes[K]> {
    for (const key of this.#byNamespace.get(kind)?.get(ns) ?? []) {
      const o = this.#get(kind, key);
      if (o) yield o;
    }
  }

  #store(kind: InputKind, key: string, obj: AnyInput): void {
    let m = this.#inputs.get(kind);
    if (!m) this.#inputs.set(kind, (m = new Map()));
    m.set(key, obj);
    if (!NAMESPACED.includes(kind)) return;
    let byNs = this.#byNamespace.get(kind);
    if (!byNs) this.#byNamespace.set(kind, (byNs = new Map()));
    const ns = obj.metadata?.namespace ?? '';
    let keys = byNs.get(ns);
    if (!keys) byNs.set(ns, (keys = new Set()));
    keys.add(key);
  }

  #unstore(kind: InputKind, key: string, obj: AnyInput): void {
    this.#inputs.get(kind)?.delete(key);
    const ns = obj.metadata?.namespace ?? '';
    const keys = this.#byNamespace.get(kind)?.get(ns);
    keys?.delete(key);
    if (keys?.size === 0) this.#byNamespace.get(kind)?.delete(ns);
  }

  /** Sources whose projection may read the changed input (old or new version). */
  #affected(kind: InputKind, key: string, old: AnyInput | undefined, cur: AnyInput | undefined): Set<string> {
    const out = new Set<string>();
    const ns = (cur ?? old)?.metadata?.namespace ?? '';
    const selected = (selectors: (Record<string, string> | undefined)[]): void => {
      for (const p of this.#inNamespace('Pod', ns)) {
        if (selectors.some((s) => selectsNonEmpty(s, p.metadata?.labels))) out.add(`Pod:${inputKey('Pod', p)}`);
      }
      for (const we of this.#inNamespace('WorkloadEntry', ns)) {
        const labels = { ...we.metadata?.labels, ...we.spec?.labels };
        if (selectors.some((s) => selectsNonEmpty(s, labels))) out.add(`WorkloadEntry:${inputKey('WorkloadEntry', we)}`);
      }
    };
    switch (kind) {
      case 'Pod':
      case 'WorkloadEntry':
        out.add(`${kind}:${key}`);
        break;
      case 'Service':
        out.add(`Service:${key}`);
        selected([(old as V1Service | undefined)?.spec?.selector, (cur as V1Service | undefined)?.spec?.selector]);
        break;
      case 'ServiceEntry':
        out.add(`ServiceEntry:${key}`);
        selected([(old as ServiceEntry | undefined)?.spec?.workloadSelector?.labels, (cur as ServiceEntry | undefined)?.spec?.workloadSelector?.labels]);
        break;
      case 'Namespace':
        for (const k of ['Pod', 'Service', 'ServiceEntry', 'WorkloadEntry'] as const) {
          for (const o of this.#inNamespace(k, key)) out.add(`${k}:${inputKey(k, o)}`);
        }
        break;
      case 'Node':
        for (const [k, p] of this.#inputs.get('Pod') ?? []) {
          if ((p as V1Pod).spec?.nodeName === key) out.add(`Pod:${k}`);
        }
        break;
      case 'Gateway': {
        const gwName = (cur ?? old)?.metadata?.name ?? '';
        for (const k of ['Pod', 'Service', 'ServiceEntry', 'WorkloadEntry'] as const) {
          for (const [objKey, o] of this.#inputs.get(k) ?? []) {
            const meta = o.metadata;
            const labels = k === 'WorkloadEntry' ? { ...meta?.labels, ...(o as WorkloadEntry).spec?.labels } : meta?.labels;
            const ref = waypointRef({ ...meta, labels }, this.#get('Namespace', meta?.namespace ?? ''));
            const instance = k === 'Pod' && meta?.namespace === ns && meta.labels?.[GATEWAY_NAME] === gwName;
            if (instance || (ref?.namespace === ns && ref.name === gwName)) out.add(`${k}:${objKey}`);
          }
        }
        break;
      }
    }
    return out;
  }

  #derive(source: string): Map<string, Address> {
    const colon = source.indexOf(':');
    const kind = source.slice(0, colon) as SourceKind;
    const key = source.slice(colon + 1);
    const out = new Map<string, Address>();
    const L = this.#lookups;
    switch (kind) {
      case 'Pod': {
        const pod = this.#get('Pod', key);
        const w = pod && workloadFromPod(pod, this.#opts, L);
        if (w) out.set(w.uid, { workload: w });
        break;
      }
      case 'WorkloadEntry': {
        const we = this.#get('WorkloadEntry', key);
        if (we) {
          const w = workloadFromWorkloadEntry(we, this.#opts, L);
          out.set(w.uid, { workload: w });
        }
        break;
      }
      case 'Service': {
        const svc = this.#get('Service', key);
        if (svc) {
          const s = serviceFromKube(svc, this.#opts, L);
          out.set(serviceResourceName(s), { service: s });
        }
        break;
      }
      case 'ServiceEntry': {
        const se = this.#get('ServiceEntry', key);
        if (se) {
          for (const s of servicesFromServiceEntry(se, this.#opts, L)) out.set(serviceResourceName(s), { service: s });
          for (const w of workloadsFromServiceEntry(se, this.#opts, L)) out.set(w.uid, { workload: w });
        }
        break;
      }
    }
    return out;
  }

  #recompute(sources: Iterable<string>): void {
    const orphaned = new Set<string>();
    for (const source of sources) {
      const next = this.#derive(source);
      const prev = this.#owned.get(source) ?? new Set<string>();
      for (const name of prev) {
        if (next.has(name)) continue;
        const claims = this.#claims.get(name);
        claims?.delete(source);
        if (claims?.size === 0) this.#claims.delete(name);
        if (this.#outputs.get(name)?.source !== source) continue;
        this.#outputs.delete(name);
        this.#changes.add(name);
        // Another source still declares this name: it takes over below.
        for (const other of claims ?? []) orphaned.add(other);
      }
      for (const [name, address] of next) {
        let claims = this.#claims.get(name);
        if (!claims) this.#claims.set(name, (claims = new Set()));
        claims.add(source);
        const cur = this.#outputs.get(name);
        // The first claimant keeps a contested name until it lets go.
        if (cur && cur.source !== source && this.#owned.get(cur.source)?.has(name)) continue;
        const fp = fingerprint(address);
        if (cur?.fp !== fp) this.#changes.add(name);
        this.#outputs.set(name, { address, fp, source });
      }
      if (next.size > 0) this.#owned.set(source, new Set(next.keys()));
      else this.#owned.delete(source);
    }
    if (orphaned.size > 0) this.#recompute(orphaned);
  }
}
