// The seed's hello-world flow on the embedded default store: a node app that saves each order in
// `statestore`, a second app posting an order a second (by dapr-app-id), and the last order read
// back by invoking nodeapp, as the walkthrough does with curl.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import path from "node:path";
import { killAll, ROOT, startSidecar, tempHome, waitFor, type Sidecar } from "../helpers.ts";

let home: string;
let node: Sidecar;
let poster: Sidecar;

beforeAll(async () => {
  home = tempHome();
  node = await startSidecar({ appId: "nodeapp", home, echo: true, command: ["node", path.join(ROOT, "test", "apps", "order-node.mjs")] });
  poster = await startSidecar({ appId: "pythonapp", home, command: ["node", path.join(ROOT, "test", "apps", "order-poster.mjs")], env: { ORDER_INTERVAL_MS: "200" } });
});
afterAll(killAll);

describe("hello-world on the default store", () => {
  it("persists the orders and reads the last one back through service invocation", async () => {
    const last = await waitFor("a few orders", async () => {
      const r = await fetch(`${node.url}/v1.0/invoke/nodeapp/method/order`);
      const order = r.status === 200 ? ((await r.json().catch(() => null)) as { orderId: number } | null) : null;
      return order && order.orderId >= 3 ? order : null;
    }, 15_000);
    expect(last.orderId).toBeGreaterThanOrEqual(3);
    expect(node.output()).toContain("Successfully persisted state.");
    expect(poster.output()).toMatch(/order \d+: 200/);
    // The order is in the store under nodeapp's prefix, read directly through the state API.
    const direct = await fetch(`${node.url}/v1.0/state/statestore/order`);
    expect(direct.status).toBe(200);
    expect(((await direct.json()) as { orderId: number }).orderId).toBeGreaterThanOrEqual(last.orderId);
  });
});
