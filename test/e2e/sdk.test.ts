// The official @dapr/dapr SDK, unchanged, against meshlet: DaprClient calls an app through two
// sidecars, and an SDK DaprServer app answers behind a sidecar.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import crypto from "node:crypto";
import { CommunicationProtocolEnum, DaprClient, DaprServer, HttpMethod } from "@dapr/dapr";
import { freePort, killAll, waitFor, startSidecar, tempHome, type Sidecar } from "../helpers.ts";
import type { Echo } from "../smoke.ts";

let home: string;
let caller: Sidecar;
let client: DaprClient;


beforeAll(async () => {
  home = tempHome();
  await startSidecar({ appId: "orders", home, echo: true, args: ["--max-body-size", "8Mi"] });
  caller = await startSidecar({ appId: "sdk-caller", home, args: ["--max-body-size", "8Mi"] });
  client = new DaprClient({
    daprHost: "127.0.0.1",
    daprPort: String(caller.httpPort),
    communicationProtocol: CommunicationProtocolEnum.HTTP,
    maxBodySizeMb: 10,
  });
  await client.start();
});
afterAll(async () => {
  await client?.stop();
  await killAll();
});

describe("@dapr/dapr DaprClient through meshlet", () => {
  it("sends JSON and reads the JSON reply", async () => {
    const r = (await client.invoker.invoke("orders", "neworder", HttpMethod.POST, { orderId: 42 })) as Echo;
    expect(r.method).toBe("POST");
    expect(r.url).toBe("/neworder");
    expect(JSON.parse(r.body!)).toEqual({ orderId: 42 });
    expect(r.headers["content-type"]).toBe("application/json");
    expect(r.headers["user-agent"]).toMatch(/^dapr-sdk-js\/v3\.18\.0 http\/1$/);
  });

  it("sends text and binary bodies unchanged", async () => {
    const text = (await client.invoker.invoke("orders", "put-me", HttpMethod.PUT, "hello world" as unknown as object)) as Echo;
    expect([text.method, text.body, text.headers["content-type"]]).toEqual(["PUT", "hello world", "text/plain"]);
    const bytes = new Uint8Array([0, 255, 7, 128]);
    const bin = (await client.invoker.invoke("orders", "bin", HttpMethod.POST, bytes)) as Echo;
    expect(bin.headers["content-type"]).toBe("application/octet-stream");
    expect(bin.size).toBe(4);
    expect(bin.sha256).toBe(crypto.createHash("sha256").update(bytes).digest("hex"));
  });

  it("passes custom headers, nested paths and a query string", async () => {
    const r = (await client.invoker.invoke("orders", "orders/7/lines?q=a b&x=1", HttpMethod.PATCH, { a: 1 }, {
      headers: { "x-custom": "yes" },
    })) as Echo;
    expect(r.method).toBe("PATCH");
    expect(r.url).toBe("/orders/7/lines?q=a%20b&x=1");
    expect(r.headers["x-custom"]).toBe("yes");
    const del = (await client.invoker.invoke("orders", "orders/7", HttpMethod.DELETE)) as Echo;
    expect([del.method, del.url]).toEqual(["DELETE", "/orders/7"]);
  });

  it("carries a 5 MB body", async () => {
    const big = crypto.randomBytes(5 * 1024 * 1024);
    const r = (await client.invoker.invoke("orders", "upload", HttpMethod.POST, big)) as Echo;
    expect(r.size).toBe(big.length);
    expect(r.sha256).toBe(crypto.createHash("sha256").update(big).digest("hex"));
  });

  it("surfaces an app error with the app's status and body", async () => {
    const err = await client.invoker.invoke("orders", "status/503", HttpMethod.POST, { x: 1 }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const info = JSON.parse((err as Error).message) as { status: number; error_msg: string };
    expect(info.status).toBe(503);
    expect(JSON.parse(info.error_msg)).toEqual({ error: "app said so" });
  });

  it("surfaces a sidecar error in Dapr's shape", async () => {
    const err = await client.invoker.invoke("nobody", "x", HttpMethod.GET).catch((e: Error) => e);
    const info = JSON.parse((err as Error).message) as { status: number; error_msg: string };
    expect(info.status).toBe(500);
    expect(JSON.parse(info.error_msg).errorCode).toBe("ERR_DIRECT_INVOKE");
  });

  it("reads metadata and writes extended metadata", async () => {
    await client.metadata.set("owner", "team-a");
    const md = await client.metadata.get();
    expect(md.id).toBe("sdk-caller");
    expect(md.extended.owner).toBe("team-a");
    expect(await client.health.isHealthy()).toBe(true);
  });

  it("saves, reads, bulk-reads, deletes and transacts state through the SDK's state client", async () => {
    await client.state.save("statestore", [
      { key: "sdk-order", value: { orderId: 7 } },
      { key: "sdk-note", value: "hello" },
    ]);
    expect(await client.state.get("statestore", "sdk-order")).toEqual({ orderId: 7 });
    const bulk = (await client.state.getBulk("statestore", ["sdk-order", "sdk-note", "sdk-none"])) as Array<{ key: string; data?: unknown }>;
    expect(bulk.map((b) => [b.key, b.data])).toEqual([
      ["sdk-order", { orderId: 7 }],
      ["sdk-note", "hello"],
      ["sdk-none", undefined],
    ]);
    await client.state.transaction("statestore", [
      { operation: "upsert", request: { key: "sdk-tx", value: { n: 1 } } },
      { operation: "delete", request: { key: "sdk-note" } },
    ]);
    expect(await client.state.get("statestore", "sdk-tx")).toEqual({ n: 1 });
    await client.state.delete("statestore", "sdk-order");
    expect(await client.state.get("statestore", "sdk-order")).toBe("");
    expect(await client.state.get("statestore", "sdk-note")).toBe("");
  });
});

describe("@dapr/dapr DaprServer app behind meshlet", () => {
  it("answers invocations whose replies carry no content-type", async () => {
    const appPort = await freePort();
    const side = await startSidecar({ appId: "sdk-server", home, waitReady: false, args: ["-p", String(appPort)] });
    const server = new DaprServer({
      serverHost: "127.0.0.1",
      serverPort: String(appPort),
      clientOptions: { daprHost: "127.0.0.1", daprPort: String(side.httpPort), communicationProtocol: CommunicationProtocolEnum.HTTP },
    });
    await server.invoker.listen("hello/:name", async (data) => ({ greeting: `hi ${data.query}`, body: data.body }), { method: HttpMethod.POST });
    await server.start();
    // The sidecar announces the app-id once the app accepts connections, as daprd does.
    await waitFor("sdk-server ready", async () => (await fetch(`${side.url}/v1.0/healthz`)).status === 204);
    try {
      const r = (await client.invoker.invoke("sdk-server", "hello/bob", HttpMethod.POST, { n: 1 })) as { greeting: string; body: string };
      expect(r.greeting).toBe("hi /hello/bob");
      expect(JSON.parse(r.body)).toEqual({ n: 1 });
    } finally {
      await server.stop();
    }
  });
});
