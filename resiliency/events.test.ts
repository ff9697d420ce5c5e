import { describe, expect, it } from "vitest";
import { resilienceEvents } from "./events.ts";
import { createLogger } from "../core/log.ts";
import { Metrics } from "../core/metrics.ts";

describe("resilience events", () => {
  it("counts every event but logs each kind once per target per window, then says how many were folded", async () => {
    let now = 0;
    const lines: string[] = [];
    const metrics = new Metrics();
    const ev = resilienceEvents({ appId: "me", namespace: "default", log: createLogger("info", {}, (l) => lines.push(l)), metrics, windowMs: 10_000, now: () => now });
    for (let i = 0; i < 50; i++) ev.retry("orders", "three", 1, "status 503");
    for (let i = 0; i < 5; i++) ev.retry("billing", "three", 1, "status 503");
    expect(lines.filter((l) => l.includes("retrying call"))).toHaveLength(2);
    now = 10_001;
    ev.retry("orders", "three", 1, "status 503");
    const last = lines.filter((l) => l.includes("target=orders")).pop()!;
    expect(last).toContain("similar_events_folded=49");
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/dapr_resiliency_activations_total\{[^}]*policy="retry"[^}]*target="app_orders"[^}]*\} 51/);
  });

  it("always logs breaker state changes and sets the gauge", async () => {
    const lines: string[] = [];
    const metrics = new Metrics();
    const ev = resilienceEvents({ appId: "me", namespace: "default", log: createLogger("info", {}, (l) => lines.push(l)), metrics });
    ev.breaker("orders", "cb", "orders:x", "closed", "open");
    ev.breaker("orders", "cb", "orders:x", "open", "half-open");
    expect(lines.filter((l) => l.includes("circuit breaker state changed"))).toHaveLength(2);
    expect(await metrics.registry.metrics()).toMatch(/dapr_resiliency_cb_state\{[^}]*key="orders:x"\} 1/);
  });
});
