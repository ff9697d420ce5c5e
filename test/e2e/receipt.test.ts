// The delivery receipt: a POST to a peer sidecar asks for `102 Processing`, which the callee
// sends right before its app gets the request. A peer that breaks the connection before that
// receipt (a sidecar SIGKILLed as the POST arrived) never delivered it, so the caller sends the
// POST to another instance; one that breaks after it may have delivered, so the POST fails
// rather than risk a duplicate. The dying peer is a raw socket server registered as an instance.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { freePort, killAll, startSidecar, tempFile, tempHome, waitFor, type Sidecar } from "../helpers.ts";

const plain = `apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: plain}\nspec:\n  mtls:\n    enabled: false\n`;

/** A raw peer that answers like a sidecar (`ok`), or breaks before (`before`) or after (`after`) its receipt. */
class FakePeer {
  mode: "ok" | "before" | "after" = "ok";
  broken = 0;
  answered = 0;
  asked = 0;
  private readonly server = net.createServer((s) => {
    let buf = "";
    s.on("data", (d) => {
      buf += d.toString("latin1");
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      const length = Number(/content-length: (\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
      if (buf.length < end + 4 + length) return;
      const head = buf.slice(0, end);
      buf = buf.slice(end + 4 + length);
      const asks = /^meshlet-receipt: 1$/im.test(head);
      if (asks) this.asked++;
      if (this.mode === "before") {
        this.broken++;
        s.destroy();
        return;
      }
      if (asks) s.write("HTTP/1.1 102 Processing\r\n\r\n");
      if (this.mode === "after") {
        this.broken++;
        s.destroy();
        return;
      }
      this.answered++;
      s.write("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 4\r\n\r\nfake");
    });
    s.on("error", () => {});
  });
  port = 0;

  async start(): Promise<this> {
    this.port = await freePort();
    await new Promise<void>((r) => this.server.listen(this.port, "127.0.0.1", () => r()));
    return this;
  }

  /** Registers this server as an instance of `appId` in a sidecar home's local registry. */
  register(home: string, appId: string): void {
    const dir = path.join(home, "registry");
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const entry = { appId, namespace: "default", host: "127.0.0.1", port: this.port, pid: process.pid, startedAt: Date.now() - 60_000 };
    fs.writeFileSync(path.join(dir, `default~${appId}~${process.pid}~${this.port}.json`), JSON.stringify(entry), { mode: 0o600 });
  }

  close(): void {
    this.server.close();
  }
}

let home: string;
let fake: FakePeer;
let caller: Sidecar;
let real: Sidecar;
const post = (key: string) => fetch(`${caller.url}/v1.0/invoke/stock/method/flaky?key=${key}`, { method: "POST", body: `{"key":"${key}"}` });
const deliveries = async (key: string) => ((await (await fetch(`${real.url}/v1.0/invoke/stock/method/count?key=${key}`)).json()) as { attempts: number }).attempts;

beforeAll(async () => {
  home = tempHome();
  const cfg = tempFile("plain.yaml", plain);
  fake = await (await new FakePeer().start());
  fake.register(home, "stock");
  caller = await startSidecar({ appId: "shop", home, args: ["-c", cfg] });
  // The first POST goes to the fake (the only instance): it answers with a receipt, so the
  // caller's connection to it knows it sends them.
  const first = await post("warm");
  expect([first.status, await first.text()]).toEqual([200, "fake"]);
  expect(fake.asked).toBe(1);
  real = await startSidecar({ appId: "stock", home, echo: true, args: ["-c", cfg] });
});
afterAll(async () => {
  await killAll();
  fake.close();
});

describe("the delivery receipt", () => {
  it("moves a POST whose peer broke before the receipt to another instance: delivered once", async () => {
    fake.mode = "before";
    const keys: string[] = [];
    await waitFor("a POST to meet the breaking peer", async () => {
      const key = `k${keys.length}`;
      keys.push(key);
      const r = await post(key);
      expect(r.status).toBe(200);
      return fake.broken > 0;
    });
    // Every POST was answered by the real instance, exactly once, the broken one included.
    for (const key of keys) expect(await deliveries(key)).toBe(1);
  });

  it("fails a POST whose peer broke after the receipt: it may have been delivered, it is not sent again", async () => {
    fake.mode = "after";
    fake.broken = 0;
    // The fake is out of the pick for a few seconds after its last failure: POST until it is back.
    let failed: { status: number; reason: string | null; key: string } | null = null;
    let i = 0;
    await waitFor(
      "a POST to meet the peer that breaks after its receipt",
      async () => {
        const key = `a${i++}`;
        const r = await post(key);
        await r.arrayBuffer();
        if (r.status !== 200) failed = { status: r.status, reason: r.headers.get("meshlet-reason"), key };
        await new Promise((res) => setTimeout(res, 20));
        return fake.broken > 0;
      },
      20_000,
    );
    expect(fake.broken).toBe(1);
    expect(failed).toMatchObject({ status: 500, reason: "upstream_reset" });
    expect(await deliveries(failed!.key)).toBe(0);
  });
});
