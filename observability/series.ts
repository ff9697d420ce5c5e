// Metric families whose series are plain objects the request path increments directly: no label
// hashing or validation per request (prom-client does both on every inc/observe, ~4.7k
// instructions each). prom-client's Registry still writes the exposition text and JSON: each
// family is registered with it and answers `get()` in prom-client's own shape.

import type { Prom } from "../core/metrics.ts";

type Labels = Record<string, string>;

/** What prom-client's Registry reads from a metric's `get()` to write text and JSON. */
interface FamilyValues {
  name: string;
  help: string;
  type: "counter" | "histogram";
  aggregator: "sum";
  values: Array<{ labels: Record<string, string | number>; value: number; metricName?: string }>;
}

export interface CounterSeries {
  value: number;
}

export interface HistogramSeries {
  observe(v: number): void;
}

class Hist implements HistogramSeries {
  /** Per bucket (not cumulative), the last one +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(v: number): void {
    // Binary search for the first bound >= v (le is inclusive).
    const b = this.bounds;
    let lo = 0;
    let hi = b.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (b[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    this.counts[lo]!++;
    this.sum += v;
    this.count++;
  }
}

/** A counter family: `series(labels)` once (per target, per status...), then `s.value += n`. */
export class CounterFamily {
  readonly type = "counter";
  private readonly all = new Map<string, CounterSeries & { labels: Labels }>();
  constructor(
    registry: Prom.Registry,
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {
    registry.registerMetric(this as unknown as Prom.Metric);
  }
  series(labels: Labels): CounterSeries {
    const key = this.labelNames.map((n) => labels[n] ?? "").join("\u0000");
    let s = this.all.get(key);
    if (!s) this.all.set(key, (s = { labels: { ...labels }, value: 0 }));
    return s;
  }
  get(): Promise<FamilyValues> {
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: "counter",
      aggregator: "sum",
      values: [...this.all.values()].map((s) => ({ labels: s.labels, value: s.value })),
    });
  }
}

/** A histogram family with fixed bounds; its exposition has prom-client's _bucket/_sum/_count lines. */
export class HistogramFamily {
  readonly type = "histogram";
  private readonly all = new Map<string, Hist>();
  private readonly bounds: readonly number[];
  constructor(
    registry: Prom.Registry,
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    bounds: readonly number[],
  ) {
    this.bounds = [...bounds].sort((a, b) => a - b);
    registry.registerMetric(this as unknown as Prom.Metric);
  }
  series(labels: Labels): HistogramSeries {
    const key = this.labelNames.map((n) => labels[n] ?? "").join("\u0000");
    let s = this.all.get(key);
    if (!s) this.all.set(key, (s = new Hist({ ...labels }, this.bounds)));
    return s;
  }
  get(): Promise<FamilyValues> {
    const values: FamilyValues["values"] = [];
    for (const s of this.all.values()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += s.counts[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { le, ...s.labels }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { le: "+Inf", ...s.labels }, value: s.count });
      values.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: s.labels, value: s.count });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: "histogram", aggregator: "sum", values });
  }
}
