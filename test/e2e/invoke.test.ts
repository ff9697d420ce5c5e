// Two sidecars and two real apps over real sockets: the invoke path end to end on the Bun CLI.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { killAll, startSidecar, tempHome, type Sidecar } from "../helpers.ts";
import { runSmoke } from "../smoke.ts";

let orders: Sidecar;
let checkout: Sidecar;

beforeAll(async () => {
  const home = tempHome();
  [orders, checkout] = await Promise.all([
    startSidecar({ appId: "orders", home, echo: true }),
    startSidecar({ appId: "checkout", home, echo: true }),
  ]);
});
afterAll(killAll);

describe("invoke through two sidecars", () => {
  it("passes the smoke checks in both directions", async () => {
    await runSmoke(checkout.url, "orders", "checkout");
    await runSmoke(orders.url, "checkout", "orders");
  });

  it("delivers a call to its own app-id straight to the app", async () => {
    const r = await fetch(`${orders.url}/v1.0/invoke/orders/method/self?x=1`);
    const e = (await r.json()) as { app: string; url: string; headers: Record<string, string> };
    expect(e.app).toBe("orders");
    expect(e.url).toBe("/self?x=1");
    expect(e.headers["dapr-caller-app-id"]).toBe("orders");
  });

  it("streams a chunked request body through both sidecars unchanged", async () => {
    const parts = ["alpha-", "beta-", "gamma"];
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (const p of parts) c.enqueue(new TextEncoder().encode(p));
        c.close();
      },
    });
    const r = await fetch(`${checkout.url}/v1.0/invoke/orders/method/upload`, { method: "POST", body, duplex: "half" } as RequestInit);
    const e = (await r.json()) as { body: string; headers: Record<string, string> };
    expect(e.body).toBe("alpha-beta-gamma");
    expect(e.headers["transfer-encoding"]).toBe("chunked");
  });

  it("answers health, metadata and metadata writes in Dapr's shapes", async () => {
    expect((await fetch(`${orders.url}/v1.0/healthz`)).status).toBe(204);
    expect((await fetch(`${orders.url}/v1.0/healthz/`)).status).toBe(204);
    expect((await fetch(`${orders.url}/v1.0/healthz/outbound`)).status).toBe(204);
    const put = await fetch(`${orders.url}/v1.0/metadata/team`, { method: "PUT", body: "payments", headers: { "content-type": "text/plain" } });
    expect(put.status).toBe(204);
    const md = (await (await fetch(`${orders.url}/v1.0/metadata`)).json()) as Record<string, unknown>;
    expect(md.id).toBe("orders");
    expect(md.runtimeVersion).toMatch(/^meshlet-/);
    expect(md.components).toEqual([]);
    expect(md.appConnectionProperties).toEqual({ port: orders.appPort, protocol: "http", channelAddress: "127.0.0.1" });
    const ext = md.extended as Record<string, string>;
    expect(ext.team).toBe("payments");
    expect(ext.appPID).toBe(String(orders.appPid()));
    expect(ext.daprRuntimeVersion).toBe(md.runtimeVersion);
  });
});
