// Two sidecars and two real apps over real sockets: the invoke path end to end on the Bun CLI.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { killAll, rawRequest, startSidecar, tempHome, type Sidecar } from "../helpers.ts";
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
    // No component configured: the embedded default state store, as `dapr init` gives Redis.
    expect(md.components).toEqual([{ name: "statestore", type: "state.sqlite", version: "v1", capabilities: ["ETAG", "TRANSACTIONAL", "TTL"] }]);
    expect(md.appConnectionProperties).toEqual({ port: orders.appPort, protocol: "http", channelAddress: "127.0.0.1" });
    const ext = md.extended as Record<string, string>;
    expect(ext.team).toBe("payments");
    expect(ext.appPID).toBe(String(orders.appPid()));
    expect(ext.daprRuntimeVersion).toBe(md.runtimeVersion);
  });
});

describe("connections", () => {
  it("reuses keep-alive connections to the app and between sidecars", async () => {
    const ports = new Set<number>();
    for (let i = 0; i < 10; i++) {
      const r = await fetch(`${checkout.url}/v1.0/invoke/orders/method/pool`);
      ports.add(((await r.json()) as { remotePort: number }).remotePort);
    }
    // Sequential calls ride one pooled connection from the callee sidecar to its app.
    expect(ports.size).toBe(1);
  });

  it("answers an oversized header block with 431 and keeps serving", async () => {
    const r = await rawRequest(`${checkout.url}/v1.0/invoke/orders/method/x`, { headers: { "x-big": "a".repeat(20_000) } }).catch(
      (e: Error) => ({ status: -1, error: e.message }),
    );
    expect(r.status).toBe(431);
    expect((await fetch(`${checkout.url}/v1.0/invoke/orders/method/after`)).status).toBe(200);
  });
});

describe("plain HTTP clients (curl)", () => {
  const curl = (args: string[]) => execFileSync("curl", ["-sS", ...args], { encoding: "utf8" });

  it("header form, Basic-auth form and URL form all reach the app", () => {
    const byHeader = JSON.parse(curl(["-H", "dapr-app-id: orders", "-d", '{"id":1}', `${checkout.url}/neworder?x=1`]));
    expect([byHeader.app, byHeader.method, byHeader.url, byHeader.body]).toEqual(["orders", "POST", "/neworder?x=1", '{"id":1}']);
    const byAuth = JSON.parse(curl([`http://dapr-app-id:orders@127.0.0.1:${checkout.httpPort}/a/b`]));
    expect([byAuth.app, byAuth.url]).toEqual(["orders", "/a/b"]);
    const byUrl = JSON.parse(curl(["-X", "PUT", "--data-binary", "@-", `${checkout.url}/v1.0/invoke/orders.default/method/c`]));
    expect([byUrl.app, byUrl.method, byUrl.url]).toEqual(["orders", "PUT", "/c"]);
  });
});
