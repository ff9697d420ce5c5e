// Bodies stream with backpressure and are never read whole: a 300 MB response crosses two
// sidecars while each grows by a small bounded amount, and a client that leaves aborts the upstream.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { killAll, rss, sleep, startSidecar, tempHome, waitFor, type Sidecar } from "../helpers.ts";

let server: Sidecar;
let client: Sidecar;

beforeAll(async () => {
  const home = tempHome();
  server = await startSidecar({ appId: "files", home, echo: true });
  client = await startSidecar({ appId: "reader", home });
});
afterAll(killAll);

describe("streaming", () => {
  it("relays a 300 MB response through two sidecars (mTLS between them) with under 64 MB RSS growth in each", async () => {
    // The bound is allocator/GC slack for the per-read buffers the connections hand on, not
    // buffering: over mTLS growth was ~40 MB at 300 MB, 49-56 MB at 1 GB and 52-55 MB at 3 GB (a
    // plateau; plain HTTP was ~20-25 MB). A buffered body would show as hundreds of MB.
    // Warm both sidecars up so the baseline includes pools and JIT, then measure.
    await (await fetch(`${client.url}/v1.0/invoke/files/method/big?mb=1`)).arrayBuffer();
    await sleep(200);
    const base = { client: rss(client.pid), server: rss(server.pid) };
    const peak = { ...base };
    const sampler = setInterval(() => {
      peak.client = Math.max(peak.client, rss(client.pid));
      peak.server = Math.max(peak.server, rss(server.pid));
    }, 20);
    const res = await fetch(`${client.url}/v1.0/invoke/files/method/big?mb=300`);
    expect(res.status).toBe(200);
    // Every byte must arrive.
    let total = 0;
    const reader = res.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
    }
    clearInterval(sampler);
    expect(total).toBe(300 * 1024 * 1024);
    const growthMb = { client: (peak.client - base.client) / 2 ** 20, server: (peak.server - base.server) / 2 ** 20 };
    console.log(`RSS growth during 300 MB: caller sidecar ${growthMb.client.toFixed(1)} MB, callee sidecar ${growthMb.server.toFixed(1)} MB`);
    expect(growthMb.client).toBeLessThan(64);
    expect(growthMb.server).toBeLessThan(64);
  });

  it("aborts the upstream request when the client disconnects mid-body", async () => {
    const ac = new AbortController();
    const res = await fetch(`${client.url}/v1.0/invoke/files/method/drip`, { signal: ac.signal });
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(first.value?.byteLength).toBeGreaterThan(0);
    const before = server.output().split("drip closed").length;
    ac.abort();
    // The app sees its response connection closed: the abort crossed both sidecars.
    await waitFor("the app to see the drip connection close", async () => server.output().split("drip closed").length > before, 5000);
  });

  it("streams a large request body through without buffering it (sha256 matches)", async () => {
    const big = await startSidecar({ appId: "uploader", home: tempHome(), echo: true, args: ["--max-body-size", "64Mi"] });
    const size = 32 * 1024 * 1024;
    const chunk = new Uint8Array(1024 * 1024).fill(7);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent >= size) return c.close();
        sent += chunk.byteLength;
        c.enqueue(chunk);
      },
    });
    const r = await fetch(`${big.url}/v1.0/invoke/uploader/method/upload`, { method: "POST", body, duplex: "half" } as RequestInit);
    const e = (await r.json()) as { size: number; sha256: string };
    expect(e.size).toBe(size);
    const { createHash } = await import("node:crypto");
    const h = createHash("sha256");
    for (let i = 0; i < 32; i++) h.update(chunk);
    expect(e.sha256).toBe(h.digest("hex"));
  });
});
