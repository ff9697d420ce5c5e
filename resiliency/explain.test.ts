// explain's words for durations: as Go writes them, without zero parts, so 15 minutes reads
// "15m" rather than "900s".

import { describe, expect, it } from "vitest";
import { ms } from "./explain.ts";

describe("durations in explain", () => {
  it("reads as Go writes them", () => {
    expect([250, 1000, 1500, 90_000, 900_000, 3_600_000, 5_430_000].map(ms)).toEqual(["250ms", "1s", "1.5s", "1m30s", "15m", "1h", "1h30m30s"]);
  });
});
