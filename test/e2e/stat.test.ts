// `meshlet stat` end to end: two real sidecars on one MESHLET_HOME, calls made before it runs,
// and its table and JSON checked against what the test sent.

import { afterAll, describe, expect, it } from "vitest";
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { killAll, MESHLET, startSidecar, tempHome } from "../helpers.ts";

afterAll(killAll);
const run = promisify(execFile);

describe("meshlet stat", () => {
  it("reports the window that just ended: requests, success rate, latency and the top sidecar-made reason per target", async () => {
    const home = tempHome();
    await startSidecar({ appId: "inventory", home, echo: true });
    const caller = await startSidecar({ appId: "storefront", home });
    const env = { ...process.env, MESHLET_HOME: home };
    // The calls come first; stat, run after them, must show them without waiting for new ones.
    for (let i = 0; i < 40; i++) expect((await fetch(`${caller.url}/v1.0/invoke/inventory/method/orders/${i}`)).status).toBe(200);
    // The app drops these connections without an answer: a sidecar-made 500 with a reason.
    for (let i = 0; i < 4; i++) expect((await fetch(`${caller.url}/v1.0/invoke/inventory/method/reset`)).status).toBe(500);
    const started = Date.now();
    const out = JSON.parse((await run(MESHLET, ["stat", "--window", "30s", "-o", "json"], { env, encoding: "utf8" })).stdout) as { windowSeconds: number; apps: Array<{ appId: string; requests: number; rps: number; success: number; p50Ms: number; p99Ms: number; topErrors: Array<{ reason: string; count: number }> }> };
    // No forward window is measured (that took the whole --window; this took a process start).
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(out.windowSeconds).toBe(30);
    const row = out.apps.find((a) => a.appId === "inventory")!;
    expect(row.requests).toBe(44);
    // The caller is younger than the window: its rate is over the seconds it has run.
    expect(row.rps).toBeGreaterThan(44 / 30);
    expect(row.success).toBeCloseTo(40 / 44, 5);
    expect(row.p50Ms).toBeGreaterThan(0);
    expect(row.p99Ms).toBeGreaterThanOrEqual(row.p50Ms);
    expect(row.topErrors).toHaveLength(1);
    expect(row.topErrors[0]!.count).toBe(4);
    expect(row.topErrors[0]!.reason).toMatch(/^(app_unreachable|upstream_reset)$/);

    // A short window after a quiet spell holds only the calls made within it.
    await new Promise((r) => setTimeout(r, 6_000));
    for (let i = 0; i < 5; i++) await fetch(`${caller.url}/v1.0/invoke/inventory/method/x`);
    const text = (await run(MESHLET, ["stat", "--window", "2s", "-a", "inventory"], { env, encoding: "utf8" })).stdout;
    expect(text.split("\n")[0]).toMatch(/^APP ID +REQUESTS +RPS +SUCCESS +P50 +P95 +P99 +TOP ERRORS$/);
    expect(text).toMatch(/^inventory +5 +\d+\.\d +100\.00% /m);
  }, 40_000);

  it("says in one line when no sidecar runs, and refuses a bad window", () => {
    const env = { ...process.env, MESHLET_HOME: tempHome() };
    const fail = (args: string[]) => {
      try {
        execFileSync(MESHLET, args, { env, encoding: "utf8", stdio: "pipe" });
        return "";
      } catch (e) {
        return String((e as { stderr: string }).stderr);
      }
    };
    expect(fail(["stat"])).toMatch(/^❌ {2}no meshlet sidecars are running on this host .*\n$/);
    expect(fail(["stat", "--window", "soon"])).toMatch(/^❌ {2}--window: .*\n$/);
    expect(fail(["stat", "--window", "100ms"])).toMatch(/--window: 100ms is under 1s/);
    expect(fail(["stat", "--window", "5m"])).toMatch(/^❌ {2}--window: 5m is over 60s, the history each sidecar keeps .*\n$/);
  });
});
