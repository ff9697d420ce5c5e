import { describe, expect, it } from "vitest";
import { EndpointLoad } from "./p2c.ts";
import { endpoint } from "../core/call.ts";

describe("power of two choices over outstanding x EWMA", () => {
  const fast = endpoint("10.0.0.1", 1);
  const slow = endpoint("10.0.0.2", 1);

  it("sends a 10x slower instance under 20% of calls, even with concurrency", () => {
    let now = 0;
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const lb = new EndpointLoad(() => now, random);
    const inflight: Array<{ ep: typeof fast; at: number; done: number }> = [];
    const picks = { fast: 0, slow: 0 };
    // 4 concurrent callers; fast answers in 2 ms, slow in 20 ms; simulate 2,000 calls.
    for (let i = 0; i < 2000; i++) {
      while (inflight.length >= 4) {
        inflight.sort((a, b) => a.done - b.done);
        const f = inflight.shift()!;
        now = Math.max(now, f.done);
        lb.finish(f.ep, f.at, true);
      }
      const ep = lb.pick([fast, slow]);
      picks[ep === fast ? "fast" : "slow"]++;
      const at = lb.start(ep);
      inflight.push({ ep, at, done: now + (ep === fast ? 2 : 20) });
    }
    expect(picks.slow / 2000).toBeLessThan(0.2);
    expect(picks.slow).toBeGreaterThan(0); // still probed now and then
  });

  it("does not judge an instance by its first answer (a cold start), only from the second on", () => {
    let now = 0;
    const lb = new EndpointLoad(() => now, () => 0.5);
    lb.finish(slow, lb.start(slow), true);
    now = 1;
    let at = lb.start(fast);
    now = 200; // the first answer took 199 ms: TLS verification, JIT, the app's first request
    lb.finish(fast, at, true);
    expect(lb.score(fast)).toBeLessThanOrEqual(lb.score(slow));
    at = lb.start(fast);
    now = 400; // the second one counts
    lb.finish(fast, at, true);
    expect(lb.score(fast)).toBeGreaterThan(lb.score(slow));
  });

  it("treats a failure as slow, so the next pick prefers the other instance", () => {
    let now = 0;
    const lb = new EndpointLoad(() => now, () => 0.5);
    lb.finish(fast, lb.start(fast), true);
    lb.finish(slow, lb.start(slow), true);
    now = 5;
    lb.finish(fast, lb.start(fast), false);
    expect(lb.score(fast)).toBeGreaterThan(lb.score(slow));
    expect(lb.pick([fast, slow])).toBe(slow);
  });
  it("tries an instance it has not measured before ones it has, even ones under 1 ms", () => {
    let now = 0;
    const lb = new EndpointLoad(() => now, () => 0);
    // Sequential calls: "fast" answered twice in 0.3 ms, so it is measured; "slow" never tried.
    for (let i = 0; i < 2; i++) {
      const at = lb.start(fast);
      now += 0.3;
      lb.finish(fast, at, true);
    }
    expect(lb.pick([fast, slow])).toBe(slow);
    expect(lb.pick([slow, fast])).toBe(slow);
    // While its first request is in flight, the others take the concurrent ones.
    lb.start(slow);
    expect(lb.pick([fast, slow])).toBe(fast);
  });

  it("lets a failed instance back in within a few seconds while the other stays healthy", () => {
    let now = 0;
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const lb = new EndpointLoad(() => now, random);
    for (const ep of [fast, slow, fast, slow]) lb.finish(ep, lb.start(ep), true);
    now += 1;
    lb.finish(slow, lb.start(slow), false); // one failure: a 1,000 ms penalty
    let firstBack = -1;
    // One call every 10 ms, each answered in 2 ms by whichever instance is picked.
    for (let t = 0; t < 20_000 && firstBack < 0; t += 10) {
      now = 10 + t;
      const ep = lb.pick([fast, slow]);
      if (ep === slow) firstBack = t;
      const at = lb.start(ep);
      now += 2;
      lb.finish(ep, at, true);
    }
    expect(firstBack).toBeGreaterThan(1_000);
    expect(firstBack).toBeLessThan(6_000);
    // Once back and healthy, it takes about half the calls again.
    let picks = 0;
    for (let k = 0; k < 1_000; k++) {
      now += 10;
      const ep = lb.pick([fast, slow]);
      if (ep === slow) picks++;
      const at = lb.start(ep);
      now += 2;
      lb.finish(ep, at, true);
    }
    expect(picks).toBeGreaterThan(300);
    expect(picks).toBeLessThan(700);
  });
  it("says which endpoints are new, healthy or failing", () => {
    let now = 0;
    const lb = new EndpointLoad(() => now, () => 0.5);
    const third = endpoint("10.0.0.3", 1);
    lb.finish(fast, lb.start(fast), true);
    lb.finish(slow, lb.start(slow), true);
    now = 5;
    lb.finish(slow, lb.start(slow), false);
    expect(lb.states([fast, slow, third])).toEqual({ new: 1, healthy: 1, failing: 1 });
    lb.finish(slow, lb.start(slow), true);
    expect(lb.states([fast, slow, third])).toEqual({ new: 1, healthy: 2, failing: 0 });
  });
});

describe("warm-up of an instance that joins (warmupDurationSecs)", () => {
  // Three instances from the start, all answering in 2 ms; a fourth joins at t = 0.
  function run(warmupMs: number, joinedAtStart = false) {
    let now = -1000;
    let seed = 7;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const lb = new EndpointLoad(() => now, random, warmupMs);
    const old = [1, 2, 3].map((i) => endpoint(`10.0.0.${i}`, 1));
    const joined = endpoint("10.0.0.9", 1);
    lb.seen(joinedAtStart ? [...old, joined] : old);
    for (const ep of old) for (let k = 0; k < 3; k++) lb.finish(ep, lb.start(ep), true);
    now = 0;
    /** The joined instance's share of 2,000 sequential 2 ms calls starting at `at` ms. */
    const share = (at: number) => {
      now = at;
      let mine = 0;
      for (let i = 0; i < 2000; i++) {
        const ep = lb.pick([...old, joined]);
        if (ep === joined) mine++;
        const t0 = lb.start(ep);
        now += 0.01;
        lb.finish(ep, t0 - 2, true);
      }
      return mine / 2000;
    };
    return share;
  }

  it("gives it a trickle first, more as it warms, and its full share after the warm-up", () => {
    const share = run(60_000);
    const cold = share(0);
    const half = share(30_000);
    const warm = share(61_000);
    expect(cold).toBeLessThan(0.1);
    expect(half).toBeGreaterThan(cold);
    expect(warm).toBeGreaterThan(0.18);
  });

  it("leaves the instances there from the start alone, and does nothing when not configured", () => {
    expect(run(60_000, true)(0)).toBeGreaterThan(0.18);
    expect(run(0)(0)).toBeGreaterThan(0.18);
  });
});
