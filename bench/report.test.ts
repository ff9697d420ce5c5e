import { describe, expect, it } from "vitest";
import { maxRatio, pairedSpread, tracingTargets, type PathResult, type Report } from "./report.ts";
import { TWO_SIDECARS, TWO_SIDECARS_TRACED } from "./scenarios.ts";

describe("maxRatio", () => {
  it("takes the median of the ratios of rounds run back to back", () => {
    const path = (rounds: number[]) => ({ name: "x", vcpu: [], peakRssMb: [], rounds, load: { rps: [...rounds].sort((a, b) => a - b)[Math.floor(rounds.length / 2)]! } }) as never;
    // haproxy's rounds jump from 10k to 17k while meshlet's stay near 9k: paired rounds say 0.59.
    const m = maxRatio(path([9218, 8788, 8205, 8456, 10356]), path([9927, 9928, 16004, 17249, 17494]));
    expect(m.paired).toBeCloseTo(10356 / 17494, 5);
    expect(m.ofMedians).toBeCloseTo(8788 / 16004, 5);
    expect(maxRatio(path([5, 6]), path([10, 10])).paired).toBeCloseTo(0.55);
  });
});

describe("pairedSpread", () => {
  it("gives per process the lowest and highest ratio of rounds run back to back", () => {
    const path = (roundVcpu: number[][]) => ({ name: "x", vcpu: roundVcpu[0]!.map(() => 0), peakRssMb: [], roundVcpu, load: {} }) as never;
    const plain = path([
      [0.1, 0.08],
      [0.08, 0.1],
      [0.1, 0.1],
    ]);
    const traced = path([
      [0.11, 0.1],
      [0.1, 0.105],
      [0.107, 0.12],
    ]);
    expect(pairedSpread(traced, plain)).toBe("paired rounds +7..+25 % / +5..+25 %");
    // One round says nothing about the spread.
    expect(pairedSpread(path([[0.1, 0.1]]), path([[0.1, 0.1]]))).toBe("");
  });
});

describe("tracingTargets", () => {
  it("judges tracing's RSS against the 60 MB goal, with what each sidecar used in a round beside it", () => {
    const path = (name: string, vcpu: number[], peakRssMb: number[], touchedMb?: number[]) => ({ name, vcpu, peakRssMb, ...(touchedMb ? { touchedMb } : {}), load: { pace: "even", p50: 0.25 } }) as PathResult;
    const report = (traced: PathResult) => ({ fixed: [path(TWO_SIDECARS, [0.08, 0.08], [71, 68]), traced] }) as Report;
    const rss = (traced: PathResult) => tracingTargets(report(traced), "even").find((t) => t.goal.includes("RSS"))!;
    const over = rss(path(TWO_SIDECARS_TRACED, [0.09, 0.09], [80, 66], [38.4, 36]));
    expect(over.met).toBe(false);
    expect(over.measured).toBe("80 + 66 MB (+9 / -2 MB over none); used in a round 38 + 36 MB");
    const within = rss(path(TWO_SIDECARS_TRACED, [0.09, 0.09], [60, 59]));
    expect(within.met).toBe(true);
    expect(within.measured).toBe("60 + 59 MB (-11 / -9 MB over none)");
  });
});
