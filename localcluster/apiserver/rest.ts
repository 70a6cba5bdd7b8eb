// The REST verbs over the store, independent of HTTP: get, list, create, update, patch, delete (with namespace
// and ownerReference cascades), deletecollection, plus the cluster's bootstrap objects. Objects go out
// "presented" at the apiVersion the client asked for; all versions of a kind share one stored object.
// Endpoints of `kubernetes` / `kube-dns` are the EndpointSlice controller's (localcluster/controllers/).
// Garbage collection is simplified: a dependent is deleted when any of its owners is deleted (Kubernetes waits
// for all owners); propagationPolicy Orphan skips it.
import type { Logger } from '../../shared/log.ts';
import { admitCreate, admitUpdate, cidrRange, type AdmissionContext } from './admission.ts';
import { apiVersionOf, BUILTIN_GROUPS, kindByGroupKind, resourceKey, type KindInfo } from './kinds.ts';
import { applyPatch, type PatchType } from './patch.ts';
import type { Predicate } from './selectors.ts';
import { ApiError, invalid, notFound } from './status.ts';
import { schemaOf, validateCustomResource } from './crd-schema.ts';
import type { Store } from './store.ts';

type Obj = Record<string, any>;

const crdKind = kindByGroupKind('apiextensions.k8s.io', 'CustomResourceDefinition')!;

export interface WriteOptions {
  dryRun?: boolean;
  /** Undeclared fields of a custom resource: pruned (Ignore, the default) or rejected (Strict). */
  fieldValidation?: 'Ignore' | 'Warn' | 'Strict';
}

export function present(kind: KindInfo, obj: Obj, version: string): Obj {
  const { apiVersion: _a, kind: _k, ...rest } = obj;
  return { apiVersion: apiVersionOf(kind.group, version), kind: kind.kind, ...rest };
}

function nsKey(kind: KindInfo, namespace: string | undefined): string {
  return kind.namespaced ? namespace ?? '' : '';
}

