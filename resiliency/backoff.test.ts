import { describe, expect, it } from "vitest";
import { newBackoff, retryAfterMs } from "./backoff.ts";
import type { RetryPolicy } from "./policy/types.ts";
import { RetryBudget } from "./budget.ts";

const retry = (p: Partial<RetryPolicy>): RetryPolicy => ({
  name: "r",
  policy: "constant",
  duration: 5000,
  initialInterval: 500,
  multiplier: 1.5,
  randomizationFactor: 0.5,
  maxInterval: 60_000,
  maxElapsedTime: 0,
  maxRetries: -1,
  httpStatusCodes: null,
  gRPCStatusCodes: null,
  retryNonIdempotent: false,
  onlyNeverSent: false,
  ...p,
});

describe("backoff", () => {
  it("constant: the same interval every time", () => {
    const b = newBackoff(retry({ duration: 200 }), Math.random);
    expect([b.next(0), b.next(1000), b.next(99_999)]).toEqual([200, 200, 200]);
  });

  it("exponential with jitter 0: 500, 750, 1125 ... capped at maxInterval", () => {
    const b = newBackoff(retry({ policy: "exponential", randomizationFactor: 0, maxInterval: 2000 }), () => 0);
    expect([b.next(0), b.next(0), b.next(0), b.next(0), b.next(0)]).toEqual([500, 750, 1125, 1687, 2000]);
  });

  it("exponential jitter stays within +-randomizationFactor", () => {
    const lo = newBackoff(retry({ policy: "exponential" }), () => 0);
    const hi = newBackoff(retry({ policy: "exponential" }), () => 0.999999);
    expect(lo.next(0)).toBe(250);
    expect(hi.next(0)).toBe(750);
  });

  it("exponential gives up after maxElapsedTime", () => {
    const b = newBackoff(retry({ policy: "exponential", maxElapsedTime: 15 * 60_000 }), () => 0.5);
    expect(b.next(15 * 60_000 - 1)).not.toBeNull();
    expect(b.next(15 * 60_000)).toBeNull();
  });

  it("reads Retry-After seconds and dates", () => {
    expect(retryAfterMs("3", 0)).toBe(3000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(retryAfterMs("soon", 0)).toBeNull();
  });
});

describe("retry budget (fake clock)", () => {
  it("allows 20% of recent requests plus 10 per second over the window", () => {
    let now = 0;
    const b = new RetryBudget({ ratio: 0.2, minPerSecond: 10, windowSeconds: 10 }, () => now);
    for (let i = 0; i < 1000; i++) b.recordRequest();
    let allowed = 0;
    while (b.tryRetry()) allowed++;
    expect(allowed).toBe(200 + 100);
    // The window slides: ten seconds later the old requests and retries are forgotten.
    now += 10_000;
    let again = 0;
    while (b.tryRetry()) again++;
    expect(again).toBe(100);
  });
});
