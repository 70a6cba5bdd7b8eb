// The object store: every object by resource and namespace, one global resourceVersion counter, a bounded
// history of change events (for watches that resume from a resourceVersion) and the live watchers.
// Stored objects are never mutated after insertion: writers pass fresh objects, readers may share them.
type Obj = Record<string, any>;

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  rv: number;
  type: EventType;
  resource: string; // resourceKey(kind) = `group/plural`
  obj: Obj; // the object after the change (for DELETED: the last state, carrying the deletion's rv)
  old: Obj | undefined; // the object before the change (MODIFIED, DELETED)
}

export interface Watcher {
  resource: string;
  onEvent(e: StoreEvent): void;
}

export interface Snapshot {
  resourceVersion: number;
  objects: Record<string, Obj[]>; // resource → objects
}

const nsOf = (o: Obj): string => o.metadata?.namespace ?? '';

export class Store {
  private rv = 0;
  // Events at or before this rv may be missing from history; watches from older rvs get 410 Gone.
  private compacted = 0;
  // resource → namespace ('' for cluster-scoped) → name → object: lists by namespace touch only that namespace.
  private readonly data = new Map<string, Map<string, Map<string, Obj>>>();
  // owner uid → dependents as `resource\0namespace\0name`: garbage collection by ownerReferences.
  private readonly dependents = new Map<string, Set<string>>();
  // Change events in rv order, oldest first, at most `historyLimit` (trimmed in halves to stay amortised O(1)).
  private history: StoreEvent[] = [];
  // resource → watchers of it: a write notifies only watchers of its own resource.
  private readonly watchers = new Map<string, Set<Watcher>>();
  private readonly historyLimit: number;
  onChange: () => void = () => {};
  onWatcherError: (err: unknown) => void = () => {};

  constructor(historyLimit = 20_000) {
    this.historyLimit = historyLimit;
  }

  get resourceVersion(): number { return this.rv; }
  get compactedResourceVersion(): number { return this.compacted; }

  get(resource: string, namespace: string, name: string): Obj | undefined {
    return this.data.get(resource)?.get(namespace)?.get(name);
  }

  list(resource: string, namespace?: string): Obj[] {
    const byNs = this.data.get(resource);
    if (!byNs) return [];
    if (namespace !== undefined) return [...(byNs.get(namespace)?.values() ?? [])];
    const out: Obj[] = [];
    for (const m of byNs.values()) out.push(...m.values());
    return out;
  }

  /** Namespaced resources that hold objects in `namespace` (for namespace deletion). */
  resourcesIn(namespace: string): string[] {
    const out: string[] = [];
    for (const [r, byNs] of this.data) if ((byNs.get(namespace)?.size ?? 0) > 0) out.push(r);
    return out;
  }

  /** Dependents of an owner uid, as [resource, namespace, name]. */
  dependentsOf(uid: string): [string, string, string][] {
    return [...(this.dependents.get(uid) ?? [])].map((k) => k.split('\0') as [string, string, string]);
  }

  /** Stamp the next resourceVersion on `obj` (mutates the fresh object) and store it. */
  put(resource: string, obj: Obj): Obj {
    const ns = nsOf(obj);
    const name: string = obj.metadata.name;
    const old = this.get(resource, ns, name);
    obj.metadata.resourceVersion = String(++this.rv);
    if (old) this.unindex(resource, old);
    this.insert(resource, obj);
    this.emit({ rv: this.rv, type: old ? 'MODIFIED' : 'ADDED', resource, obj, old });
    return obj;
  }

  remove(resource: string, namespace: string, name: string): Obj | undefined {
    const old = this.get(resource, namespace, name);
    if (!old) return undefined;
    this.unindex(resource, old);
    const byNs = this.data.get(resource)!;
    byNs.get(namespace)!.delete(name);
    if (byNs.get(namespace)!.size === 0) byNs.delete(namespace);
    const last = { ...old, metadata: { ...old.metadata, resourceVersion: String(++this.rv) } };
    this.emit({ rv: this.rv, type: 'DELETED', resource, obj: last, old });
    return last;
  }

  /** Events of `resource` after `rv`, or undefined when history no longer reaches back that far. */
  eventsSince(resource: string, rv: number): StoreEvent[] | undefined {
    if (rv < this.compacted) return undefined;
    let lo = 0;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.history[mid]!.rv <= rv) lo = mid + 1; else hi = mid;
    }
    return this.history.slice(lo).filter((e) => e.resource === resource);
  }

  addWatcher(w: Watcher): () => void {
    let set = this.watchers.get(w.resource);
    if (!set) this.watchers.set(w.resource, (set = new Set()));
    set.add(w);
    return () => { set.delete(w); };
  }

  snapshot(): Snapshot {
    const objects: Record<string, Obj[]> = {};
    for (const r of this.data.keys()) objects[r] = this.list(r);
    return { resourceVersion: this.rv, objects };
  }

  /** Load a snapshot; the counter moves past it so every pre-restart resourceVersion is compacted (410). */
  load(s: Snapshot): void {
    for (const [r, objs] of Object.entries(s.objects)) for (const o of objs) this.insert(r, o);
    this.rv = s.resourceVersion + 1;
    this.compacted = this.rv;
  }

  private insert(resource: string, obj: Obj): void {
    let byNs = this.data.get(resource);
    if (!byNs) this.data.set(resource, (byNs = new Map()));
    let m = byNs.get(nsOf(obj));
    if (!m) byNs.set(nsOf(obj), (m = new Map()));
    m.set(obj.metadata.name, obj);
    for (const ref of (obj.metadata.ownerReferences ?? []) as Obj[]) {
      if (typeof ref.uid !== 'string') continue;
      let set = this.dependents.get(ref.uid);
      if (!set) this.dependents.set(ref.uid, (set = new Set()));
      set.add(`${resource}\0${nsOf(obj)}\0${obj.metadata.name}`);
    }
  }

  private unindex(resource: string, obj: Obj): void {
    for (const ref of (obj.metadata.ownerReferences ?? []) as Obj[]) {
      const set = this.dependents.get(ref.uid);
      set?.delete(`${resource}\0${nsOf(obj)}\0${obj.metadata.name}`);
      if (set?.size === 0) this.dependents.delete(ref.uid);
    }
  }

  private emit(e: StoreEvent): void {
    this.history.push(e);
    if (this.history.length > this.historyLimit) {
      const drop = this.history.length - Math.floor(this.historyLimit / 2);
      this.compacted = this.history[drop - 1]!.rv;
      this.history = this.history.slice(drop);
    }
    for (const w of this.watchers.get(e.resource) ?? []) {
      try {
        w.onEvent(e);
      } catch (err) {
        this.onWatcherError(err); // one broken watcher must not fail the write that woke it
      }
    }
    this.onChange();
  }
}
