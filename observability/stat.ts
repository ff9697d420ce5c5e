// `meshlet stat`'s arithmetic: from the caller-side invocation families of every running sidecar,
// per target app-id over a window, requests per second, success rate (answers below 500),
// latency quantiles from the ms histogram buckets (as PromQL's histogram_quantile) and the
// sidecar-made reasons that failed most. Pure: samples in, windows (as JSON too) and rows out.

/** One metric family as a sidecar's /metrics.json gives it (prom-client's getMetricsAsJSON). */
export interface Family {
  name: string;
  type: string;
  values: Array<{ value: number; metricName?: string; labels: Record<string, string | number> }>;
}

export interface TargetTotals {
  total: number;
  ok: number;
  /** Cumulative count per bucket bound (ms), +Inf as Infinity. */
  buckets: Map<number, number>;
  reasons: Map<string, number>;
}

/** Cumulative totals per target app-id, as one sidecar's /metrics showed them. */
export type Snapshot = Map<string, TargetTotals>;

const INV = "dapr_runtime_service_invocation_";
/** The families a snapshot reads. */
export const STAT_FAMILIES = [`${INV}res_recv_total`, `${INV}res_recv_latency_ms`, "meshlet_invocation_errors_total"] as const;

function totalsFor(snap: Snapshot, target: string): TargetTotals {
  let t = snap.get(target);
  if (!t) snap.set(target, (t = { total: 0, ok: 0, buckets: new Map(), reasons: new Map() }));
  return t;
}

export function snapshot(families: readonly Family[]): Snapshot {
  const snap: Snapshot = new Map();
  for (const f of families) {
    if (f.name === `${INV}res_recv_total`) {
      for (const v of f.values) {
        const t = totalsFor(snap, String(v.labels.src_app_id ?? ""));
        t.total += v.value;
        if (Number(v.labels.status) < 500) t.ok += v.value;
      }
    } else if (f.name === `${INV}res_recv_latency_ms`) {
      for (const v of f.values) {
        if (v.metricName !== `${INV}res_recv_latency_ms_bucket`) continue;
        const t = totalsFor(snap, String(v.labels.src_app_id ?? ""));
        const bound = v.labels.le === "+Inf" ? Infinity : Number(v.labels.le);
        t.buckets.set(bound, (t.buckets.get(bound) ?? 0) + v.value);
      }
    } else if (f.name === "meshlet_invocation_errors_total") {
      for (const v of f.values) {
        const t = totalsFor(snap, String(v.labels.dst_app_id ?? ""));
        const r = String(v.labels.reason ?? "");
        t.reasons.set(r, (t.reasons.get(r) ?? 0) + v.value);
      }
    }
  }
  return snap;
}

/** What changed between two snapshots of one sidecar; a counter that went down (a restart) counts from 0. */
function delta(before: TargetTotals | undefined, after: TargetTotals): TargetTotals {
  const reset = before !== undefined && after.total < before.total;
  const b = reset || !before ? { total: 0, ok: 0, buckets: new Map<number, number>(), reasons: new Map<string, number>() } : before;
  const buckets = new Map<number, number>();
  for (const [le, c] of after.buckets) buckets.set(le, c - (b.buckets.get(le) ?? 0));
  const reasons = new Map<string, number>();
  for (const [r, c] of after.reasons) reasons.set(r, c - (b.reasons.get(r) ?? 0));
  return { total: after.total - b.total, ok: after.ok - b.ok, buckets, reasons };
}

/** The q-quantile (0..1) of a cumulative histogram, interpolated inside its bucket as Prometheus does. */
export function bucketQuantile(q: number, buckets: ReadonlyMap<number, number>): number | null {
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  const total = bounds.length ? buckets.get(bounds[bounds.length - 1]!)! : 0;
  if (total <= 0) return null;
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (const le of bounds) {
    const c = buckets.get(le)!;
    if (c >= rank) {
      if (le === Infinity) return prevBound;
      return c === prevCount ? le : prevBound + ((le - prevBound) * (rank - prevCount)) / (c - prevCount);
    }
    prevBound = le;
    prevCount = c;
  }
  return prevBound;
}

