// `meshlet bench` as a user runs it: autocannon through the local sidecar, JSON summary with
// latency percentiles and errors counted by status and by meshlet reason code.

import { afterAll, describe, expect, it } from "vitest";
import { killAll, MESHLET, spawnProc, startSidecar, tempHome, expectOutput } from "../helpers.ts";

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
    expect(wrong.output()).toBe('❌  --pace: "smooth" is not even or burst\n');

    // Every request failing is a failed run (exit 1), unless --max-errors allows that many.
    const bad = spawnProc(MESHLET, ["bench", "ghost/x", "--duration", "1s", "-c", "2", "-o", "json", "--from", "benched"], { MESHLET_HOME: home });
    expect((await bad.exited).code).toBe(1);
    const b = JSON.parse(bad.stdout());
    expect([b.ok, b.pass, b.maxErrors]).toEqual([0, false, 0]);
    expect(b.failed).toBe(b.requests);
    expect(b.errors.byReason.app_id_not_found).toBeGreaterThan(0);
    expect(b.errors.byStatus["500"]).toBe(b.errors.byReason.app_id_not_found);
    await expectOutput(bad, /❌ {2}\d+ of \d+ requests failed \(allowed: 0\); exit code 1\n$/);
    const tolerated = spawnProc(MESHLET, ["bench", "ghost/x", "--duration", "1s", "-c", "2", "--from", "benched", "--max-errors", "100%"], { MESHLET_HOME: home });
    expect((await tolerated.exited).code).toBe(0);

    const post = spawnProc(MESHLET, ["bench", "benched/upload", "--body", '{"a":1}', "--duration", "1s", "-c", "2"], { MESHLET_HOME: home });
    expect((await post.exited).code).toBe(0);
    await expectOutput(post, /^POST http:\/\/127\.0\.0\.1:\d+\/v1\.0\/invoke\/benched\/method\/upload/m);
    await expectOutput(post, /latency\s+p50 [\d.]+ ms/);
  });

  it("reads a bare --duration as seconds, as autocannon does, and refuses bad flags in one line", async () => {
    const home = tempHome();
    await startSidecar({ appId: "timed", home, echo: true });
    const t0 = performance.now();
    const p = spawnProc(MESHLET, ["bench", "timed/x", "--duration", "2", "--rate", "20", "-o", "json"], { MESHLET_HOME: home });
    expect((await p.exited).code).toBe(0);
    expect(JSON.parse(p.stdout()).durationS).toBeGreaterThanOrEqual(1.9);
    expect(performance.now() - t0).toBeGreaterThan(1900);
    for (const [args, line] of [
      [["--rate", "abc"], '❌  --rate: "abc" is not a positive number'],
      [["--duration", "5x"], '❌  --duration: "5x" is not a duration (examples: 500ms, 5s, 1m30s; a bare number is seconds)'],
      [["--connections", "1.5"], '❌  --connections: "1.5" is not a positive whole number'],
      [["--max-errors", "lots"], '❌  --max-errors: "lots" is not a count (5) or a share (0.5%)'],
      [["--bogus"], "❌  Unknown option '--bogus'"],
      [["-o", "xml"], '❌  --output: "xml" is not text or json'],
    ] as const) {
      const bad = spawnProc(MESHLET, ["bench", "timed/x", ...args], { MESHLET_HOME: home });
      expect((await bad.exited).code).toBe(1);
      expect(bad.output()).toBe(`${line}\n`);
    }
  });
});
