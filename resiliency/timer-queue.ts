// Timeouts without a runtime timer per request: entries of one duration fall due in the order
// they were added, so each duration keeps a FIFO and one clock timer for its head. Cancelling
// marks an entry; finished entries at the head are dropped at once, the rest when they surface.

import type { Clock } from "../core/clock.ts";

export interface TimerEntry {
  readonly due: number;
  fire: (() => void) | null;
}

class Lane {
  private q: TimerEntry[] = [];
  private head = 0;
  private handle: unknown = null;

  constructor(
    private readonly ms: number,
    private readonly clock: Clock,
  ) {}

  add(fire: () => void): TimerEntry {
    const e: TimerEntry = { due: this.clock.now() + this.ms, fire };
    this.q.push(e);
    // The timer only ever needs to be earlier than the head; a later head re-arms when it fires.
    if (this.handle === null) this.arm(e.due);
    return e;
  }

  cancel(e: TimerEntry): void {
    e.fire = null;
    // Requests mostly end in the order they started: drop finished entries from the front.
    while (this.head < this.q.length && this.q[this.head]!.fire === null) this.head++;
    if (this.head === this.q.length) {
      this.q.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.q.length) {
      this.q = this.q.slice(this.head);
      this.head = 0;
    }
  }

  private arm(due: number): void {
    this.handle = this.clock.setTimeout(() => this.run(), Math.max(0, due - this.clock.now()));
    // A pending queue timer must not keep a stopping process alive.
    (this.handle as { unref?: () => void } | null)?.unref?.();
  }

  private run(): void {
    this.handle = null;
    const now = this.clock.now();
    while (this.head < this.q.length) {
      const e = this.q[this.head]!;
      if (e.fire !== null && e.due > now) break;
      this.head++;
      const f = e.fire;
      e.fire = null;
      f?.();
    }
    if (this.head >= this.q.length) {
      this.q.length = 0;
      this.head = 0;
    } else this.arm(this.q[this.head]!.due);
  }

  /** For tests: entries still held. */
  get size(): number {
    return this.q.length - this.head;
  }
}

/** One queue per clock and duration; layers of every target share them. */
export class TimerQueue {
  private readonly lanes = new Map<number, Lane>();

  constructor(private readonly clock: Clock) {}

  /** Calls `fire` after `ms` unless cancelled first. */
  after(ms: number, fire: () => void): TimerEntry {
    let lane = this.lanes.get(ms);
    if (!lane) this.lanes.set(ms, (lane = new Lane(ms, this.clock)));
    return lane.add(fire);
  }

  cancel(ms: number, e: TimerEntry): void {
    if (e.fire === null) return;
    this.lanes.get(ms)?.cancel(e);
  }

  /** Entries held for `ms` (finished ones not yet dropped included). */
  pending(ms: number): number {
    return this.lanes.get(ms)?.size ?? 0;
  }
}

const queues = new WeakMap<Clock, TimerQueue>();

/** The shared queue for `clock`. */
export function timerQueue(clock: Clock): TimerQueue {
  let q = queues.get(clock);
  if (!q) queues.set(clock, (q = new TimerQueue(clock)));
  return q;
}
