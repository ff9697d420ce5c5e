// Per-endpoint load estimates for one target and the power-of-two-choices pick over them:
// score = (outstanding + 1) x EWMA of time-to-headers. A slow or busy instance gets less
// traffic; a failed attempt counts as slow. Time is injected; nothing here does I/O.

import type { Endpoint } from "../core/call.ts";

interface Stat {
  outstanding: number;
  /** Successful answers seen; the first is a cold start (JIT, TLS verification, the app's first request) and not counted. */
  answered: number;
  /** EWMA of latency in ms; starts optimistic so new instances get tried. */
  ewma: number;
  lastAt: number;
}

/** Decay time constant (ms): how fast old latencies are forgotten (Linkerd uses 10 s). */
const TAU = 10_000;
const FAILURE_PENALTY_MS = 1_000;
const INITIAL_MS = 1;

export class EndpointLoad {
  private readonly stats = new Map<string, Stat>();
  constructor(
    private readonly now: () => number,
    private readonly random: () => number,
  ) {}

  private stat(key: string): Stat {
    let s = this.stats.get(key);
    if (!s) this.stats.set(key, (s = { outstanding: 0, answered: 0, ewma: INITIAL_MS, lastAt: this.now() }));
    return s;
  }

  score(ep: Endpoint): number {
    const s = this.stat(ep.key);
    return (s.outstanding + 1) * s.ewma;
  }

  /** Two distinct random candidates, the lower score wins; one candidate is returned as is. */
  pick(eps: readonly Endpoint[]): Endpoint {
    if (eps.length === 1) return eps[0]!;
    const i = Math.floor(this.random() * eps.length);
    let j = Math.floor(this.random() * (eps.length - 1));
    if (j >= i) j++;
    const a = eps[i]!;
    const b = eps[j]!;
    return this.score(b) < this.score(a) ? b : a;
  }

  start(ep: Endpoint): number {
    this.stat(ep.key).outstanding++;
    return this.now();
  }

  /** Records one attempt's end: its time to headers, or a failure (counted as very slow). */
  finish(ep: Endpoint, startedAt: number, ok: boolean): void {
    const s = this.stat(ep.key);
    s.outstanding = Math.max(0, s.outstanding - 1);
    const t = this.now();
    // An instance's first answer pays its cold start (first connection's TLS verification, JIT,
    // the app's first request): a peak from it would starve the instance for many seconds.
    if (ok && s.answered++ === 0) {
      s.lastAt = t;
      return;
    }
    const rtt = ok ? Math.max(0.001, t - startedAt) : FAILURE_PENALTY_MS;
    const w = Math.exp(-(t - s.lastAt) / TAU);
    // Peak-EWMA: a sample above the average replaces it at once, lower ones decay in.
    s.ewma = rtt > s.ewma ? rtt : s.ewma * w + rtt * (1 - w);
    s.lastAt = t;
  }

  /** Drops endpoints no longer resolved, so the map stays bounded. */
  retain(eps: readonly Endpoint[]): void {
    if (this.stats.size <= eps.length * 2 + 8) return;
    const keep = new Set(eps.map((e) => e.key));
    for (const k of this.stats.keys()) if (!keep.has(k)) this.stats.delete(k);
  }
}
