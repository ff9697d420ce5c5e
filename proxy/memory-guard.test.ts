// The memory guard on a fake clock over a scripted RSS and a scripted collector: over the limit it
// collects first and sheds only if that was not enough, keeps shedding down to the resume mark
// (collecting again at most every COLLECT_EVERY_MS), says once when an episode lasts, and
// samples on its own every SAMPLE_MS until stopped.

import { describe, expect, it } from "vitest";
import { COLLECT_EVERY_MS, MemoryGuard, SAMPLE_MS, STUCK_MS, type MemoryGuardEvent } from "./memory-guard.ts";
import { fakeClock } from "../core/fake-clock.ts";

const MiB = 1024 ** 2;

/** `garbage` is what a collection frees (MB), as Bun's full collection freed a burst's buffers. */
function guarded(o: { limitMb?: number; collect?: boolean } = {}) {
  const fc = fakeClock();
  const rss = { mb: 100, garbage: 0 };
  const events: MemoryGuardEvent[] = [];
  const collect = () => {
    rss.mb -= rss.garbage;
    rss.garbage = 0;
  };
  const guard = new MemoryGuard({ limitBytes: (o.limitMb ?? 200) * MiB, clock: fc.clock, rss: () => rss.mb * MiB, collect: o.collect === false ? undefined : collect, onChange: (e) => events.push(e) });
  return { fc, rss, guard, events };
}

describe("MemoryGuard", () => {
  it("collects garbage at the limit and refuses nothing when that is enough", () => {
    const g = guarded();
    g.rss.mb = 199.9;
    g.guard.sample();
    expect([g.guard.shedding, g.guard.collections]).toEqual([false, 0]);
    g.rss.mb = 230;
    g.rss.garbage = 100;
    g.guard.sample();
    expect([g.guard.shedding, g.guard.collections, g.rss.mb]).toEqual([false, 1, 130]);
    expect(g.events).toEqual([]);
  });

  it("sheds when collecting is not enough, collects at most every second meanwhile, and resumes under 90 % of the limit", () => {
    const g = guarded();
    g.rss.mb = 230;
    g.rss.garbage = 10;
    g.guard.sample();
    expect([g.guard.shedding, g.guard.collections]).toEqual([true, 1]);
    expect(g.events).toEqual([{ kind: "shedding", rssBytes: 220 * MiB }]);
    g.guard.refuse(null, false);
    g.guard.refuse(null, false);
    // The calls in flight finish and leave garbage; the next collection is a second after the last.
    g.rss.garbage = 60;
    g.fc.advance(COLLECT_EVERY_MS - 1);
    g.guard.sample();
    expect([g.guard.shedding, g.guard.collections]).toEqual([true, 1]);
    g.fc.advance(1);
    g.guard.sample();
    expect([g.guard.shedding, g.guard.collections, g.rss.mb]).toEqual([false, 2, 160]);
    expect(g.events[1]).toEqual({ kind: "resumed", rssBytes: 160 * MiB, refused: 2, ms: COLLECT_EVERY_MS });
  });

  it("without a collector, sheds from the limit and resumes only under the resume mark", () => {
    const g = guarded({ collect: false });
    g.rss.mb = 200;
    g.guard.sample();
    expect(g.guard.shedding).toBe(true);
    g.guard.refuse(null, false);
    g.rss.mb = 181;
    g.guard.sample();
    expect(g.guard.shedding).toBe(true);
    g.rss.mb = 179;
    g.guard.sample();
    expect(g.guard.shedding).toBe(false);
    // A second episode counts its own refusals.
    g.rss.mb = 300;
    g.guard.sample();
    g.guard.refuse(null, false);
    g.rss.mb = 100;
    g.guard.sample();
    expect(g.events.map((e) => e.kind)).toEqual(["shedding", "resumed", "shedding", "resumed"]);
    expect(g.events.at(-1)).toMatchObject({ refused: 1 });
    expect([g.guard.refusedTotal, g.guard.collections]).toEqual([2, 0]);
  });

  it("says once when an episode outlasts STUCK_MS", () => {
    const g = guarded();
    g.rss.mb = 250;
    g.guard.sample();
    g.fc.advance(STUCK_MS - 1);
    g.guard.sample();
    expect(g.events.map((e) => e.kind)).toEqual(["shedding"]);
    g.fc.advance(1);
    g.guard.sample();
    g.fc.advance(5_000);
    g.guard.sample();
    expect(g.events.map((e) => e.kind)).toEqual(["shedding", "stuck"]);
    expect(g.events[1]).toMatchObject({ rssBytes: 250 * MiB, ms: STUCK_MS });
  });

  it("samples every SAMPLE_MS on its clock once started, and not after stop()", () => {
    const g = guarded();
    g.guard.start();
    expect(g.fc.pending()).toBe(1);
    g.rss.mb = 210;
    g.fc.advance(SAMPLE_MS - 1);
    expect(g.guard.shedding).toBe(false);
    g.fc.advance(1);
    expect(g.guard.shedding).toBe(true);
    g.guard.stop();
    expect(g.fc.pending()).toBe(0);
    g.rss.mb = 10;
    g.fc.advance(10 * SAMPLE_MS);
    expect(g.guard.shedding).toBe(true);
  });
});
