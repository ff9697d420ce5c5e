import { describe, expect, it } from "vitest";
import { CircuitBreaker, type BreakerState } from "./breaker.ts";
import { compileTrip } from "./trip.ts";
import type { BreakerPolicy } from "./policy/types.ts";

const policy = (p: Partial<BreakerPolicy> = {}): BreakerPolicy => ({
  name: "cb",
  maxRequests: 1,
  interval: 0,
  timeout: 30_000,
  trip: "consecutiveFailures > 2",
  tripFn: compileTrip(p.trip ?? "consecutiveFailures > 2"),
  ...p,
});

function setup(p: BreakerPolicy) {
  let now = 0;
  const changes: string[] = [];
  const b = new CircuitBreaker(p, () => now, (from: BreakerState, to: BreakerState) => changes.push(`${from}->${to}@${now}`));
  const run = (ok: boolean) => {
    const a = b.admit();
    if (!a.ok) return a.why;
    b.record(a.generation, ok);
    return "sent";
  };
  return { b, run, changes, advance: (ms: number) => void (now += ms) };
}

describe("circuit breaker (fake clock)", () => {
  it("opens when the trip expression holds, fails fast, half-opens after exactly `timeout`", () => {
    const { b, run, changes, advance } = setup(policy());
    expect([run(false), run(false), run(false)]).toEqual(["sent", "sent", "sent"]);
    expect(b.current()).toBe("open");
    expect(run(true)).toBe("open");
    advance(29_999);
    expect(run(true)).toBe("open");
    advance(1);
    expect(b.current()).toBe("half-open");
    expect(changes).toEqual(["closed->open@0", "open->half-open@30000"]);
  });

  it("half-open admits maxRequests, closes after that many successes", () => {
    const { b, advance } = setup(policy({ maxRequests: 2 }));
    for (let i = 0; i < 3; i++) {
      const a = b.admit();
      if (a.ok) b.record(a.generation, false);
    }
    advance(30_000);
    const a1 = b.admit();
    const a2 = b.admit();
    const a3 = b.admit();
    expect([a1.ok, a2.ok, a3.ok]).toEqual([true, true, false]);
    expect(!a3.ok && a3.why).toBe("too_many_requests");
    if (a1.ok) b.record(a1.generation, true);
    expect(b.current()).toBe("half-open");
    if (a2.ok) b.record(a2.generation, true);
    expect(b.current()).toBe("closed");
  });

  it("any half-open failure reopens for another full timeout", () => {
    const { b, run, advance } = setup(policy());
    run(false);
    run(false);
    run(false);
    advance(30_000);
    expect(run(false)).toBe("sent");
    expect(b.current()).toBe("open");
    advance(29_999);
    expect(b.current()).toBe("open");
    advance(1);
    expect(b.current()).toBe("half-open");
  });

  it("resets closed-state counts every `interval`", () => {
    const { b, run, advance } = setup(policy({ interval: 10_000 }));
    run(false);
    run(false);
    advance(10_000);
    run(false);
    run(false);
    expect(b.current()).toBe("closed");
    run(false);
    expect(b.current()).toBe("open");
  });

  it("ignores results from before a state change", () => {
    const { b, run } = setup(policy());
    const stale = b.admit();
    run(false);
    run(false);
    run(false);
    expect(b.current()).toBe("open");
    if (stale.ok) b.record(stale.generation, true);
    expect(b.current()).toBe("open");
  });

  it("supports expressions over the other counters", () => {
    const { b, run } = setup(policy({ trip: "requests >= 4 && totalFailures * 2 >= requests" }));
    run(true);
    run(false);
    run(true);
    expect(b.current()).toBe("closed");
    run(false);
    expect(b.current()).toBe("open");
  });
});
