// Retry intervals: Dapr's constant policy and cenkalti/backoff's exponential one (initial
// interval, multiplier, +-randomization, cap, max elapsed time). Pure: time and randomness are
// arguments, so tests are exact.

import type { RetryPolicy } from "./policy/types.ts";

export interface Backoff {
  /** Delay before the next retry (ms), or null when the policy's elapsed-time limit is reached. */
  next(elapsedMs: number): number | null;
}

export function newBackoff(p: RetryPolicy, random: () => number): Backoff {
  if (p.policy === "constant") return { next: () => p.duration };
  let current = p.initialInterval;
  return {
    next(elapsedMs) {
      if (p.maxElapsedTime > 0 && elapsedMs >= p.maxElapsedTime) return null;
      const delta = p.randomizationFactor * current;
      const min = current - delta;
      const max = current + delta;
      const delay = min + random() * (max - min + 1);
      current = current * p.multiplier >= p.maxInterval ? p.maxInterval : current * p.multiplier;
      return Math.min(Math.floor(delay), p.maxInterval);
    },
  };
}

/** `Retry-After` as ms: delta-seconds or an HTTP date; null when absent or unparseable. */
export function retryAfterMs(h: string | null, nowEpochMs: number): number | null {
  if (!h) return null;
  const t = h.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const d = Date.parse(t);
  return Number.isNaN(d) ? null : Math.max(0, d - nowEpochMs);
}
