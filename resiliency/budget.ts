// A retry budget per target: over a sliding window, retries may add at most `ratio` of the
// first attempts, plus `minPerSecond` each second, so a full outage cannot become a retry storm.
// Plain counters in one-second buckets on an injected clock; no timers.

export interface BudgetOptions {
  readonly ratio: number;
  readonly minPerSecond: number;
  readonly windowSeconds: number;
}

export const DEFAULT_BUDGET: BudgetOptions = Object.freeze({ ratio: 0.2, minPerSecond: 10, windowSeconds: 10 });

export class RetryBudget {
  private readonly requests: number[];
  private readonly retries: number[];
  private readonly stamps: number[];

  constructor(
    readonly opts: BudgetOptions,
    private readonly now: () => number,
  ) {
    this.requests = new Array<number>(opts.windowSeconds).fill(0);
    this.retries = new Array<number>(opts.windowSeconds).fill(0);
    this.stamps = new Array<number>(opts.windowSeconds).fill(-1);
  }

  private bucket(): number {
    const sec = Math.floor(this.now() / 1000);
    const i = sec % this.opts.windowSeconds;
    if (this.stamps[i] !== sec) {
      this.stamps[i] = sec;
      this.requests[i] = 0;
      this.retries[i] = 0;
    }
    return i;
  }

  private totals(): { requests: number; retries: number } {
    const sec = Math.floor(this.now() / 1000);
    let requests = 0;
    let retries = 0;
    for (let i = 0; i < this.opts.windowSeconds; i++) {
      if (this.stamps[i]! > sec - this.opts.windowSeconds) {
        requests += this.requests[i]!;
        retries += this.retries[i]!;
      }
    }
    return { requests, retries };
  }

  recordRequest(): void {
    this.requests[this.bucket()]!++;
  }

  /** Takes one retry from the budget if there is one left. */
  tryRetry(): boolean {
    const i = this.bucket();
    const t = this.totals();
    const allowed = this.opts.ratio * t.requests + this.opts.minPerSecond * this.opts.windowSeconds;
    if (t.retries + 1 > allowed) return false;
    this.retries[i]!++;
    return true;
  }
}
