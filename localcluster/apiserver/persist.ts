// Persistence of the store: one JSON snapshot (objects + resourceVersion counter) in stateDir, written
// atomically (tmp + rename), debounced after changes and once more on close.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../shared/log.ts';
import { errorMessage, MeshError } from '../../shared/errors.ts';
import type { Snapshot, Store } from './store.ts';

const FILE = 'objects.json';

export class StateError extends MeshError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('APISERVER_STATE_CORRUPT', message, options);
  }
}

export function loadSnapshot(dir: string): Snapshot | undefined {
  const path = join(dir, FILE);
  if (!existsSync(path)) return undefined;
  try {
    const s = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
    if (typeof s.resourceVersion !== 'number' || typeof s.objects !== 'object') throw new Error('missing resourceVersion or objects');
    return s;
  } catch (err) {
    throw new StateError(`api server state ${path} is unreadable (${errorMessage(err)}); move it away to start with an empty cluster`, { cause: err });
  }
}

export function saveSnapshot(dir: string, s: Snapshot): void {
  const path = join(dir, FILE);
  writeFileSync(`${path}.tmp`, JSON.stringify(s));
  renameSync(`${path}.tmp`, path);
}

/** Debounced writer: at most one snapshot per `delayMs` while changes keep coming. */
export class Persister {
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;
  private readonly dir: string;
  private readonly store: Store;
  private readonly log: Logger;
  private readonly delayMs: number;

  constructor(dir: string, store: Store, log: Logger, delayMs = 500) {
    this.dir = dir;
    this.store = store;
    this.log = log;
    this.delayMs = delayMs;
  }

  changed(): void {
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => { this.timer = undefined; this.flush(); }, this.delayMs);
    this.timer.unref();
  }

  flush(): void {
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    if (!this.dirty) return;
    this.dirty = false;
    try {
      saveSnapshot(this.dir, this.store.snapshot());
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'could not persist api objects; will retry on the next change');
      this.dirty = true;
    }
  }
}
