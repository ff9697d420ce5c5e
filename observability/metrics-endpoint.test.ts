// The metrics port's window answer over a real prom-client registry with Dapr's invocation
// families (recorded as the metrics layers record a call): what each window holds, and the
// refusal of a bad `seconds`.

import { describe, expect, it } from "vitest";
import { Registry } from "prom-client";
import { metricsHandler, readStatFamilies } from "./metrics-endpoint.ts";
import { StatHistory } from "./stat-history.ts";
import { DEFAULT_METRICS, HttpMetrics } from "./http-metrics.ts";
import { STAT_FAMILIES, windowFromJSON } from "./stat.ts";
import type { Incoming } from "../core/incoming.ts";

const get = (target: string) => ({ method: "GET", target }) as unknown as Incoming;

describe("metrics endpoint", () => {
  it("answers the last window as JSON, and refuses a window it cannot hold", async () => {
    const registry = new Registry();
    const m = new HttpMetrics(registry, DEFAULT_METRICS, "storefront");
    let now = 5_000;
    const read = () => readStatFamilies(registry);
    // Dapr's metrics register every family the history reads.
    expect((await read()).map((f) => f.name)).toEqual([...STAT_FAMILIES]);
    const history = new StatHistory({ read, now: () => now });
    const handler = metricsHandler(registry, history);
    // Three calls to orders before the snapshot, two (one failed by the sidecar) after it.
    const orders = m.invocation("orders");
    const call = (status: number, ms: number, reason?: string) => {
      const s = orders.byStatus(status);
      s.responses.value++;
      s.latency.observe(ms);
      if (reason) orders.failed(reason).value++;
    };
    for (let i = 0; i < 3; i++) call(200, 4);
    now += 2_000;
    await history.record();
    call(200, 12);
    call(500, 1, "app_unreachable");
    now += 1_000;
    const recent = windowFromJSON(await (await handler(get("/metrics/window?seconds=1"))).json());
    expect(recent.seconds).toBe(1);
    expect(recent.targets.get("orders")).toMatchObject({ total: 2, ok: 1, reasons: new Map([["app_unreachable", 1]]) });
    const all = windowFromJSON(await (await handler(get("/metrics/window?seconds=10"))).json());
    expect(all.seconds).toBe(3);
    expect(all.targets.get("orders")).toMatchObject({ total: 5, ok: 4 });
    expect(all.targets.get("orders")!.buckets.get(5)).toBe(4);
    for (const bad of ["", "?seconds=0", "?seconds=0.5", "?seconds=61", "?seconds=soon"]) {
      const r = await handler(get(`/metrics/window${bad}`));
      expect(r.status, bad).toBe(400);
      expect(await r.text()).toMatch(/^seconds: give a number of seconds from 1 to 60/);
    }
    expect((await handler(get("/metrics"))).status).toBe(200);
    expect((await handler(get("/nope"))).status).toBe(404);
  });
});
