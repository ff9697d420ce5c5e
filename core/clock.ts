// Injected time: layers take a Clock so breaker, backoff and timeout tests run on fake clocks.
// It deliberately has no scheduling policy of its own; `sleep` is a wait on one.

import type { CallSignal } from "./call.ts";

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** Wall-clock time (epoch ms) with the same timers: certificates are valid between dates, not durations. */
export const wallClock: Clock = {
  now: () => Date.now(),
  setTimeout: systemClock.setTimeout,
  clearTimeout: systemClock.clearTimeout,
};

/** Waits `ms` on `clock`; rejects with the signal's reason if it aborts first (a retry's backoff). */
export function sleep(clock: Clock, ms: number, signal?: CallSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clock.clearTimeout(t);
      reject(signal!.reason);
    };
    const t = clock.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
