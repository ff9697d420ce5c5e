// Deadline propagation end to end: an app hands its sidecar its own budget in meshlet-timeout-ms,
// the call ends there whatever the policies say, and the callee's app is told what is left, so
// the budget can travel down a chain of calls.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { killAll, startSidecar, tempHome, type Sidecar } from "../helpers.ts";

let caller: Sidecar;

beforeAll(async () => {
  const home = tempHome();
  await startSidecar({ appId: "stock", home, echo: true });
  caller = await startSidecar({ appId: "shop", home });
});
afterAll(killAll);

const call = (method: string, budget: string) => fetch(`${caller.url}/v1.0/invoke/stock/method/${method}`, { headers: { "meshlet-timeout-ms": budget } });

describe("deadline propagation", () => {
  it("tells the callee's app what is left of the caller's budget", async () => {
    const r = await call("echo", "5000");
    const seen = Number(((await r.json()) as { headers: Record<string, string> }).headers["meshlet-timeout-ms"]);
    expect(seen).toBeGreaterThan(3000);
    expect(seen).toBeLessThanOrEqual(5000);
  });

  it("ends the call when the caller's budget is spent, in Dapr's shape", async () => {
    const t0 = performance.now();
    const r = await call("slow?ms=3000", "300");
    expect(performance.now() - t0).toBeLessThan(2500);
    expect([r.status, r.headers.get("meshlet-reason")]).toEqual([500, "deadline_exceeded"]);
    expect(((await r.json()) as { message: string }).message).toContain("the caller's meshlet-timeout-ms: 300 ms");
  });

  it("says the timeouts in force when it starts", () => {
    expect(caller.output()).toContain('timeouts="headers 1m per try (--app-timeout), connect 2s, streams and tunnels idle 1h, shutdown grace 5s"');
  });

  it("refuses a budget that is not a whole number of milliseconds", async () => {
    const r = await call("echo", "soon");
    expect([r.status, r.headers.get("meshlet-reason")]).toEqual([400, "malformed_request"]);
  });
});
