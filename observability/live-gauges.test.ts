// The memory guard's metrics, read as Prometheus scrapes them: the limit, whether it sheds now,
// and the collections and refusals so far, each read from the guard at scrape time.

import { describe, expect, it } from "vitest";
import { Metrics } from "../core/metrics.ts";
import { EndpointTables, registerLiveGauges } from "./live-gauges.ts";
import { MemoryGuard } from "../proxy/memory-guard.ts";
import { fakeClock } from "../core/fake-clock.ts";
import type { Dialer } from "../runtime/dial.ts";

describe("the memory guard's metrics", () => {
  it("follow the guard between scrapes", async () => {
    const rss = { mb: 100 };
    const guard = new MemoryGuard({ limitBytes: 200 * 1024 ** 2, clock: fakeClock().clock, rss: () => rss.mb * 1024 ** 2, collect: () => {} });
    const { registry } = new Metrics();
    registerLiveGauges(registry, new EndpointTables(10), { app: {} as Dialer, peer: {} as Dialer }, guard);
    const value = async (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(await registry.metrics())?.[1]);
    expect(await value("meshlet_memory_limit_bytes")).toBe(200 * 1024 ** 2);
    expect(await value("meshlet_memory_shedding")).toBe(0);
    rss.mb = 250;
    guard.sample();
    guard.refuse(null, false);
    guard.refuse(null, false);
    expect(await value("meshlet_memory_shedding")).toBe(1);
    expect(await value("meshlet_memory_refused_total")).toBe(2);
    expect(await value("meshlet_memory_collections_total")).toBe(1);
    rss.mb = 100;
    guard.sample();
    expect(await value("meshlet_memory_shedding")).toBe(0);
    expect(await value("meshlet_memory_refused_total")).toBe(2);
  });
});
