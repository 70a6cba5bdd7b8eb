// kube-proxy for one node: renders the node's nftables script (proxy-rules.ts) and applies it inside the node's
// netns with `ip netns exec <ns> nft -f -`. Updates are debounced; identical scripts are not re-applied.
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { silent, type Logger } from '../../shared/log.ts';
import { errorMessage } from '../../shared/errors.ts';
import { run } from './exec.ts';
import { PROXY_TABLE, renderProxyRules } from './proxy-rules.ts';

export type ScriptApplier = (netns: string, script: string) => Promise<void>;

/** Default applier: one atomic `nft -f -` transaction inside the netns. */
export const nftApply: ScriptApplier = async (netns, script) => {
  await run('ip', ['netns', 'exec', netns, 'nft', '-f', '-'], script);
};

export interface KubeProxyOptions {
  netns: string;
  /** Collapse bursts of updates into one apply (default 50 ms; 0 applies on the next tick). */
  debounceMs?: number;
  /** After a failed apply, retry the same snapshot after this long (default 1000 ms, doubling up to 30 s). */
  retryMs?: number;
  apply?: ScriptApplier;
  log?: Logger;
}

export class KubeProxy {
  readonly netns: string;
  readonly #debounceMs: number;
  readonly #apply: ScriptApplier;
  readonly #log: Logger;
  readonly #retryMs: number;
  #failures = 0;
  #pending: { services: readonly V1Service[]; slices: readonly V1EndpointSlice[] } | undefined;
  #timer: NodeJS.Timeout | undefined;
  #applied: string | undefined;
  #chain: Promise<void> = Promise.resolve();
  #applies = 0;
  #stopped = false;

  constructor(opts: KubeProxyOptions) {
    this.netns = opts.netns;
    this.#debounceMs = opts.debounceMs ?? 50;
    this.#apply = opts.apply ?? nftApply;
    this.#log = opts.log ?? silent;
    this.#retryMs = opts.retryMs ?? 1000;
  }

  /** How many scripts were actually applied (identical ones are skipped). */
  get applies(): number {
    return this.#applies;
  }

  /** The last script applied, if any. */
  get script(): string | undefined {
    return this.#applied;
  }

  /** Schedule a sync to this snapshot of Services and EndpointSlices (the latest snapshot wins). */
  update(services: readonly V1Service[], slices: readonly V1EndpointSlice[]): void {
    if (this.#stopped) return;
    this.#pending = { services, slices };
    if (!this.#timer) this.#timer = setTimeout(() => this.#flushNow(), this.#debounceMs);
  }

  /** Apply any pending snapshot now and wait until every apply so far has finished. Rejects if the last one failed. */
  async flush(): Promise<void> {
    this.#flushNow();
    await this.#chain;
  }

  #flushNow(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const p = this.#pending;
    this.#pending = undefined;
    if (!p) return;
    this.#chain = this.#chain.catch(() => {}).then(async () => {
      const script = renderProxyRules(p.services, p.slices);
      if (script === this.#applied) return;
      try {
        await this.#apply(this.netns, script);
        this.#applied = script;
        this.#applies++;
        this.#failures = 0;
        this.#log.debug({ netns: this.netns, bytes: script.length }, 'proxy rules applied');
      } catch (err) {
        this.#applied = undefined;
        this.#failures++;
        this.#log.warn({ netns: this.netns, err: errorMessage(err), failures: this.#failures }, 'applying proxy rules failed; will retry');
        this.#retry(p);
        throw err;
      }
    });
    this.#chain.catch(() => {}); // failures surface through flush() and the log
  }

  /** Re-queue a failed snapshot unless a newer one is already waiting. */
  #retry(p: { services: readonly V1Service[]; slices: readonly V1EndpointSlice[] }): void {
    if (this.#stopped || this.#pending) return;
    this.#pending = p;
    if (this.#timer) return;
    const delay = Math.min(this.#retryMs * 2 ** (this.#failures - 1), 30_000);
    this.#timer = setTimeout(() => this.#flushNow(), delay);
    this.#timer.unref();
  }

  /** Stop syncing; with `removeRules`, delete the table from the netns. */
  async stop(removeRules = false): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending = undefined;
    await this.#chain.catch(() => {});
    if (removeRules) await this.#apply(this.netns, `table ip ${PROXY_TABLE}\ndelete table ip ${PROXY_TABLE}\n`);
  }
}
