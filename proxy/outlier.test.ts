// Outlier ejection on injected time: failures in a row eject, ejections grow and are capped, the
// share of ejected endpoints is honoured (counting the new one), and a pool never empties.

import { describe, expect, it } from "vitest";
import { endpoint } from "../core/call.ts";
import { DEFAULT_OUTLIER } from "../resiliency/policy/types.ts";
import { OutlierDetector } from "./outlier.ts";

const [a, b, c] = [endpoint("10.0.0.1", 1), endpoint("10.0.0.2", 1), endpoint("10.0.0.3", 1)];

function setup(policy = DEFAULT_OUTLIER) {
  let now = 0;
  const ejections: string[] = [];
  const d = new OutlierDetector(policy, () => now, (ep, ms, failures, n) => ejections.push(`${ep} ${ms} ${failures} #${n}`));
  const fail = (key: string, times: number, total = 3) => {
    for (let i = 0; i < times; i++) d.failed(key, total);
  };
  return { d, ejections, fail, advance: (ms: number) => (now += ms) };
}

describe("outlier ejection", () => {
  it("ejects after 5 failures in a row, for 5 s, then 10 s on a repeat, and forgives an endpoint healthy for a while", () => {
    const { d, ejections, fail, advance } = setup();
    fail(a.key, 4);
    d.succeeded(a.key);
    fail(a.key, 4);
    expect(d.isEjected(a.key)).toBe(false);
    fail(a.key, 1);
    expect(ejections).toEqual(["10.0.0.1:1 5000 5 #1"]);
    expect(d.admitted([a, b, c])).toEqual([b, c]);
    advance(5_000);
    expect(d.admitted([a, b, c])).toEqual([a, b, c]);
    fail(a.key, 5);
    expect(ejections.at(-1)).toBe("10.0.0.1:1 10000 5 #2");
    advance(10_000);
    // Healthy for longer than the base time after its ejection: the next one is short again.
    advance(6_000);
    d.succeeded(a.key);
    fail(a.key, 5);
    expect(ejections.at(-1)).toBe("10.0.0.1:1 10000 5 #2");
  });

  it("never lasts past the maximum", () => {
    const { ejections, fail, advance } = setup({ ...DEFAULT_OUTLIER, baseEjectionMs: 20_000, maxEjectionMs: 30_000 });
    for (let i = 0; i < 4; i++) {
      fail(a.key, 5);
      advance(60_000);
    }
    expect(ejections.map((e) => e.split(" ")[1])).toEqual(["20000", "30000", "30000", "30000"]);
  });

  it("honours the share, counting the ejection it is about to make", () => {
    const { d, ejections, fail, advance } = setup();
    // Three endpoints at 50 %: one may be out at a time.
    fail(a.key, 5);
    fail(b.key, 5);
    expect(ejections).toHaveLength(1);
    expect(d.count([a, b, c])).toBe(1);
    advance(5_000);
    fail(b.key, 5);
    expect(d.isEjected(b.key)).toBe(true);
    // One endpoint alone is never ejected; 0 % turns ejection off.
    const lone = setup();
    lone.fail(a.key, 50, 1);
    expect(lone.ejections).toEqual([]);
    const off = setup({ ...DEFAULT_OUTLIER, maxEjectionPercent: 0 });
    off.fail(a.key, 50, 3);
    expect(off.ejections).toEqual([]);
  });

  it("uses the whole pool when every endpoint left in it is ejected (panic), rather than none", () => {
    const { d, fail } = setup();
    fail(a.key, 5, 2);
    expect(d.admitted([a, b])).toEqual([b]);
    expect(d.admitted([a])).toEqual([a]);
  });
});
