// Poll until `fn` stops throwing (or returns a truthy value), for convergence assertions.
import { setTimeout as sleep } from 'node:timers/promises';

export async function eventually<T>(fn: () => T | Promise<T>, timeoutMs = 10_000, intervalMs = 50): Promise<Exclude<T, undefined | null | false>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== false && v !== undefined && v !== null) return v as Exclude<T, undefined | null | false>;
      last = new Error(`condition returned ${String(v)}`);
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`eventually: gave up after ${timeoutMs} ms`, { cause: last });
    }
    await sleep(intervalMs);
  }
}
