// The stat history on a fake clock: which snapshot a window starts from, what a young sidecar
// covers, that a quiet sidecar stores nothing new, and that nothing older than a minute is kept.

import { describe, expect, it } from "vitest";
import { StatHistory } from "./stat-history.ts";
import { statRows, type Family } from "./stat.ts";

/** A sidecar's invocation families after `ok` answers to `target` (all in the 5 ms bucket) and `errors` sidecar-made ones. */
function families(calls: Record<string, { ok: number; errors?: number }>): Family[] {
  const h = "dapr_runtime_service_invocation_res_recv_latency_ms";
  const entries = Object.entries(calls);
  return [
    { name: "dapr_runtime_service_invocation_res_recv_total", type: "counter", values: entries.flatMap(([t, c]) => [{ labels: { src_app_id: t, status: "200" }, value: c.ok }, { labels: { src_app_id: t, status: "500" }, value: c.errors ?? 0 }]) },
    {
      name: h,
      type: "histogram",
      values: entries.flatMap(([t, c]) => [
        { metricName: `${h}_bucket`, labels: { src_app_id: t, le: 5 }, value: c.ok },
        { metricName: `${h}_bucket`, labels: { src_app_id: t, le: "+Inf" }, value: c.ok + (c.errors ?? 0) },
      ]),
    },
    { name: "meshlet_invocation_errors_total", type: "counter", values: entries.filter(([, c]) => c.errors).map(([t, c]) => ({ labels: { dst_app_id: t, reason: "app_unreachable" }, value: c.errors! })) },
  ];
}

function setup() {
  let now = 1_000_000;
  let current: Family[] = [];
  const h = new StatHistory({ read: async () => current, now: () => now, everyMs: 2_000, keepMs: 60_000 });
  return {
    h,
    at: (calls: Record<string, { ok: number; errors?: number }>) => (current = families(calls)),
    tick: async (ms = 2_000) => {
      now += ms;
      await h.record();
    },
  };
}

describe("stat history", () => {
  it("answers the last window from the newest snapshot at least that old", async () => {
    const { h, at, tick } = setup();
    // 10 calls a snapshot to orders, for 30 s.
    for (let i = 1; i <= 15; i++) {
      at({ orders: { ok: 10 * i } });
      await tick();
    }
    at({ orders: { ok: 150 }, cart: { ok: 3, errors: 1 } });
    const w = await h.window(10);
    expect(w.seconds).toBe(10);
    expect(w.targets.get("orders")!.total).toBe(50);
    const rows = statRows([w]);
    expect(rows.map((r) => [r.appId, r.requests, r.rps])).toEqual([
      ["cart", 4, 0.4],
      ["orders", 50, 5],
    ]);
    expect(rows[0]!.topErrors).toEqual([{ reason: "app_unreachable", count: 1 }]);
    // Between snapshots, the window reaches back to the one before it: never shorter than asked.
    const odd = await h.window(3);
    expect(odd.seconds).toBe(4);
    expect(odd.targets.get("orders")!.total).toBe(20);
  });

  it("covers a sidecar younger than the window since its start, and stores nothing new while no calls come", async () => {
    const { h, at, tick } = setup();
    at({ orders: { ok: 7 } });
    await tick();
    const young = await h.window(10);
    expect(young.seconds).toBe(2);
    expect(young.targets.get("orders")!.total).toBe(7);
    const quiet = setup();
    quiet.at({ orders: { ok: 7 } });
    await quiet.tick();
    const [size, distinct] = [quiet.h.size, quiet.h.distinct];
    for (let i = 0; i < 5; i++) await quiet.tick();
    expect(quiet.h.size).toBe(size + 5);
    expect(quiet.h.distinct).toBe(distinct);
    // Five quiet snapshots later, the last 10 s hold no calls.
    expect((await quiet.h.window(10)).targets.get("orders")!.total).toBe(0);
    quiet.at({ orders: { ok: 8 } });
    await quiet.tick();
    expect(quiet.h.distinct).toBe(distinct + 1);
    expect((await quiet.h.window(2)).targets.get("orders")!.total).toBe(1);
  });

  it("keeps one minute, and one snapshot older as the far end of a minute's window", async () => {
    const { h, at, tick } = setup();
    for (let i = 1; i <= 100; i++) {
      at({ orders: { ok: i } });
      await tick();
    }
    expect(h.size).toBe(31);
    const minute = await h.window(60);
    expect(minute.seconds).toBe(60);
    expect(minute.targets.get("orders")!.total).toBe(30);
  });
});
