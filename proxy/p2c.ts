// Per-endpoint load estimates for one target and the power-of-two-choices pick over them:
// score = (outstanding + 1) x peak-EWMA of time-to-headers, decaying while unused. A slow or
// busy instance gets less traffic, a failed attempt counts as slow, and an instance not yet
// measured (new, or back after a failure) is tried first. Time is injected; nothing does I/O.

import type { Endpoint } from "../core/call.ts";

interface Stat {
  outstanding: number;
  /** Successful answers seen; the first is a cold start (JIT, TLS verification, the app's first request) and not counted. */
  answered: number;
  /** Whether `ewma` holds a real sample (a counted answer or a failure). */
  measured: boolean;
  /** Peak-EWMA of latency in ms, as of `lastAt`. */
  ewma: number;
  lastAt: number;
  /** The last attempt failed (connection refused, a 5xx). */
  failing: boolean;
  /** When it joined the target (-Infinity for those there from the start): its warm-up counts from here. */
  since: number;
}

/** Sample weighting time constant (ms): how fast old latencies are forgotten (Linkerd uses 10 s). */
const TAU = 10_000;
/**
 * Half-life (ms) of a cost while its endpoint gets no answers: a penalty fades so an instance
 * that failed once (or was slow once) is tried again after a few seconds instead of starving;
 * 1,000 ms of failure penalty falls to a 2 ms healthy peer's level in about 4.5 s.
 */
export const IDLE_HALF_LIFE_MS = 500;
const FAILURE_PENALTY_MS = 1_000;
/** Cost of an unmeasured endpoint that already has requests in flight: wait for its answer. */
const UNMEASURED_BUSY_MS = 100;
/** A warming endpoint starts at this share of what it would win (Envoy's slow start default min weight). */
const WARMUP_FLOOR = 0.1;

/** The peak-EWMA after `idle` ms without answers: halved every IDLE_HALF_LIFE_MS. */
function decayed(s: Stat, idle: number): number {
  return idle > 0 ? s.ewma * Math.pow(0.5, idle / IDLE_HALF_LIFE_MS) : s.ewma;
}

export class EndpointLoad {
  private readonly stats = new Map<string, Stat>();
  /** The target's first endpoints were seen: later ones are new instances and warm up. */
  private seeded = false;
  constructor(
    private readonly now: () => number,
    private readonly random: () => number,
    /** Istio's warmupDurationSecs: a new instance's share ramps up over this long (0: none). */
    private readonly warmupMs = 0,
  ) {}

  private stat(key: string): Stat {
    let s = this.stats.get(key);
    if (!s) {
      const now = this.now();
      this.stats.set(key, (s = { outstanding: 0, answered: 0, measured: false, ewma: 0, lastAt: now, failing: false, since: this.seeded ? now : -Infinity }));
    }
    return s;
  }

  /**
   * Called with each resolution's endpoints: the first ones are the target's own (no warm-up, as
   * Envoy exempts the hosts a cluster starts with); any endpoint seen later joined since.
   */
  seen(eps: readonly Endpoint[]): void {
    if (this.seeded) return;
    for (const ep of eps) this.stat(ep.key);
    this.seeded = true;
  }

  /** Share of its picks a warming endpoint keeps: from WARMUP_FLOOR up to 1 over the warm-up. */
  private warmth(ep: Endpoint): number {
    const age = this.now() - this.stat(ep.key).since;
    return age >= this.warmupMs ? 1 : Math.max(WARMUP_FLOOR, age / this.warmupMs);
  }

  /** The cost now: an idle unmeasured endpoint costs 0, so it is picked before the measured ones. */
  score(ep: Endpoint): number {
    const s = this.stat(ep.key);
    if (!s.measured) return s.outstanding === 0 ? 0 : s.outstanding * UNMEASURED_BUSY_MS;
    return (s.outstanding + 1) * decayed(s, this.now() - s.lastAt);
  }

  /** Two distinct random candidates, the lower score wins; one candidate is returned as is. */
  pick(eps: readonly Endpoint[]): Endpoint {
    if (eps.length === 1) return eps[0]!;
    const i = Math.floor(this.random() * eps.length);
    let j = Math.floor(this.random() * (eps.length - 1));
    if (j >= i) j++;
    const a = eps[i]!;
    const b = eps[j]!;
    let win = a;
    let other = b;
    if (this.score(b) < this.score(a)) {
      win = b;
      other = a;
    }
    // Warm-up: a new instance that won keeps the pick with a probability rising over its
    // warm-up, so a cold JVM or cache gets a trickle first instead of its full share at once.
    if (this.warmupMs > 0 && this.random() >= this.warmth(win)) return other;
    return win;
  }

  start(ep: Endpoint): number {
    this.stat(ep.key).outstanding++;
    return this.now();
  }

  /** Records one attempt's end: its time to headers, or a failure (counted as very slow). */
  finish(ep: Endpoint, startedAt: number, ok: boolean): void {
    const s = this.stat(ep.key);
    s.outstanding = Math.max(0, s.outstanding - 1);
    s.failing = !ok;
    const t = this.now();
    // An instance's first answer pays its cold start (first connection's TLS verification, JIT,
    // the app's first request): a peak from it would starve the instance for many seconds.
    if (ok && s.answered++ === 0) {
      s.lastAt = t;
      return;
    }
    const rtt = ok ? Math.max(0.001, t - startedAt) : FAILURE_PENALTY_MS;
    if (!s.measured) {
      s.measured = true;
      s.ewma = rtt;
    } else {
      // The cost as decayed while unused, then peak-EWMA: a sample above it replaces it at
      // once, lower ones blend in with a weight that grows with the time since the last one.
      const idle = t - s.lastAt;
      const cost = decayed(s, idle);
      const w = Math.exp(-idle / TAU);
      s.ewma = rtt > cost ? rtt : cost * w + rtt * (1 - w);
    }
    s.lastAt = t;
  }

  /** How many of `eps` are new (not measured yet), answering, or failing (their last attempt failed). */
  states(eps: readonly Endpoint[]): { new: number; healthy: number; failing: number } {
    const out = { new: 0, healthy: 0, failing: 0 };
    for (const ep of eps) {
      const s = this.stats.get(ep.key);
      if (s?.failing) out.failing++;
      else if (!s || s.answered === 0) out.new++;
      else out.healthy++;
    }
    return out;
  }

  /** Drops endpoints no longer resolved, so the map stays bounded. */
  retain(eps: readonly Endpoint[]): void {
    if (this.stats.size <= eps.length * 2 + 8) return;
    const keep = new Set(eps.map((e) => e.key));
    for (const k of this.stats.keys()) if (!keep.has(k)) this.stats.delete(k);
  }
}
