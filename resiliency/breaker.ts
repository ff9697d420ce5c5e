// Dapr's circuit breaker (sony/gobreaker semantics) as a small state machine on an injected
// clock: closed -> open when the trip expression holds after a failure; open -> half-open after
// `timeout`; half-open admits `maxRequests`, closes after that many successes, reopens on failure.

import type { BreakerCounts, BreakerPolicy } from "./policy/types.ts";

export type BreakerState = "closed" | "half-open" | "open";

export const STATE_GAUGE: Record<BreakerState, number> = { closed: 0, "half-open": 1, open: 2 };

export type Admission = { ok: true; generation: number } | { ok: false; why: "open" | "too_many_requests" };

export class CircuitBreaker {
  private state: BreakerState = "closed";
  private generation = 0;
  private counts: BreakerCounts = zero();
  private expiry: number;

  constructor(
    readonly policy: BreakerPolicy,
    private readonly now: () => number,
    private readonly onChange: (from: BreakerState, to: BreakerState) => void = () => {},
  ) {
    this.expiry = policy.interval > 0 ? now() + policy.interval : 0;
  }

  current(): BreakerState {
    this.refresh(this.now());
    return this.state;
  }

  /** Asks to send one request; on `ok`, report its outcome with `record(generation, ...)`. */
  admit(): Admission {
    const now = this.now();
    this.refresh(now);
    if (this.state === "open") return { ok: false, why: "open" };
    if (this.state === "half-open" && this.counts.requests >= this.policy.maxRequests) return { ok: false, why: "too_many_requests" };
    this.counts.requests++;
    return { ok: true, generation: this.generation };
  }

  record(generation: number, success: boolean): void {
    const now = this.now();
    this.refresh(now);
    if (generation !== this.generation) return; // a result from before the last state change
    const c = this.counts;
    if (success) {
      c.totalSuccesses++;
      c.consecutiveSuccesses++;
      c.consecutiveFailures = 0;
      if (this.state === "half-open" && c.consecutiveSuccesses >= this.policy.maxRequests) this.set("closed", now);
    } else {
      c.totalFailures++;
      c.consecutiveFailures++;
      c.consecutiveSuccesses = 0;
      if (this.state === "half-open") this.set("open", now);
      else if (this.state === "closed" && this.policy.tripFn({ ...c })) this.set("open", now);
    }
  }

  private refresh(now: number): void {
    if (this.state === "closed") {
      if (this.expiry !== 0 && this.expiry <= now) this.newGeneration(now);
    } else if (this.state === "open" && this.expiry <= now) {
      this.set("half-open", now);
    }
  }

  private set(to: BreakerState, now: number): void {
    const from = this.state;
    if (from === to) return;
    this.state = to;
    this.newGeneration(now);
    this.onChange(from, to);
  }

  private newGeneration(now: number): void {
    this.generation++;
    this.counts = zero();
    if (this.state === "closed") this.expiry = this.policy.interval > 0 ? now + this.policy.interval : 0;
    else if (this.state === "open") this.expiry = now + this.policy.timeout;
    else this.expiry = 0;
  }
}

function zero(): BreakerCounts {
  return { requests: 0, totalSuccesses: 0, totalFailures: 0, consecutiveSuccesses: 0, consecutiveFailures: 0 };
}