const byNsName = (a: Obj, b: Obj): number => {
  const ka = `${a.metadata.namespace ?? ''}/${a.metadata.name}`;
  const kb = `${b.metadata.namespace ?? ''}/${b.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
};

const namespacesKind = kindByGroupKind('', 'Namespace')!;
const servicesKind = kindByGroupKind('', 'Service')!;
const serviceAccountsKind = kindByGroupKind('', 'ServiceAccount')!;

export class Rest {
  readonly store: Store;
  private readonly serviceCidr: string;
  private readonly log: Logger;
  private readonly timers = new Set<NodeJS.Timeout>();
  namespaceDeletionDelayMs = 1000;

  constructor(store: Store, serviceCidr: string, log: Logger) {
    this.store = store;
    this.serviceCidr = serviceCidr;
    this.log = log;
  }

  get(kind: KindInfo, namespace: string | undefined, name: string): Obj {
    const o = this.store.get(resourceKey(kind), nsKey(kind, namespace), name);
    if (!o) throw notFound(kind.plural, name, kind.group);
    return o;
  }

  list(kind: KindInfo, namespace: string | undefined, pred?: Predicate): Obj[] {
    const items = this.store.list(resourceKey(kind), kind.namespaced ? namespace : undefined);
    return (pred ? items.filter(pred) : items).sort(byNsName);
  }

  private admissionContext(kind: KindInfo): AdmissionContext {
    const used = new Set<string>();
    const ports = new Set<number>();
    // Only Services allocate addresses; other writes skip the scan (pods updating status stay cheap).
    for (const s of kind === servicesKind ? this.store.list(resourceKey(servicesKind)) : []) {
      if (s.spec?.clusterIP && s.spec.clusterIP !== 'None') used.add(s.spec.clusterIP);
      for (const p of s.spec?.ports ?? []) if (p.nodePort) ports.add(p.nodePort);
    }
    return { now: new Date(), usedClusterIPs: used, serviceCidr: this.serviceCidr, usedNodePorts: ports };
  }

  private checkNamespace(kind: KindInfo, namespace: string | undefined): void {
    if (!kind.namespaced) return;
    if (!namespace) throw new ApiError('BadRequest', `${kind.plural} are namespaced; give a namespace in the URL or metadata.namespace`);
    const ns = this.store.get(resourceKey(namespacesKind), '', namespace);
    if (!ns) throw new ApiError('NotFound', `namespaces "${namespace}" not found`, { name: namespace, kind: 'namespaces' });
    if (ns.metadata.deletionTimestamp) {
      throw new ApiError('Forbidden', `${kind.plural} is forbidden: unable to create new content in namespace ${namespace} because it is being terminated; wait until it is gone, then recreate it`,
        { name: namespace, kind: 'namespaces' });
    }
  }

  private checkBodyKind(kind: KindInfo, body: Obj): void {
    if (body && typeof body === 'object' && typeof body.kind === 'string' && body.kind !== kind.kind) {
      throw new ApiError('BadRequest', `the body is a ${body.kind} but the URL is for ${kind.plural}; send it to the ${body.kind} endpoint`);
    }
  }

  /**
   * A custom resource whose CustomResourceDefinition is installed is validated against that CRD's schema and
   * pruned of undeclared fields (crd-schema.ts). Kinds served without an installed CRD are stored as sent.
   */
  private checkSchema(kind: KindInfo, obj: Obj, opts: WriteOptions): Obj {
    if (BUILTIN_GROUPS.has(kind.group)) return obj;
    const crd = this.store.get(resourceKey(crdKind), '', `${kind.plural}.${kind.group}`);
    if (!crd) return obj;
    const version = String(obj.apiVersion ?? '').split('/')[1] ?? '';
    const schema = schemaOf(crd, version) ?? schemaOf(crd, kind.versions[0]!);
    if (!schema) return obj;
    const { pruned, causes, unknown } = validateCustomResource(obj, schema);
    if (causes.length) throw invalid(kind.kind, String(obj.metadata?.name ?? ''), kind.group, causes);
    if (unknown.length && opts.fieldValidation === 'Strict') {
      throw new ApiError('BadRequest', `strict decoding error: ${unknown.map((u) => `unknown field "${u}"`).join(', ')}`);
    }
    return pruned as Obj;
  }

  create(kind: KindInfo, namespace: string | undefined, body: Obj, opts: WriteOptions = {}): Obj {
    this.checkBodyKind(kind, body);
    const ns = kind.namespaced ? namespace ?? body?.metadata?.namespace : undefined;
    const obj = this.checkSchema(kind, admitCreate(kind, structuredClone(body), ns, this.admissionContext(kind)), opts);
    this.checkNamespace(kind, obj.metadata.namespace);
    const existing = this.store.get(resourceKey(kind), nsKey(kind, obj.metadata.namespace), obj.metadata.name);
    if (existing) {
      throw new ApiError('AlreadyExists', `${kind.plural}${kind.group ? '.' + kind.group : ''} "${obj.metadata.name}" already exists`,
        { name: obj.metadata.name, group: kind.group, kind: kind.plural });
    }
    obj.apiVersion = apiVersionOf(kind.group, kind.versions[0]!);
    obj.kind = kind.kind;
    if (opts.dryRun) return obj;
    const stored = this.store.put(resourceKey(kind), obj);
    if (kind === namespacesKind) this.ensureDefaultServiceAccount(obj.metadata.name);
    return stored;
  }

  /** Every namespace gets a `default` ServiceAccount, as the service-account controller would make. */
  private ensureDefaultServiceAccount(ns: string): void {
    if (this.store.get(resourceKey(serviceAccountsKind), ns, 'default')) return;
    this.create(serviceAccountsKind, ns, { metadata: { name: 'default' } });
  }

  update(kind: KindInfo, namespace: string | undefined, name: string, body: Obj, subresource?: string, opts: WriteOptions = {}): Obj {
    this.checkBodyKind(kind, body);
    const old = this.get(kind, namespace, name);
    const next = this.checkSchema(kind, admitUpdate(kind, old, structuredClone(body), this.admissionContext(kind), subresource), opts);
    next.apiVersion = old.apiVersion;
    next.kind = kind.kind;
    if (opts.dryRun) return { ...next, metadata: { ...next.metadata, resourceVersion: old.metadata.resourceVersion } };
    if (JSON.stringify({ ...next, metadata: { ...next.metadata, resourceVersion: old.metadata.resourceVersion } }) === JSON.stringify(old)) {
      return old; // no-op writes keep the resourceVersion and wake no watcher, like Kubernetes
    }
    return this.store.put(resourceKey(kind), next);
  }

  patch(kind: KindInfo, version: string, namespace: string | undefined, name: string, type: PatchType, patch: unknown,
    subresource?: string, opts: WriteOptions = {}): { obj: Obj; created: boolean } {
    const old = this.store.get(resourceKey(kind), nsKey(kind, namespace), name);
    if (!old) {
      if (type !== 'apply' || subresource) throw notFound(kind.plural, name, kind.group);
      const body = structuredClone(patch) as Obj;
      body.metadata = { ...body.metadata, name };
      delete body.metadata.managedFields;
      return { obj: this.create(kind, namespace, body, opts), created: true };
    }
    if (type === 'apply' && (patch as Obj)?.metadata?.name && (patch as Obj).metadata.name !== name) {
      throw new ApiError('BadRequest', `the name of the object (${String((patch as Obj).metadata.name)}) does not match the name on the URL (${name})`);
    }
    const current = present(kind, old, version);
    if (type === 'apply' && (patch as Obj)?.metadata) delete (patch as Obj).metadata.managedFields;
    const patched = applyPatch(type, current, patch);
    if (!patched || typeof patched !== 'object' || Array.isArray(patched)) {
      throw new ApiError('BadRequest', 'the patch turned the object into a non-object; check the patch document');
    }
    // A patch that does not mention resourceVersion is unconditional.
    if (type !== 'json' && !(patch as Obj)?.metadata?.resourceVersion) patched.metadata = { ...patched.metadata, resourceVersion: undefined };
    if (subresource === 'status') patched.metadata = { ...patched.metadata, resourceVersion: undefined };
    return { obj: this.update(kind, namespace, name, patched, subresource, opts), created: false };
  }

  delete(kind: KindInfo, namespace: string | undefined, name: string, options: Obj = {}, opts: WriteOptions = {}): Obj {
    const old = this.get(kind, namespace, name);
    const pre = options.preconditions ?? {};
    if ((pre.uid && pre.uid !== old.metadata.uid) || (pre.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion)) {
      throw new ApiError('Conflict', `Precondition failed for ${kind.plural} "${name}": uid or resourceVersion does not match; read the object again`,
        { name, group: kind.group, kind: kind.plural });
    }
    if (opts.dryRun) return old;
    if (kind === namespacesKind) return this.terminateNamespace(old);
    const deleted = this.store.remove(resourceKey(kind), nsKey(kind, namespace), name)!;
    const orphan = options.propagationPolicy === 'Orphan' || options.orphanDependents === true;
    if (!orphan) this.collectDependents(old.metadata.uid, 0);
    return deleted;
  }

  /**
   * Namespaces terminate like Kubernetes: marked Terminating (no new content) and removed with their contents a
   * moment later, so `kubectl delete -f` of a manifest holding the namespace still finds the other objects.
   */
  private terminateNamespace(old: Obj): Obj {
    if (old.metadata.deletionTimestamp) return old;
    const term = structuredClone(old);
    term.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    term.metadata.deletionGracePeriodSeconds = 0;
    term.status = { ...term.status, phase: 'Terminating' };
    const stored = this.store.put(resourceKey(namespacesKind), term);
    this.scheduleFinalize(old.metadata.name);
    return stored;
  }

  private scheduleFinalize(ns: string): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      const cur = this.store.get(resourceKey(namespacesKind), '', ns);
      if (!cur?.metadata.deletionTimestamp) return;
      this.deleteNamespaceContents(ns);
      this.store.remove(resourceKey(namespacesKind), '', ns);
      this.collectDependents(cur.metadata.uid, 0);
    }, this.namespaceDeletionDelayMs);
    t.unref();
    this.timers.add(t);
  }

  /** Stop pending namespace finalizations (they resume from the persisted Terminating state on restart). */
  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  deleteCollection(kind: KindInfo, namespace: string | undefined, pred: Predicate | undefined, options: Obj, opts: WriteOptions): Obj[] {
    const items = this.list(kind, namespace, pred);
    if (opts.dryRun) return items;
    return items.map((o) => this.delete(kind, o.metadata.namespace, o.metadata.name, options));
  }

  private deleteNamespaceContents(ns: string): void {
    for (const r of this.store.resourcesIn(ns)) {
      for (const o of this.store.list(r, ns)) {
        this.store.remove(r, ns, o.metadata.name);
        this.collectDependents(o.metadata.uid, 0);
      }
    }
  }

  private collectDependents(uid: string, depth: number): void {
    if (depth > 16) {
      this.log.warn({ uid }, 'ownerReference chain deeper than 16; stopping garbage collection there');
      return;
    }
    for (const [r, ns, name] of this.store.dependentsOf(uid)) {
      const o = this.store.remove(r, ns, name);
      if (o) this.collectDependents(o.metadata.uid, depth + 1);
    }
  }

  /** Namespaces and Services every cluster has from its first start. Idempotent. */
  bootstrap(): void {
    for (const ns of this.store.list(resourceKey(namespacesKind))) {
      if (ns.metadata.deletionTimestamp) this.scheduleFinalize(ns.metadata.name);
    }
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      if (!this.store.get(resourceKey(namespacesKind), '', ns)) this.create(namespacesKind, undefined, { metadata: { name: ns } });
      else this.ensureDefaultServiceAccount(ns);
    }
    const [first] = cidrRange(this.serviceCidr);
    const ip = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor((first + n) / 2 ** s) % 256).join('.');
    const services: [string, string, Obj][] = [
      ['default', 'kubernetes', {
        metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
        spec: { clusterIP: ip(1), ports: [{ name: 'https', port: 443, targetPort: 6443, protocol: 'TCP' }] },
      }],
      ['kube-system', 'kube-dns', {
        metadata: { name: 'kube-dns', labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/name': 'CoreDNS' } },
        spec: {
          clusterIP: ip(10), selector: { 'k8s-app': 'kube-dns' },
          ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 }, { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 }],
        },
      }],
    ];
    for (const [ns, name, body] of services) {
      if (!this.store.get(resourceKey(servicesKind), ns, name)) this.create(servicesKind, ns, body);
    }
  }
}