export interface StatRow {
  appId: string;
  requests: number;
  rps: number;
  /** Share of answers below 500, 0..1; null without requests. */
  success: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  /** The sidecar-made reasons that failed most, most frequent first. */
  topErrors: Array<{ reason: string; count: number }>;
}

/** One sidecar's calls over a window: what changed per target, and how many seconds that covers. */
export interface SidecarWindow {
  seconds: number;
  targets: Map<string, TargetTotals>;
}

/** The window between two snapshots of one sidecar. */
export function windowBetween(before: Snapshot, after: Snapshot, seconds: number): SidecarWindow {
  const targets = new Map<string, TargetTotals>();
  for (const [target, t] of after) targets.set(target, delta(before.get(target), t));
  return { seconds, targets };
}

/** A window as JSON (bucket bounds as Prometheus writes them: "+Inf" for the last). */
export function windowToJSON(w: SidecarWindow): unknown {
  const targets: Record<string, unknown> = {};
  for (const [target, t] of w.targets) {
    const buckets: Record<string, number> = {};
    for (const [le, c] of t.buckets) buckets[le === Infinity ? "+Inf" : String(le)] = c;
    targets[target] = { total: t.total, ok: t.ok, buckets, reasons: Object.fromEntries(t.reasons) };
  }
  return { seconds: w.seconds, targets };
}

/** A window read back from windowToJSON's shape; throws on anything else. */
export function windowFromJSON(v: unknown): SidecarWindow {
  const o = v as { seconds?: unknown; targets?: Record<string, { total?: unknown; ok?: unknown; buckets?: Record<string, unknown>; reasons?: Record<string, unknown> }> };
  if (typeof o?.seconds !== "number" || typeof o.targets !== "object" || o.targets === null) throw new Error("not a stat window");
  const targets = new Map<string, TargetTotals>();
  for (const [target, t] of Object.entries(o.targets)) {
    const buckets = new Map<number, number>();
    for (const [le, c] of Object.entries(t.buckets ?? {})) buckets.set(le === "+Inf" ? Infinity : Number(le), Number(c));
    const reasons = new Map<string, number>();
    for (const [r, c] of Object.entries(t.reasons ?? {})) reasons.set(r, Number(c));
    targets.set(target, { total: Number(t.total), ok: Number(t.ok), buckets, reasons });
  }
  return { seconds: o.seconds, targets };
}

/** Rows per target app-id from every sidecar's window (requests per second from each one's own span). */
export function statRows(windows: readonly SidecarWindow[]): StatRow[] {
  const sum: Snapshot = new Map();
  // Each sidecar's rate over its own window's span, added up per target.
  const rps = new Map<string, number>();
  for (const w of windows) {
    for (const [target, d] of w.targets) {
      const s = totalsFor(sum, target);
      s.total += d.total;
      s.ok += d.ok;
      rps.set(target, (rps.get(target) ?? 0) + (w.seconds > 0 ? d.total / w.seconds : 0));
      for (const [le, c] of d.buckets) s.buckets.set(le, (s.buckets.get(le) ?? 0) + c);
      for (const [r, c] of d.reasons) s.reasons.set(r, (s.reasons.get(r) ?? 0) + c);
    }
  }
  const rows: StatRow[] = [];
  for (const [appId, t] of sum) {
    const topErrors = [...t.reasons]
      .filter(([, c]) => c > 0)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([reason, count]) => ({ reason, count }));
    rows.push({
      appId,
      requests: t.total,
      rps: rps.get(appId) ?? 0,
      success: t.total > 0 ? t.ok / t.total : null,
      p50Ms: bucketQuantile(0.5, t.buckets),
      p95Ms: bucketQuantile(0.95, t.buckets),
      p99Ms: bucketQuantile(0.99, t.buckets),
      topErrors,
    });
  }
  return rows.sort((a, b) => a.appId.localeCompare(b.appId));
}
