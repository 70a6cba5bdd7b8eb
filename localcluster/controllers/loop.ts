// A reconcile loop: debounced (bursts of events → one run), never concurrent with itself
// (an event during a run queues exactly one more), retried after a failure.
import type { Logger } from '../../shared/log.ts';
import { errorMessage } from '../../shared/errors.ts';

export interface Loop {
  trigger(): void;
  stop(): Promise<void>;
}

export function reconcileLoop(name: string, reconcile: () => Promise<void>, log: Logger, debounceMs = 20, retryMs = 1000): Loop {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  const schedule = (ms: number): void => {
    if (stopped || timer) return;
    timer = setTimeout(run, ms);
  };
  const run = (): void => {
    timer = undefined;
    if (running) { again = true; return; }
    running = reconcile()
      .catch((err) => { log.warn({ controller: name, err: errorMessage(err) }, 'reconcile failed; retrying'); schedule(retryMs); })
      .finally(() => {
        running = undefined;
        if (again) { again = false; schedule(debounceMs); }
      });
  };
  return {
    trigger: () => schedule(debounceMs),
    async stop() { stopped = true; clearTimeout(timer); await running; },
  };
}
