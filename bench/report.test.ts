import { describe, expect, it } from "vitest";
import { maxRatio, pairedSpread } from "./report.ts";

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
