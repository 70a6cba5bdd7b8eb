// One kind's list-then-watch cache over KubeClient, with the semantics of client-node's ListWatch: the first list
// is delivered as `add` events before start() resolves; the watch resumes from the last resourceVersion seen
// (bookmarks advance it) when the server ends the stream; a 410 Gone re-lists and emits only the differences;
// any other failure emits `error` and retries with backoff (500 ms doubling to 30 s, reset by a success).
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log.ts';
import { isGone, type KubeClient, type Query } from './client.ts';

export interface InformerObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

export interface InformerOptions {
  fieldSelector?: string;
  labelSelector?: string;
  log?: Logger;
}

/** Retry delays after a failure: doubling from the start to the cap (also used for a failed first list, watch.ts). */
export const BACKOFF_START_MS = 500;
export const BACKOFF_MAX_MS = 30_000;

/** Cache key of an object: `namespace/name` (`/name` for cluster-scoped kinds). */
export const keyOf = (o: InformerObject): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

export interface Diff<T> { added: T[]; updated: T[]; deleted: T[] }

/** What a re-list changed relative to the cache (pure): vanished, new, and objects whose resourceVersion moved. */
export function diffList<T extends InformerObject>(cache: ReadonlyMap<string, T>, fresh: readonly T[]): Diff<T> & { next: Map<string, T> } {
  const next = new Map<string, T>();
  for (const o of fresh) next.set(keyOf(o), o);
  const d: Diff<T> & { next: Map<string, T> } = { added: [], updated: [], deleted: [], next };
  for (const [k, old] of cache) if (!next.has(k)) d.deleted.push(old);
  for (const [k, o] of next) {
    const old = cache.get(k);
    if (!old) d.added.push(o);
    else if (!sameVersion(old, o)) d.updated.push(o);
  }
  return d;
}

function sameVersion(a: InformerObject, b: InformerObject): boolean {
  const rv = a.metadata?.resourceVersion;
  return rv !== undefined && rv === b.metadata?.resourceVersion;
}

export class Informer<T extends InformerObject> extends EventEmitter {
  private readonly client: KubeClient;
  private readonly path: string;
  private readonly opts: InformerOptions;
  // namespace/name → the latest object seen.
  private cache = new Map<string, T>();
  // Where the next watch starts; '' means "re-list first" (initially, and after a 410).
  private resourceVersion = '';
  private backoffMs = BACKOFF_START_MS;
  private stopCtl?: AbortController;
  private loop?: Promise<void>;

  constructor(client: KubeClient, path: string, opts: InformerOptions = {}) {
    super();
    this.client = client;
    this.path = path;
    this.opts = opts;
  }

  override on(event: 'add' | 'update' | 'delete', listener: (obj: T) => void): this;
  override on(event: 'error', listener: (err: unknown) => void): this;
  override on(event: string, listener: (...args: any[]) => void): this {
    return super.on(event, listener);
  }

  /** List, deliver every object as `add`, then watch in the background. Rejects if that first list fails. */
  async start(): Promise<void> {
    if (this.stopCtl) throw new Error('informer already started');
    const ctl = new AbortController();
    this.stopCtl = ctl;
    try {
      await this.relist();
    } catch (err) {
      this.stopCtl = undefined;
      throw err;
    }
    this.loop = this.run(ctl.signal);
  }

  /** Abort the watch and stop retrying; the cache keeps its last state. */
  async stop(): Promise<void> {
    const ctl = this.stopCtl;
    if (!ctl) return;
    ctl.abort();
    await this.loop;
    this.stopCtl = undefined;
    this.loop = undefined;
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  get(name: string, namespace?: string): T | undefined {
    return this.cache.get(`${namespace ?? ''}/${name}`);
  }

  /** The resourceVersion the next watch resumes from ('' when a re-list is due). */
  latestResourceVersion(): string {
    return this.resourceVersion;
  }

  private selectors(): Query {
    const q: Query = {};
    if (this.opts.fieldSelector !== undefined) q.fieldSelector = this.opts.fieldSelector;
    if (this.opts.labelSelector !== undefined) q.labelSelector = this.opts.labelSelector;
    return q;
  }

  private async relist(signal?: AbortSignal): Promise<void> {
    // The signal abandons the list itself, so stop() during a re-list returns at once, not when the list is in.
    const list = await this.client.list<T>(this.path, this.selectors(), signal ? { signal } : {});
    if (signal?.aborted) return; // stopped while listing: deliver nothing more
    const d = diffList(this.cache, list.items);
    this.cache = d.next;
    this.resourceVersion = list.metadata.resourceVersion ?? '';
    this.backoffMs = BACKOFF_START_MS;
    for (const o of d.deleted) this.emit('delete', o);
    for (const o of d.added) this.emit('add', o);
    for (const o of d.updated) this.emit('update', o);
  }

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        if (!this.resourceVersion) await this.relist(signal);
        if (signal.aborted) break;
        // The server ends the watch after 5-10 min (spread, as client-go does), and we resume from the last rv.
        const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
        const opened = Date.now();
        let events = 0;
        await this.client.watch(this.path, { ...this.selectors(), resourceVersion: this.resourceVersion, allowWatchBookmarks: true, timeoutSeconds },
          (type, obj) => { events++; this.onEvent(type, obj); }, signal);
        // A server that ends every watch at once, empty, would have us spin; pause as after a failure (not reported).
        if (events === 0 && Date.now() - opened < 1000 && !signal.aborted) {
          await sleep(this.backoffMs, undefined, { signal }).catch(() => {});
          this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
        } else {
          this.backoffMs = BACKOFF_START_MS;
        }
      } catch (err) {
        if (signal.aborted) break;
        if (isGone(err)) {
          this.opts.log?.info({ path: this.path, resourceVersion: this.resourceVersion }, 'watch resourceVersion expired; re-listing');
          this.resourceVersion = '';
          continue;
        }
        const retryMs = this.backoffMs;
        this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
        this.opts.log?.warn({ path: this.path, err: (err as Error)?.message ?? String(err), retryMs }, 'watch failed; retrying');
        // Without a listener, EventEmitter would throw an 'error' event; the log line above is the report then.
        if (this.listenerCount('error') > 0) this.emit('error', err);
        try {
          await sleep(retryMs, undefined, { signal });
        } catch {
          break; // stopped
        }
      }
    }
  }

  // The cache and resourceVersion move before listeners run, so a throwing listener loses nothing on resume.
  private onEvent(type: string, obj: T): void {
    switch (type) {
      case 'ADDED':
      case 'MODIFIED': {
        this.advance(obj);
        const k = keyOf(obj);
        const old = this.cache.get(k);
        if (old && sameVersion(old, obj)) return;
        this.cache.set(k, obj);
        this.backoffMs = BACKOFF_START_MS;
        this.emit(old ? 'update' : 'add', obj);
        return;
      }
      case 'DELETED': {
        this.advance(obj);
        const k = keyOf(obj);
        if (!this.cache.delete(k)) return;
        this.backoffMs = BACKOFF_START_MS;
        this.emit('delete', obj);
        return;
      }
      case 'BOOKMARK':
        this.advance(obj);
        return;
      default:
        // ERROR: the client rejects the watch right after delivering it (410 → re-list, else backoff).
        return;
    }
  }

  private advance(obj: InformerObject): void {
    const rv = obj?.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
  }
}
