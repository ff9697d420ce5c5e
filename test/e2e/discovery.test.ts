// Single-host discovery through the local registry, with real processes: several instances of
// one app-id share traffic, a SIGKILLed sidecar stops receiving traffic, a restarted app on a new
// port is found at once.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import path from "node:path";
import { killAll, MESHLET, spawnProc, startSidecar, tempHome, waitFor, type Sidecar, expectOutput } from "../helpers.ts";

let home: string;
let caller: Sidecar;

async function hit(n: number, method = "GET"): Promise<{ ports: number[]; statuses: number[] }> {
  const ports: number[] = [];
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await fetch(`${caller.url}/v1.0/invoke/inventory/method/where`, { method });
    statuses.push(r.status);
    const text = await r.text();
    if (r.status === 200) ports.push((JSON.parse(text) as { port: number }).port);
  }
  return { ports, statuses };
}

beforeAll(async () => {
  home = tempHome();
  caller = await startSidecar({ appId: "shop", home });
});
afterAll(killAll);

describe("local registry discovery", () => {
  it("spreads calls over instances and drops a SIGKILLed one without failed calls", async () => {
    const a = await startSidecar({ appId: "inventory", home, echo: true });
    const b = await startSidecar({ appId: "inventory", home, echo: true });
    const before = await hit(40);
    expect(before.statuses.every((s) => s === 200)).toBe(true);
    expect(new Set(before.ports)).toEqual(new Set([a.appPort, b.appPort]));

    // SIGKILL a's sidecar: no deregistration, no goodbye. Its app is killed too.
    process.kill(a.pid, "SIGKILL");
    process.kill(a.appPid()!, "SIGKILL");
    await a.exited;
    const after = await hit(30);
    expect(after.statuses).toEqual(Array(30).fill(200));
    expect(new Set(after.ports)).toEqual(new Set([b.appPort]));

    // The dead registration is collected (at the next directory read, within the 1 s cache).
    await waitFor("the dead registration to be removed", async () => {
      await hit(1);
      return fs.readdirSync(path.join(home, "registry")).filter((f) => f.includes(`~${a.pid}~`)).length === 0;
    }, 3000);

    // A stopped instance (SIGTERM) deregisters before it goes.
    const stop = spawnProc(MESHLET, ["stop", "--app-id", "inventory"], { MESHLET_HOME: home });
    expect((await stop.exited).code).toBe(0);
    await expectOutput(stop, "app stopped successfully: inventory");
    await b.exited;
    const gone = await fetch(`${caller.url}/v1.0/invoke/inventory/method/where`);
    expect(gone.status).toBe(500);
    expect(gone.headers.get("meshlet-reason")).toBe("app_id_not_found");
  });

  it("finds a restarted app on a new port at once", async () => {
    const first = await startSidecar({ appId: "inventory", home, echo: true });
    expect((await hit(3)).ports).toEqual(Array(3).fill(first.appPort));
    process.kill(first.pid, "SIGTERM");
    await first.exited;
    const second = await startSidecar({ appId: "inventory", home, echo: true });
    expect(second.appPort).not.toBe(first.appPort);
    // The very first call after the new instance reports ready goes to it.
    const r = await hit(1);
    expect(r.statuses).toEqual([200]);
    expect(r.ports).toEqual([second.appPort]);
  });

  it("fails at most one streamed POST after an instance dies, then routes around it", async () => {
    // Without an app-level body replay, a POST with a body is not resent: it fails fast with a
    // reason and the endpoint is evicted, so the next call succeeds.
    const x = await startSidecar({ appId: "inventory", home, echo: true });
    const y = await startSidecar({ appId: "inventory", home, echo: true });
    await hit(4);
    process.kill(x.pid, "SIGKILL");
    await x.exited;
    const results: number[] = [];
    const failures: string[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await fetch(`${caller.url}/v1.0/invoke/inventory/method/where`, { method: "POST", body: "payload" });
      results.push(r.status);
      const text = await r.text();
      if (r.status !== 200) failures.push(`${i}: ${r.headers.get("meshlet-reason")} ${text}`);
    }
    expect(failures.length, failures.join("\n")).toBeLessThanOrEqual(1);
    expect(results.filter((s) => s !== 200).length).toBeLessThanOrEqual(1);
    expect(results.slice(-5)).toEqual(Array(5).fill(200));
    void y;
  });
});

describe("balancing", () => {
  it("sends fewer calls to an instance made 10x slower (the direction; proxy/p2c.test.ts checks the share on a fake clock)", async () => {
    const home2 = tempHome();
    const front = await startSidecar({ appId: "front", home: home2 });
    const fast = await startSidecar({ appId: "pricing", home: home2, echo: true, env: { DELAY_MS: "3" } });
    const slow = await startSidecar({ appId: "pricing", home: home2, echo: true, env: { DELAY_MS: "30" } });
    const counts = new Map<number, number>();
    let i = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (i++ < 300) {
          const r = await fetch(`${front.url}/v1.0/invoke/pricing/method/quote`);
          const port = ((await r.json()) as { port: number }).port;
          counts.set(port, (counts.get(port) ?? 0) + 1);
        }
      }),
    );
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const slowShare = (counts.get(slow.appPort!) ?? 0) / total;
    expect(counts.get(fast.appPort!)).toBeGreaterThan(0);
    // Idle, the slow share is ~10 %; on a busy 2-core machine the fast instance's 3 ms stretches
    // too, so only the direction is asserted here, with room: the exact 20 % bound is the unit test's.
    expect(slowShare).toBeLessThan(0.4);
  });
});
