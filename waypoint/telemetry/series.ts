// A counter and some histograms that share one label schema and are always updated together (the waypoint's four
// request metrics), kept per label set and exposed to a prom-client Registry as ordinary metrics, so the exposition
// (names, `le` buckets, _sum, _count) is prom-client's.
//
// Why not prom-client's Counter and Histogram: each inc/observe converts, validates and hashes the whole label set,
// and Istio's request metrics have 25 labels, four metrics per request. That was about a tenth of a waypoint's CPU
// at full load. Here the caller finds a label set's Series once (a Map lookup on a key it builds) and then adds
// numbers to it.
import type { Registry } from 'prom-client';

export interface HistogramSpec {
  name: string;
  help: string;
  /** Upper bounds, ascending (the +Inf bucket is implied). */
  buckets: readonly number[];
}

/** One label set's numbers: the counter and, per histogram, its bucket counts (not cumulative) and sum. */
export class Series {
  count = 0;
  readonly labels: Readonly<Record<string, string>>;
  readonly specs: readonly HistogramSpec[];
  readonly buckets: Float64Array[];
  readonly sums: Float64Array;

  constructor(labels: Readonly<Record<string, string>>, specs: readonly HistogramSpec[]) {
    this.labels = labels;
    this.specs = specs;
    this.buckets = specs.map((s) => new Float64Array(s.buckets.length + 1));
    this.sums = new Float64Array(specs.length);
  }

  inc(): void {
    this.count++;
  }

  /** Add `value` to histogram `h` (the index of its spec). */
  observe(h: number, value: number): void {
    const bounds = this.specs[h]!.buckets;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.buckets[h]![i]!++;
    this.sums[h]! += value;
  }
}

interface MetricValue { value: number; labels: Record<string, string | number>; metricName?: string }

export class LabeledStats {
  readonly #series = new Map<string, Series>();
  readonly #labelNames: readonly string[];
  readonly #histograms: readonly HistogramSpec[];

  /** `onReset`: called when the Registry resets the metrics, so callers drop Series they hold. */
  constructor(registry: Registry, o: { counter: { name: string; help: string }; histograms: HistogramSpec[]; labelNames: readonly string[]; onReset?: () => void }) {
    this.#labelNames = o.labelNames;
    this.#histograms = o.histograms;
    const register = (name: string, help: string, type: 'counter' | 'histogram', values: () => MetricValue[]): void => {
      const get = async () => ({ name, help, type, aggregator: 'sum' as const, values: values() });
      // prom-client's Registry takes any object with these members (it calls get() to expose, reset() to reset).
      registry.registerMetric({ name, help, type, aggregator: 'sum', get, reset: () => {
        this.#series.clear();
        o.onReset?.();
      } } as never);
    };
    register(o.counter.name, o.counter.help, 'counter', () => [...this.#series.values()].map((s) => ({ value: s.count, labels: { ...s.labels } })));
    o.histograms.forEach((h, i) => register(h.name, h.help, 'histogram', () => this.#histogramValues(h, i)));
  }

  /** The Series for a label set (every label name, in any order), created at its first use. */
  series(labels: Readonly<Record<string, string>>): Series {
    let key = '';
    for (const n of this.#labelNames) key += `${labels[n] ?? ''}\u0000`;
    let s = this.#series.get(key);
    if (!s) {
      const own: Record<string, string> = {};
      for (const n of this.#labelNames) own[n] = labels[n] ?? '';
      s = new Series(own, this.#histograms);
      this.#series.set(key, s);
    }
    return s;
  }

  #histogramValues(h: HistogramSpec, i: number): MetricValue[] {
    const out: MetricValue[] = [];
    for (const s of this.#series.values()) {
      const counts = s.buckets[i]!;
      let cumulative = 0;
      h.buckets.forEach((le, b) => {
        cumulative += counts[b]!;
        out.push({ value: cumulative, labels: { le, ...s.labels }, metricName: `${h.name}_bucket` });
      });
      cumulative += counts[h.buckets.length]!;
      out.push({ value: cumulative, labels: { le: '+Inf', ...s.labels }, metricName: `${h.name}_bucket` });
      out.push({ value: s.sums[i]!, labels: { ...s.labels }, metricName: `${h.name}_sum` });
      out.push({ value: cumulative, labels: { ...s.labels }, metricName: `${h.name}_count` });
    }
    return out;
  }
}
