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
