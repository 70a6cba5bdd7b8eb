// One watch stream: newline-delimited JSON events over a chunked 200 response. Replays history after the
// requested resourceVersion (or synthesises ADDED for current objects when none is given), then follows the
// store live. Selector transitions follow Kubernetes: an object that starts matching arrives as ADDED, one that
// stops matching as DELETED. Too-old resourceVersions get an ERROR event carrying a 410 Status, then the end.
import type { ServerResponse } from 'node:http';
import type { Predicate } from './selectors.ts';
import type { Store, StoreEvent, EventType } from './store.ts';
import { ApiError, statusBody } from './status.ts';

type Obj = Record<string, any>;

export interface WatchOptions {
  store: Store;
  resource: string;
  namespace: string | undefined;
  predicate: Predicate | undefined;
  resourceVersion: string | undefined;
  /** sendInitialEvents=true (watch-list): current objects as ADDED, then a BOOKMARK marking their end. */
  sendInitialEvents: boolean;
  bookmarks: boolean;
  bookmarkIntervalMs: number;
  timeoutSeconds: number;
  /** Wire form of one event's object (presented at the requested version, or a Table row). */
  encode: (obj: Obj, first: boolean) => Obj;
  bookmarkObject: (rv: string) => Obj;
  /** Open watches, so the server can end them all (dropWatches, close). */
  registry: Set<(abrupt?: boolean) => void>;
  /** Output buffered beyond this many bytes ends the watch (the client resumes from its last event). */
  maxBufferedBytes?: number;
}

export function parseResourceVersion(rv: string | undefined): number | undefined {
  if (rv === undefined || rv === '' || rv === '0') return undefined;
  if (!/^\d+$/.test(rv)) throw new ApiError('BadRequest', `invalid resourceVersion "${rv}"; use a value returned by a list or get`);
  return Number(rv);
}

/** What a selector-filtered watcher sees for one store event (pure). */
export function transition(e: StoreEvent, matches: (o: Obj) => boolean): EventType | undefined {
  const now = e.type !== 'DELETED' && matches(e.obj);
  const before = e.old !== undefined && matches(e.old);
  if (e.type === 'DELETED') return before ? 'DELETED' : undefined;
  if (now && before) return 'MODIFIED';
  if (now) return 'ADDED';
  if (before) return 'DELETED';
  return undefined;
}

export function serveWatch(res: ServerResponse, o: WatchOptions): void {
  const from = parseResourceVersion(o.resourceVersion);
  const matches = (obj: Obj): boolean =>
    (o.namespace === undefined || obj.metadata?.namespace === o.namespace) && (o.predicate === undefined || o.predicate(obj));
  const limit = o.maxBufferedBytes ?? 32 * 1024 * 1024;
  let first = true;
  let ended = false;

  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders(); // clients wait for headers before they consider the watch open

  const write = (type: string, obj: Obj): void => {
    if (ended) return;
    const body = type === 'ERROR' || type === 'BOOKMARK' ? obj : o.encode(obj, first);
    if (type !== 'ERROR' && type !== 'BOOKMARK') first = false;
    res.write(JSON.stringify({ type, object: body }) + '\n');
    if (res.writableLength > limit) end();
  };

  const timers: NodeJS.Timeout[] = [];
  let unsubscribe = (): void => {};
  const end = (abrupt = false): void => {
    if (ended) return;
    ended = true;
    unsubscribe();
    timers.forEach(clearTimeout);
    o.registry.delete(end);
    if (abrupt) res.destroy();
    else res.end();
  };
  o.registry.add(end);
  res.on('close', () => end());

  // Replay and subscribe in one synchronous step so no event falls between them.
  if (from === undefined || o.sendInitialEvents) {
    for (const obj of o.store.list(o.resource, o.namespace)) if (matches(obj)) write('ADDED', obj);
    if (o.sendInitialEvents) {
      const mark = o.bookmarkObject(String(o.store.resourceVersion));
      mark.metadata.annotations = { 'k8s.io/initial-events-end': 'true' };
      write('BOOKMARK', mark);
    }
  } else {
    const events = o.store.eventsSince(o.resource, from);
    if (!events) {
      write('ERROR', statusBody(new ApiError('Expired', `too old resource version: ${from} (${o.store.compactedResourceVersion})`)));
      end();
      return;
    }
    for (const e of events) {
      const t = transition(e, matches);
      if (t) write(t, e.obj);
    }
  }
  unsubscribe = o.store.addWatcher({
    resource: o.resource,
    onEvent: (e) => {
      const t = transition(e, matches);
      if (t) write(t, e.obj);
    },
  });
  if (o.bookmarks) {
    const tick = (): void => {
      write('BOOKMARK', o.bookmarkObject(String(o.store.resourceVersion)));
      timers[0] = setTimeout(tick, o.bookmarkIntervalMs);
    };
    timers[0] = setTimeout(tick, o.bookmarkIntervalMs);
  }
  timers[1] = setTimeout(() => end(), o.timeoutSeconds * 1000);
}
