// A Clock for tests: time moves only when `advance` is called, and due timers fire in time
// order, each seeing the clock at its own due time. Used by the timeout and timer-queue tests.

import type { Clock } from "./clock.ts";

export function fakeClock() {
  let now = 0;
  let armed = 0;
  let id = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const clock: Clock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      armed++;
      timers.set(++id, { at: now + ms, fn });
      return id;
    },
    clearTimeout: (h) => void timers.delete(h as number),
  };
  const advance = (ms: number) => {
    const end = now + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | null = null;
      for (const t of timers) if (t[1].at <= end && (next === null || t[1].at < next[1].at)) next = t;
      if (next === null) break;
      now = next[1].at;
      timers.delete(next[0]);
      next[1].fn();
    }
    now = end;
  };
  /** Runtime timers ever armed, and those still pending. */
  return { clock, advance, armed: () => armed, pending: () => timers.size };
}
