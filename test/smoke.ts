// The end-to-end smoke checks both data planes must pass (Bun CLI and the Node adapter): verbs,
// nested paths and query, header pass-through, statuses and bodies unchanged, the three
// addressing forms, Dapr's stamped headers and trace context.

import { expect } from "vitest";
import { rawRequest } from "./helpers.ts";

/** What test/apps/echo.mjs answers. */
export interface Echo {
  app: string;
  port: number;
  method: string;
  url: string;
  headers: Record<string, string>;
  size: number;
  sha256: string;
  body: string | null;
}

export async function runSmoke(callerUrl: string, target: string, callerId: string): Promise<void> {
  // Every verb, a nested path and a raw query string arrive unchanged.
  for (const verb of ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
    const hasBody = verb !== "GET" && verb !== "OPTIONS" && verb !== "DELETE";
    const r = await fetch(`${callerUrl}/v1.0/invoke/${target}/method/orders/7/items?q=a%20b&x=1&x=2`, {
      method: verb,
      body: hasBody ? `body-${verb}` : undefined,
      headers: { "x-custom": "yes", "content-type": "text/plain" },
    });
    expect(r.status).toBe(200);
    const e = (await r.json()) as Echo;
    expect(e.method).toBe(verb);
    expect(e.url).toBe("/orders/7/items?q=a%20b&x=1&x=2");
    expect(e.headers["x-custom"]).toBe("yes");
    if (hasBody) expect(e.body).toBe(`body-${verb}`);
    expect(e.headers["dapr-caller-app-id"]).toBe(callerId);
    expect(e.headers["dapr-callee-app-id"]).toBe(target);
    expect(e.headers["traceparent"]).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(r.headers.get("x-app")).toBe(target);
    expect(r.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
  }

  // HEAD: status and headers, no body.
  const head = await fetch(`${callerUrl}/v1.0/invoke/${target}/method/anything`, { method: "HEAD" });
  expect(head.status).toBe(200);
  expect(await head.text()).toBe("");

  // App statuses and bodies come back verbatim, not wrapped.
  for (const status of [201, 404, 418, 500, 503]) {
    const r = await fetch(`${callerUrl}/v1.0/invoke/${target}/method/status/${status}`);
    expect(r.status).toBe(status);
    expect(await r.json()).toEqual({ error: "app said so" });
    expect(r.headers.get("meshlet-reason")).toBeNull();
  }
  const noCt = await fetch(`${callerUrl}/v1.0/invoke/${target}/method/nocontenttype`);
  expect(noCt.status).toBe(200);
  expect(await noCt.text()).toBe('{"raw":true}');

  // Hop-by-hop headers are not forwarded; a valid traceparent is kept as sent.
  const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  const hop = await rawRequest(`${callerUrl}/v1.0/invoke/${target}/method/h`, {
    headers: { connection: "keep-alive, x-drop-me", "x-drop-me": "1", "proxy-authorization": "secret", traceparent: tp, "dapr-caller-app-id": "forged" },
  });
  const he = JSON.parse(hop.body) as Echo;
  expect(he.headers["x-drop-me"]).toBeUndefined();
  expect(he.headers["proxy-authorization"]).toBeUndefined();
  expect(he.headers["traceparent"]).toBe(tp);
  expect(he.headers["dapr-caller-app-id"]).toBe(callerId);
  expect(hop.headers["traceparent"]).toBe(tp);

  // Header form on any path, and the header is not forwarded.
  const byHeader = await fetch(`${callerUrl}/neworder/5?z=1`, { method: "POST", body: "{}", headers: { "dapr-app-id": target } });
  expect(byHeader.status).toBe(200);
  const bh = (await byHeader.json()) as Echo;
  expect(bh.url).toBe("/neworder/5?z=1");
  expect(bh.headers["dapr-app-id"]).toBeUndefined();

  // Basic-auth user form: http://dapr-app-id:<id>@host/path
  const auth = "Basic " + Buffer.from(`dapr-app-id:${target}`).toString("base64");
  const byAuth = await fetch(`${callerUrl}/v1/path`, { headers: { authorization: auth } });
  expect(byAuth.status).toBe(200);
  const ba = (await byAuth.json()) as Echo;
  expect(ba.url).toBe("/v1/path");
  expect(ba.headers["authorization"]).toBeUndefined();

  // name.namespace form.
  const ns = await fetch(`${callerUrl}/v1.0/invoke/${target}.default/method/ns`);
  expect(ns.status).toBe(200);
  expect(((await ns.json()) as Echo).url).toBe("/ns");
}
