// Outlier ejection for one target's endpoints: N failures in a row (5xx answers, connections
// refused or timed out) take an endpoint out of the pick for a time that grows with each repeat
// ejection, capped, and never more than a share of the endpoints at once (when all would be out,
// all are used: Envoy's panic mode). Time is injected; nothing does I/O.

import type { Endpoint } from "../core/call.ts";
import type { OutlierPolicy } from "../resiliency/policy/types.ts";

interface Entry {
  consecutive: number;
  /** Ejected while now < until. */
  until: number;
  /** Ejections so far; the next one lasts base x (ejections + 1), up to the max. */
  ejections: number;
}

/** Told each ejection: the endpoint, for how long (ms), its consecutive failures and how many ejections it had. */
export type EjectionObserver = (endpoint: string, ms: number, failures: number, ejections: number) => void;

export class OutlierDetector {
  private readonly entries = new Map<string, Entry>();
  /** Endpoints ejected right now (recounted lazily as ejections expire). */
  private out = 0;

  constructor(
    private readonly policy: OutlierPolicy,
    private readonly now: () => number,
    private readonly onEject: EjectionObserver = () => {},
  ) {}

  private entry(key: string): Entry {
    let e = this.entries.get(key);
    if (!e) this.entries.set(key, (e = { consecutive: 0, until: 0, ejections: 0 }));
    return e;
  }

  /** An answer below 500: the run of failures ends; an endpoint healthy for a base time since its last ejection is forgiven one. */
  succeeded(key: string): void {
    if (this.entries.size === 0) return;
    const e = this.entries.get(key);
    if (!e) return;
    e.consecutive = 0;
    if (e.ejections > 0 && this.now() - e.until > this.policy.baseEjectionMs) e.ejections--;
  }

  /** A failure; ejects the endpoint when the run reaches the threshold and the cap allows (of `total` endpoints). */
  failed(key: string, total: number): void {
    const p = this.policy;
    if (p.maxEjectionPercent === 0) return;
    const e = this.entry(key);
    const now = this.now();
    if (e.until > now) return;
    if (++e.consecutive < p.consecutiveFailures) return;
    // The cap counts this ejection too (Envoy's #27066: checking before it let 3 of 3 go at 67 %).
    if ((this.ejectedNow(now) + 1) * 100 > total * p.maxEjectionPercent) return;
    const ms = Math.min(p.baseEjectionMs * (e.ejections + 1), p.maxEjectionMs);
    e.ejections++;
    e.until = now + ms;
    this.out++;
    this.onEject(key, ms, e.consecutive, e.ejections);
    e.consecutive = 0;
  }

  private ejectedNow(now: number): number {
    if (this.out === 0) return 0;
    let n = 0;
    for (const e of this.entries.values()) if (e.until > now) n++;
    return (this.out = n);
  }

  isEjected(key: string): boolean {
    const e = this.entries.get(key);
    return e !== undefined && e.until > this.now();
  }

  /** `pool` without ejected endpoints; all of it when none is ejected, or when all are (panic). */
  admitted(pool: readonly Endpoint[]): readonly Endpoint[] {
    if (this.ejectedNow(this.now()) === 0) return pool;
    const kept = pool.filter((ep) => !this.isEjected(ep.key));
    return kept.length ? kept : pool;
  }

  /** How many of `eps` are ejected now. */
  count(eps: readonly Endpoint[]): number {
    if (this.out === 0) return 0;
    let n = 0;
    for (const ep of eps) if (this.isEjected(ep.key)) n++;
    return n;
  }

  /** Drops endpoints no longer resolved, so the map stays bounded. */
  retain(eps: readonly Endpoint[]): void {
    if (this.entries.size <= eps.length * 2 + 8) return;
    const keep = new Set(eps.map((e) => e.key));
    for (const k of this.entries.keys()) if (!keep.has(k)) this.entries.delete(k);
  }
}
