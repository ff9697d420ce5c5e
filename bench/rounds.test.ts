import { describe, expect, it } from "vitest";
import { mergeRounds, type Round } from "./rounds.ts";

function round(latencies: number[], seconds: number, vcpu: number[], rss: number[]): Round {
  return {
    name: "p",
    seconds,
    latencies: [...latencies].sort((a, b) => a - b),
    vcpu,
    peakRssMb: rss,
    peakPrivateMb: rss.map((m) => m / 2),
    touchedMb: rss.map((m) => m / 4),
    load: { requests: latencies.length, ok: latencies.length, rps: latencies.length / seconds, errors: 0, non2xx: 1, statuses: { "200": latencies.length, "503": 1 }, p50: null, p90: null, p99: null, p999: null, pace: "even", lagP99: seconds },
  };
}

describe("mergeRounds", () => {
  it("leaves the working set out when a round did not measure it", () => {
    const { touchedMb: _, ...unmeasured } = round([0.2], 10, [0.1], [50]);
    expect(mergeRounds([round([0.1], 10, [0.1], [40]), unmeasured]).touchedMb).toBeUndefined();
    expect(mergeRounds([round([0.1], 10, [0.1], [40]), round([0.2], 10, [0.1], [48])]).touchedMb).toEqual([12]);
  });

  it("pools latencies, weights CPU by time and keeps the peak memory", () => {
    const fast = Array.from({ length: 100 }, (_, i) => 0.1 + i / 1000);
    const slow = Array.from({ length: 100 }, (_, i) => 1 + i / 100);
    const m = mergeRounds([round(fast, 10, [0.1, 0.2], [50, 40]), round(slow, 30, [0.3, 0.2], [45, 60])]);
    expect(m.load.ok).toBe(200);
    expect(m.load.rps).toBe(5);
    expect(m.load.p50).toBe(slow[0]);
    expect(m.load.p99).toBe(slow[98]);
    expect(m.vcpu[0]).toBeCloseTo((0.1 * 10 + 0.3 * 30) / 40);
    expect(m.vcpu[1]).toBeCloseTo(0.2);
    expect(m.peakRssMb).toEqual([50, 60]);
    expect(m.peakPrivateMb).toEqual([25, 30]);
    expect(m.touchedMb).toEqual([12.5, 15]);
    expect(m.load.statuses).toEqual({ "200": 200, "503": 2 });
    expect(m.load.non2xx).toBe(2);
    expect(m.load.lagP99).toBe(30);
    expect(m.roundP99).toHaveLength(2);
    expect(m.roundVcpu).toEqual([
      [0.1, 0.2],
      [0.3, 0.2],
    ]);
  });

  it("refuses an empty list", () => {
    expect(() => mergeRounds([])).toThrow(/no rounds/);
  });
});
