import { describe, expect, it } from "vitest";
import { createLogger, throttledInfo } from "./log.ts";

describe("throttledInfo", () => {
  it("logs once per key per window and reports how many were folded", () => {
    let now = 0;
    const lines: string[] = [];
    const log = throttledInfo(createLogger("info", {}, (l) => lines.push(l)), 1000, () => now);
    for (let i = 0; i < 100; i++) log("app_id_not_found\u0000x", "invoke failed", { target: "x" });
    log("peer_unreachable\u0000x", "invoke failed", { target: "x" });
    expect(lines).toHaveLength(2);
    now = 1000;
    log("app_id_not_found\u0000x", "invoke failed", { target: "x" });
    expect(lines[2]).toContain("similar_events_folded=99");
  });

  it("filters by level and quotes values with spaces", () => {
    const lines: string[] = [];
    const log = createLogger("warn", { app_id: "a" }, (l) => lines.push(l));
    log.info("hidden");
    log.warn("shown", { error: "two words" });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/level=warn msg="shown" app_id=a error="two words"$/);
  });
});

describe("log escaping", () => {
  it("escapes control, bidi and format characters in values and messages", () => {
    const lines: string[] = [];
    const log = createLogger("info", {}, (l) => lines.push(l));
    const hostile = "a\u001b[31mb\u0000c\u202ed\u2066e\u200bf\r\ng\u0085";
    log.info(`failed for ${hostile}`, { target: hostile, plain: "orders-1.default" });
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u200b\u202e\u2066]/);
    expect(line).toContain('target="a\\u001b[31mb\\u0000c\\u202ed\\u2066e\\u200bf\\r\\ng\\u0085"');
    expect(line).toContain("plain=orders-1.default");
  });

  it("quotes values with spaces, quotes or equals signs", () => {
    const lines: string[] = [];
    createLogger("info", {}, (l) => lines.push(l)).info("m", { a: 'x="y"', b: "p q" });
    expect(lines[0]).toContain(' a="x=\\"y\\"" b="p q"');
  });
});

describe("throttledInfo under a flood of distinct keys", () => {
  it("writes at most maxPerWindow lines per window and reports the rest in one line", () => {
    let now = 0;
    const lines: string[] = [];
    const log = throttledInfo(createLogger("info", {}, (l) => lines.push(l)), 1000, () => now, 5);
    for (let i = 0; i < 1000; i++) log(`app_id_not_found\u0000id${i}`, "invoke failed", { target: `id${i}` });
    expect(lines).toHaveLength(5);
    now = 1000;
    log("app_id_not_found\u0000late", "invoke failed", { target: "late" });
    expect(lines[5]).toMatch(/log lines suppressed.*suppressed=995/);
    expect(lines[6]).toContain("target=late");
  });
});

describe("JSON lines (--log-as-json)", () => {
  it("writes one JSON object per line with Dapr's keys first and client text escaped", () => {
    const lines: string[] = [];
    const log = createLogger("info", { app_id: "orders", scope: "meshlet", instance: "host-1", ver: "0.1.0" }, (l) => lines.push(l), true);
    log.info("invoke failed", { reason: "app_id_not_found", target: "evil\u202e\u0007id", trace_id: "4bf92f3577b34da6a3ce929d0e0e4736" });
    log.debug("hidden");
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain("\u202e");
    const o = JSON.parse(lines[0]!) as Record<string, string>;
    expect(Object.keys(o).slice(0, 4)).toEqual(["time", "level", "msg", "type"]);
    expect(o).toMatchObject({ level: "info", msg: "invoke failed", type: "log", app_id: "orders", scope: "meshlet", instance: "host-1", ver: "0.1.0", reason: "app_id_not_found", trace_id: "4bf92f3577b34da6a3ce929d0e0e4736" });
    expect(o.target).toBe("evil\u202e\u0007id");
    expect(Number.isNaN(Date.parse(o.time!))).toBe(false);
  });
});
