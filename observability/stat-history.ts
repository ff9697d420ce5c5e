// The last minute of this sidecar's invocation totals, a snapshot every 2 s, so `meshlet stat` shows
// the window that just ended at once (as `linkerd viz stat` reads it from Prometheus) instead of
// measuring the next one. Stored compactly; a snapshot with no new calls is the previous one.

import { snapshot, windowBetween, type Family, type SidecarWindow, type Snapshot, type TargetTotals } from "./stat.ts";

/** Per target: total, ok, then the cumulative count of each bucket bound in `bounds`' order; reasons only when there are some. */
interface Compact {
  readonly bounds: readonly number[];
  readonly targets: ReadonlyMap<string, { counts: Float64Array; reasons: ReadonlyMap<string, number> | null }>;
  /** Every counter added up: counters only grow, so an equal sum means nothing changed. */
  readonly sum: number;
}

function compact(snap: Snapshot, last: Compact | null): Compact {
  let sum = 0;
  for (const t of snap.values()) {
    sum += t.total;
    for (const c of t.reasons.values()) sum += c;
  }
  if (last && last.sum === sum && last.targets.size === snap.size) return last;
  // Every target's latency buckets come from one histogram: keep one array of its bounds (a target
  // with only sidecar-made errors has none of its own).
  let bounds: number[] = [];
  for (const t of snap.values()) if (t.buckets.size > bounds.length) bounds = [...t.buckets.keys()].sort((a, b) => a - b);
  const targets = new Map<string, { counts: Float64Array; reasons: ReadonlyMap<string, number> | null }>();
  for (const [target, t] of snap) {
    const counts = new Float64Array(2 + bounds.length);
    counts[0] = t.total;
    counts[1] = t.ok;
    bounds.forEach((b, i) => (counts[2 + i] = t.buckets.get(b) ?? 0));
    targets.set(target, { counts, reasons: t.reasons.size ? t.reasons : null });
  }
  return { bounds, targets, sum };
}

function expand(c: Compact): Snapshot {
  const snap: Snapshot = new Map();
  for (const [target, t] of c.targets) {
    const buckets = new Map<number, number>();
    c.bounds.forEach((b, i) => buckets.set(b, t.counts[2 + i]!));
    snap.set(target, { total: t.counts[0]!, ok: t.counts[1]!, buckets, reasons: new Map(t.reasons ?? []) } satisfies TargetTotals);
  }
  return snap;
}

export interface StatHistoryOptions {
  /** The stat families as the registry has them now. */
  readonly read: () => Promise<Family[]>;
  /** Wall-clock ms (injected for tests). */
  readonly now: () => number;
  readonly everyMs?: number;
  /** How far back a window can reach. */
  readonly keepMs?: number;
}

export const STAT_HISTORY_KEEP_MS = 60_000;

export class StatHistory {
  private readonly ring: Array<{ at: number; snap: Compact }>;
  private readonly everyMs: number;
  private readonly keepMs: number;
  private timer: ReturnType<typeof setInterval> | null = null;

  /** Counters start at zero with the sidecar: the history starts with an empty snapshot now. */
  constructor(private readonly o: StatHistoryOptions) {
    this.everyMs = o.everyMs ?? 2_000;
    this.keepMs = o.keepMs ?? STAT_HISTORY_KEEP_MS;
    this.ring = [{ at: o.now(), snap: { bounds: [], targets: new Map(), sum: 0 } }];
  }

  /** Takes a snapshot every `everyMs` (the timer does not keep the process alive). */
  start(): void {
    this.timer ??= setInterval(() => void this.record().catch(() => {}), this.everyMs);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Adds a snapshot of now, and forgets those no window can reach (one older than keepMs stays as the far end). */
  async record(): Promise<void> {
    const snap = compact(snapshot(await this.o.read()), this.ring[this.ring.length - 1]!.snap);
    const at = this.o.now();
    this.ring.push({ at, snap });
    while (this.ring.length > 2 && this.ring[1]!.at <= at - this.keepMs) this.ring.shift();
  }

  /**
   * The calls of about the last `seconds`: from the newest snapshot at least that old (or the
   * oldest kept, for a younger sidecar) to now; `seconds` in the answer is the span it covers.
   */
  async window(seconds: number): Promise<SidecarWindow> {
    const now = this.o.now();
    const after = snapshot(await this.o.read());
    const cutoff = now - seconds * 1000;
    let from = this.ring[0]!;
    for (const r of this.ring) {
      if (r.at > cutoff) break;
      from = r;
    }
    return windowBetween(expand(from.snap), after, Math.max(0, (now - from.at) / 1000));
  }

  /** Snapshots kept (for tests and the memory table). */
  get size(): number {
    return this.ring.length;
  }

  /** Snapshots that hold totals of their own (a quiet interval shares its predecessor's). */
  get distinct(): number {
    return new Set(this.ring.map((r) => r.snap)).size;
  }
}
