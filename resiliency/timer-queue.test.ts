import { describe, expect, it } from "vitest";
import { TimerQueue } from "./timer-queue.ts";
import { fakeClock } from "../core/fake-clock.ts";

describe("TimerQueue", () => {
  it("fires each entry exactly its duration after it was added, in order", () => {
    const { clock, advance } = fakeClock();
    const q = new TimerQueue(clock);
    const fired: Array<[string, number]> = [];
    q.after(100, () => fired.push(["a", clock.now()]));
    advance(30);
    q.after(100, () => fired.push(["b", clock.now()]));
    advance(69);
    expect(fired).toEqual([]);
    advance(1);
    expect(fired).toEqual([["a", 100]]);
    advance(30);
    expect(fired).toEqual([
      ["a", 100],
      ["b", 130],
    ]);
  });

  it("never fires a cancelled entry and drops finished ones from the front at once", () => {
    const { clock, advance } = fakeClock();
    const q = new TimerQueue(clock);
    let fired = 0;
    const es = Array.from({ length: 1000 }, () => q.after(60_000, () => fired++));
    for (const e of es) q.cancel(60_000, e);
    expect(q.pending(60_000)).toBe(0);
    advance(120_000);
    expect(fired).toBe(0);
  });

  it("keeps entries behind a live head until they surface, then skips them", () => {
    const { clock, advance } = fakeClock();
    const q = new TimerQueue(clock);
    const fired: string[] = [];
    q.after(50, () => fired.push("slow"));
    const quick = q.after(50, () => fired.push("quick"));
    q.cancel(50, quick);
    expect(q.pending(50)).toBe(2);
    advance(50);
    expect(fired).toEqual(["slow"]);
    expect(q.pending(50)).toBe(0);
  });

  it("uses one runtime timer per duration, not one per entry", () => {
    const { clock, advance, armed } = fakeClock();
    const q = new TimerQueue(clock);
    for (let i = 0; i < 500; i++) {
      const e = q.after(1_000, () => {});
      advance(1);
      q.cancel(1_000, e);
    }
    expect(armed()).toBe(1);
    advance(5_000);
    // The one timer fired early (its entry was done), found nothing live and stopped.
    expect(armed()).toBe(1);
  });

  it("keeps separate lanes for separate durations", () => {
    const { clock, advance } = fakeClock();
    const q = new TimerQueue(clock);
    const fired: string[] = [];
    q.after(300, () => fired.push("300"));
    q.after(100, () => fired.push("100"));
    advance(100);
    expect(fired).toEqual(["100"]);
    advance(200);
    expect(fired).toEqual(["100", "300"]);
  });
});
