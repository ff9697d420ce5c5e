// --max-memory end to end: a burst of calls held by a slow app takes a real sidecar over its
// limit; new calls then get 503 memory_pressure in Dapr's shape while health still answers, every
// call already admitted is answered, and once the burst is over the sidecar collects its garbage
// and admits calls again. Metrics say all of it. A caller sends what such an instance refuses to
// another instance of the app-id. A flag too small is a one-line error.

import { afterAll, describe, expect, it } from "vitest";
import http from "node:http";
import net from "node:net";
import { spawnSync } from "node:child_process";
import type { AddressInfo } from "node:net";
import { Agent, request } from "undici";
import { freePort } from "../../cli/ports.ts";
import { expectOutput, killAll, MESHLET, startSidecar, tempHome, waitFor } from "../helpers.ts";

afterAll(killAll);

const MiB = 1024 ** 2;
/** Calls in the burst, and each one's body: read whole by the sidecar (under 64 KiB) and held until the app answers. */
const BURST = 1_500;
const BODY = Buffer.alloc(60 * 1024, 120);

/** An app that reads each request and answers /hold only when released (after that, at once), anything else at once. */
async function holdingApp() {
  const held: http.ServerResponse[] = [];
  let holding = true;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => (holding && req.url === "/hold" ? held.push(res) : res.end("ok")));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as AddressInfo).port,
    held: () => held.length,
    release: () => {
      holding = false;
      for (const res of held.splice(0)) res.end("ok");
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe("the memory guard (--max-memory)", () => {
  it("refuses new calls over the limit, answers every call it admitted, and admits calls again once the burst's garbage is collected", async () => {
    const app = await holdingApp();
    const metricsPort = await freePort();
    // 112Mi: an idle sidecar is ~60 MB, the burst takes it past 150 MB, and after it a collection
    // brings it to ~80 MB, under the resume mark (101 MB).
    const s = await startSidecar({ appId: "heavy", home: tempHome(), echo: app.port, command: [], args: ["--max-memory", "112Mi", "-M", String(metricsPort), "--log-level", "info"] });
    const agent = new Agent({ connections: BURST + 10 });
    try {
      expect(s.output()).toMatch(new RegExp(`max_memory=${112 * MiB} `));
      const metric = async (name: string) => {
        const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
        return Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]);
      };
      expect(await metric("meshlet_memory_limit_bytes")).toBe(112 * MiB);
      expect(await metric("meshlet_memory_shedding")).toBe(0);
      const call = () => request(`${s.url}/v1.0/invoke/heavy/method/hold`, { method: "POST", body: BODY, dispatcher: agent });
      const statuses: Record<string, number> = {};
      const burst = Array.from({ length: BURST }, () =>
        call().then(async (r) => {
          const key = `${r.statusCode} ${String(r.headers["meshlet-reason"] ?? "")}`.trim();
          statuses[key] = (statuses[key] ?? 0) + 1;
          await r.body.text();
        }),
      );
      // Calls to another method, which the app answers at once: refused at once while the
      // sidecar sheds, in Dapr's shape, answered before and after; health and metadata answer
      // throughout.
      const probes = { ok: 0, refused: 0, other: [] as string[], health: new Set<number>() };
      let firstRefusal: unknown = null;
      const probe = async () => {
        const r = await fetch(`${s.url}/v1.0/invoke/heavy/method/fast`, { method: "POST", body: "x" });
        const reason = r.headers.get("meshlet-reason");
        if (r.status === 200) probes.ok++;
        else if (r.status === 503 && reason === "memory_pressure") {
          probes.refused++;
          firstRefusal ??= await r.json();
          probes.health.add((await fetch(`${s.url}/v1.0/healthz`)).status);
          probes.health.add((await fetch(`${s.url}/v1.0/metadata`)).status === 200 ? 204 : -1);
        } else probes.other.push(`${r.status} ${reason}`);
        await r.arrayBuffer().catch(() => {});
      };
      await waitFor("a call refused for memory", async () => (await probe(), firstRefusal !== null), 30_000);
      const shed = /memory over its limit: new calls are refused.* rss="(\d+) MiB"/.exec(s.output());
      expect(Number(shed?.[1])).toBeGreaterThanOrEqual(112);
      expect(firstRefusal).toEqual({
        errorCode: "ERR_MEMORY_PRESSURE",
        message: "failed to invoke, id: heavy, err: this sidecar is over its memory limit (112 MiB) and refuses new calls until it is back under 101 MiB",
      });

      // Every call the sidecar admitted reaches the app and gets its answer: nothing accepted is lost.
      await waitFor("the admitted calls to reach the app", async () => app.held() + (statuses["503 memory_pressure"] ?? 0) >= BURST, 30_000);
      const admitted = app.held();
      app.release();
      await Promise.all(burst);
      expect(statuses["200"]).toBe(admitted);
      expect(statuses["503 memory_pressure"] ?? 0).toBe(BURST - admitted);
      expect(Object.keys(statuses).filter((k) => k !== "200" && k !== "503 memory_pressure")).toEqual([]);

      // With the burst answered, its garbage is collected and calls are admitted again.
      await waitFor("the sidecar to admit calls again", async () => (await probe(), s.output().includes("calls are admitted again")), 30_000);
      expect(probes.other).toEqual([]);
      // Health answered 204 and metadata 200 (counted as 204 here) at every refusal.
      expect([...probes.health]).toEqual([204]);

      // The burst's garbage was collected, and calls go through again; the metrics count it all.
      await expectOutput(s, /memory back under its limit: calls are admitted again" .*refused=\d+/);
      const after = await fetch(`${s.url}/v1.0/invoke/heavy/method/x`, { method: "POST", body: "x" });
      expect([after.status, await after.text()]).toEqual([200, "ok"]);
      expect(await metric("meshlet_memory_shedding")).toBe(0);
      expect(await metric("meshlet_memory_refused_total")).toBe(BURST - admitted + probes.refused);
      expect(await metric("meshlet_memory_collections_total")).toBeGreaterThanOrEqual(2);
    } finally {
      await agent.close();
      await app.close();
    }
  }, 90_000);

  it("is failed over: a caller moves the calls an instance refuses for memory to another instance", async () => {
    const home = tempHome();
    const callerMetrics = await freePort();
    const caller = await startSidecar({ appId: "front", home, args: ["-M", String(callerMetrics)] });
    const echo = await startSidecar({ appId: "stock", home, echo: true });
    const app = await holdingApp();
    const heavy = await startSidecar({ appId: "stock", home, echo: app.port, command: [], args: ["--max-memory", "112Mi", "-M", String(await freePort())] });
    // Requests whose 60 KiB bodies stop 10 KiB short: the sidecar holds each body while it waits
    // for the rest (live memory no collection frees), so it stays over its limit until they go
    // (it drops such a request after 15 s without a byte; the calls below take about a second).
    const stalled: net.Socket[] = [];
    const head = `POST /v1.0/invoke/stock/method/x HTTP/1.1\r\nhost: x\r\ncontent-length: ${60 * 1024}\r\n\r\n`;
    try {
      for (let i = 0; i < BURST; i++) {
        const c = net.connect(heavy.httpPort, "127.0.0.1");
        c.on("error", () => {});
        c.write(head);
        c.write(BODY.subarray(0, 50 * 1024));
        stalled.push(c);
      }
      await waitFor("the instance to shed", async () => heavy.output().includes("memory over its limit"), 30_000);
      const served = { heavy: 0, echo: 0, other: [] as string[] };
      for (let i = 0; i < 20; i++) {
        const r = await fetch(`${caller.url}/v1.0/invoke/stock/method/fast`, { method: "POST", body: `{"n":${i}}` });
        const text = await r.text();
        if (r.status !== 200) served.other.push(`${r.status} ${r.headers.get("meshlet-reason")}`);
        else if (text === "ok") served.heavy++;
        else served.echo++;
      }
      // Every call answered, none by the instance over its limit; each one it refused went to the other.
      expect(served).toEqual({ heavy: 0, echo: 20, other: [] });
      const metrics = await (await fetch(`http://127.0.0.1:${callerMetrics}/metrics`)).text();
      expect(Number(/^meshlet_failovers_total\{target="stock",reason="memory_pressure"\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    } finally {
      for (const c of stalled) c.destroy();
      await app.close();
    }
    // The held bodies gone, the instance collects and serves again.
    await waitFor("the instance to admit calls again", async () => heavy.output().includes("calls are admitted again"), 30_000);
    expect((await fetch(`${heavy.url}/v1.0/healthz`)).status).toBe(204);
    expect(echo.output()).not.toContain("memory over its limit");
  }, 90_000);

  it("refuses a --max-memory too small to run under, in one line", () => {
    const r = spawnSync(MESHLET, ["run", "-a", "tiny", "--max-memory", "64Mi"], { env: { ...process.env, MESHLET_HOME: tempHome() }, encoding: "utf8", timeout: 20_000 });
    expect(r.status).not.toBe(0);
    const out = (r.stdout + r.stderr).trim();
    expect(out).toBe("❌  --max-memory: 64Mi is below 96Mi: a sidecar holds 60-80 MB at ordinary load, so it would refuse calls all the time (0 turns the guard off)");
  });
});
