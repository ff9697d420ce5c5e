// meshlet stat's arithmetic on hand-made /metrics.json families: rates, success, quantiles as
// histogram_quantile computes them, top reasons, several sidecars and a restarted one.

import { describe, expect, it } from "vitest";
import { bucketQuantile, snapshot, statRows, windowBetween, windowFromJSON, windowToJSON, type Family } from "./stat.ts";

function families(target: string, ok: number, failed: number, buckets: Record<string, number>, reasons: Record<string, number> = {}): Family[] {
  const h = "dapr_runtime_service_invocation_res_recv_latency_ms";
  return [
    {
      name: "dapr_runtime_service_invocation_res_recv_total",
      type: "counter",
      values: [
        { labels: { src_app_id: target, status: "200", type: "unary" }, value: ok },
        { labels: { src_app_id: target, status: "503", type: "unary" }, value: failed },
      ],
    },
    {
      name: h,
      type: "histogram",
      values: [
        ...Object.entries(buckets).map(([le, v]) => ({ metricName: `${h}_bucket`, labels: { src_app_id: target, status: "200", le: le === "+Inf" ? le : Number(le) }, value: v })),
        { metricName: `${h}_count`, labels: { src_app_id: target, status: "200" }, value: 12345 },
      ],
    },
    {
      name: "meshlet_invocation_errors_total",
      type: "counter",
      values: Object.entries(reasons).map(([reason, n]) => ({ labels: { dst_app_id: target, reason }, value: n })),
    },
  ];
}

describe("bucketQuantile", () => {
  it("interpolates inside the bucket holding the rank, and stops at the highest finite bound", () => {
    const b = new Map([
      [1, 10],
      [5, 90],
      [10, 100],
      [Infinity, 100],
    ]);
    expect(bucketQuantile(0.5, b)).toBeCloseTo(1 + (4 * 40) / 80);
    expect(bucketQuantile(0.95, b)).toBeCloseTo(5 + (5 * 5) / 10);
    expect(bucketQuantile(0.05, b)).toBeCloseTo(0.5);
    expect(bucketQuantile(0.99, new Map([[2, 1], [Infinity, 100]]))).toBe(2);
    expect(bucketQuantile(0.5, new Map())).toBeNull();
  });
});

describe("statRows", () => {
  it("adds the window's deltas of every sidecar, per target, and ranks the sidecar-made reasons", () => {
    const before = new Map([
      ["a", snapshot(families("orders", 100, 0, { "1": 50, "10": 100, "+Inf": 100 }, { app_unreachable: 1 }))],
      ["b", snapshot(families("orders", 0, 0, { "1": 0, "10": 0, "+Inf": 0 }))],
    ]);
    const after = new Map([
      ["a", snapshot(families("orders", 180, 10, { "1": 90, "10": 190, "+Inf": 190 }, { app_unreachable: 4, peer_unreachable: 7 }))],
      ["b", snapshot(families("orders", 10, 0, { "1": 10, "10": 10, "+Inf": 10 }))],
    ]);
    const [row] = statRows(["a", "b"].map((k) => windowBetween(before.get(k)!, after.get(k)!, 10)));
    expect(row).toMatchObject({ appId: "orders", requests: 100, rps: 10, success: 0.9 });
    expect(row!.topErrors).toEqual([
      { reason: "peer_unreachable", count: 7 },
      { reason: "app_unreachable", count: 3 },
    ]);
    // 50 of 100 under 1 ms, all under 10 ms.
    expect(row!.p50Ms).toBeCloseTo(1);
    expect(row!.p99Ms).toBeCloseTo(1 + (9 * 49) / 50);
  });

  it("counts a restarted sidecar's counters from zero instead of going negative", () => {
    const before = new Map([["a", snapshot(families("cart", 500, 0, { "+Inf": 500 }))]]);
    const after = new Map([["a", snapshot(families("cart", 20, 0, { "+Inf": 20 }))]]);
    expect(statRows([windowBetween(before.get("a")!, after.get("a")!, 5)])[0]).toMatchObject({ requests: 20, rps: 4, success: 1 });
  });

  it("rates each sidecar over the span its own window covers, and reads windows back from JSON unchanged", () => {
    const zero = snapshot(families("orders", 0, 0, { "5": 0, "+Inf": 0 }));
    // One sidecar has run 20 s, the other only 4 s of the 20 asked for.
    const old = windowBetween(zero, snapshot(families("orders", 40, 0, { "5": 40, "+Inf": 40 })), 20);
    const young = windowBetween(zero, snapshot(families("orders", 8, 0, { "5": 4, "+Inf": 8 }, { app_unreachable: 2 })), 4);
    const again = [old, young].map((w) => windowFromJSON(JSON.parse(JSON.stringify(windowToJSON(w)))));
    expect(again[1]!.targets.get("orders")!.buckets.get(Infinity)).toBe(8);
    for (const ws of [[old, young], again]) {
      const [row] = statRows(ws);
      expect(row).toMatchObject({ appId: "orders", requests: 48, rps: 40 / 20 + 8 / 4, topErrors: [{ reason: "app_unreachable", count: 2 }] });
    }
    expect(() => windowFromJSON({ targets: {} })).toThrow(/not a stat window/);
  });
});
