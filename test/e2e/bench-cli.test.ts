// `meshlet bench` as a user runs it: autocannon through the local sidecar, JSON summary with
// latency percentiles and errors counted by status and by meshlet reason code.

import { afterAll, describe, expect, it } from "vitest";
import { killAll, MESHLET, spawnProc, startSidecar, tempHome } from "../helpers.ts";

afterAll(killAll);

describe("meshlet bench", () => {
  it("load-tests an app through the local sidecar and reports errors by reason", async () => {
    const home = tempHome();
    const s = await startSidecar({ appId: "benched", home, echo: true });
    const ok = spawnProc(MESHLET, ["bench", "benched/orders", "--rate", "100", "--duration", "1s", "-c", "4", "-o", "json"], { MESHLET_HOME: home });
    expect((await ok.exited).code).toBe(0);
    const sum = JSON.parse(ok.output());
    expect(sum.url).toBe(`http://127.0.0.1:${s.httpPort}/v1.0/invoke/benched/method/orders`);
    // A fixed rate is paced evenly: about 100 requests in the second, never a flood.
    expect(sum.pace).toBe("even");
    expect(sum.ok).toBeGreaterThanOrEqual(50);
    expect(sum.requests).toBeLessThanOrEqual(110);
    expect(sum.latencyMs.p50).toBeGreaterThan(0);
    expect(sum.latencyMs.p99).toBeGreaterThanOrEqual(sum.latencyMs.p50);

    const burst = spawnProc(MESHLET, ["bench", "benched/orders", "--rate", "50", "--pace", "burst", "--duration", "1s", "-o", "json"], { MESHLET_HOME: home });
    expect((await burst.exited).code).toBe(0);
    expect(JSON.parse(burst.output()).pace).toBe("burst");
    const wrong = spawnProc(MESHLET, ["bench", "benched/orders", "--rate", "50", "--pace", "smooth"], { MESHLET_HOME: home });
    expect((await wrong.exited).code).not.toBe(0);
    expect(wrong.output()).toContain("--pace must be even or burst");

    const bad = spawnProc(MESHLET, ["bench", "ghost/x", "--duration", "1s", "-c", "2", "-o", "json", "--from", "benched"], { MESHLET_HOME: home });
    expect((await bad.exited).code).toBe(0);
    const b = JSON.parse(bad.output());
    expect(b.ok).toBe(0);
    expect(b.errors.byReason.app_id_not_found).toBeGreaterThan(0);
    expect(b.errors.byStatus["500"]).toBe(b.errors.byReason.app_id_not_found);

    const post = spawnProc(MESHLET, ["bench", "benched/upload", "--body", '{"a":1}', "--duration", "1s", "-c", "2"], { MESHLET_HOME: home });
    expect((await post.exited).code).toBe(0);
    expect(post.output()).toMatch(/^POST http:\/\/127\.0\.0\.1:\d+\/v1\.0\/invoke\/benched\/method\/upload/m);
    expect(post.output()).toMatch(/latency\s+p50 [\d.]+ ms/);
  });
});
