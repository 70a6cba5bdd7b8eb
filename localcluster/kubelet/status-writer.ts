// Coalescing status writer: any number of `changed()` calls while a write is in flight lead to at
// most one more write, and a document identical to the last one written is never sent. Failed
// writes are retried (1 s apart) until they succeed, the object is gone (404), or `signal` aborts.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../shared/log.ts';
import { errorMessage } from '../../shared/errors.ts';

export class StatusWriter<T> {
  private readonly compute: () => T;
  private readonly write: (doc: T) => Promise<void>;
  private readonly signal: AbortSignal;
  private readonly log: Logger;
  private readonly retryMs: number;
  private last = '';
  private dirty = false;
  private running: Promise<void> | undefined;

  constructor(opts: { compute: () => T; write: (doc: T) => Promise<void>; signal: AbortSignal; log: Logger; retryMs?: number }) {
    this.compute = opts.compute;
    this.write = opts.write;
    this.signal = opts.signal;
    this.log = opts.log;
    this.retryMs = opts.retryMs ?? 1000;
  }

  changed(): void {
    this.dirty = true;
    if (this.running) return;
    // Cleared in a continuation, not inside flush: flush may finish synchronously.
    const p = this.flush().finally(() => {
      if (this.running !== p) return;
      this.running = undefined;
      if (this.dirty && !this.signal.aborted) this.changed(); // a change that arrived as flush was finishing
    });
    this.running = p;
  }

  /** Resolves when no write is pending (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async flush(): Promise<void> {
    try {
      while (this.dirty && !this.signal.aborted) {
        this.dirty = false;
        const doc = this.compute();
        const json = JSON.stringify(doc);
        if (json === this.last) continue;
        try {
          await this.write(doc);
          this.last = json;
        } catch (err) {
          if ((err as { code?: number }).code === 404) return;
          this.log.warn({ err: errorMessage(err) }, 'status write failed; retrying');
          this.dirty = true;
          await sleep(this.retryMs, undefined, { signal: this.signal });
        }
      }
    } catch (err) {
      if (!(err instanceof Error && err.name === 'AbortError')) this.log.error({ err: errorMessage(err) }, 'status computation failed');
    }
  }
}
