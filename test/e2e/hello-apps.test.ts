// The seed's hello-world flow: a node app that saves each order in `statestore`, a Python app
// posting an order a second (by dapr-app-id), and the last order read back by invoking nodeapp,
// as the walkthrough does with curl; on the embedded default store, then on a real Redis in
// Dapr's layout (read with redis-cli), with Redis killed and restarted under the traffic.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import path from "node:path";
import fs from "node:fs";
import { killAll, ROOT, startSidecar, tempHome, waitFor, type Sidecar, expectOutput } from "../helpers.ts";
import { hasRedis, startRedis } from "../redis.ts";

/** The seed's pythonapp: a Python app (standard library only) posting an order a second. */
const POSTER = ["python3", path.join(ROOT, "test", "apps", "order-poster.py")];

let home: string;
let node: Sidecar;
let poster: Sidecar;

beforeAll(async () => {
  home = tempHome();
  node = await startSidecar({ appId: "nodeapp", home, echo: true, command: ["node", path.join(ROOT, "test", "apps", "order-node.mjs")] });
  poster = await startSidecar({ appId: "pythonapp", home, command: POSTER, env: { ORDER_INTERVAL_MS: "200" } });
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
    await expectOutput(node, "Successfully persisted state.");
    await expectOutput(poster, /order \d+: 200/);
    // The order is in the store under nodeapp's prefix, read directly through the state API.
    const direct = await fetch(`${node.url}/v1.0/state/statestore/order`);
    expect(direct.status).toBe(200);
    expect(((await direct.json()) as { orderId: number }).orderId).toBeGreaterThanOrEqual(last.orderId);
  });
});

async function lastOrder(s: Sidecar): Promise<{ orderId: number } | null> {
  const r = await fetch(`${s.url}/v1.0/invoke/nodeapp/method/order`);
  return r.status === 200 ? ((await r.json().catch(() => null)) as { orderId: number } | null) : null;
}

describe.skipIf(!hasRedis())("hello-kubernetes on Redis", () => {
  it("saves the orders in Dapr's Redis layout, and keeps serving through a Redis restart", async () => {
    const redis = await startRedis("hunter2");
    const home2 = tempHome();
    const resources = fs.mkdtempSync(path.join(home2, "res-"));
    // As in the walkthrough: the password comes from a secret store, by secretKeyRef.
    const secrets = path.join(home2, "secrets.json");
    fs.writeFileSync(secrets, JSON.stringify({ "redis-password": "hunter2" }));
    fs.writeFileSync(
      path.join(resources, "redis.yaml"),
      `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: statestore
spec:
  type: state.redis
  version: v1
  metadata:
  - name: redisHost
    value: ${redis.address}
  - name: redisPassword
    secretKeyRef:
      name: redis-password
      key: redis-password
auth:
  secretStore: localsecretstore
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: localsecretstore
spec:
  type: secretstores.local.file
  version: v1
  metadata:
  - name: secretsFile
    value: ${secrets}
`,
    );
    const args = ["--resources-path", resources];
    const n = await startSidecar({ appId: "nodeapp", home: home2, echo: true, args, command: ["node", path.join(ROOT, "test", "apps", "order-node.mjs")] });
    await startSidecar({ appId: "pythonapp", home: home2, args, command: POSTER, env: { ORDER_INTERVAL_MS: "200" } });
    const md = (await (await fetch(`${n.url}/v1.0/metadata`)).json()) as { components: unknown[] };
    expect(md.components).toContainEqual({ name: "statestore", type: "state.redis", version: "v1", capabilities: ["ETAG", "TRANSACTIONAL", "TTL"] });
    const first = await waitFor("orders in Redis", async () => {
      const o = await lastOrder(n);
      return o && o.orderId >= 2 ? o : null;
    });
    const hash = redis.cli("HGETALL", "nodeapp||order").trim().split("\n");
    expect(hash[0]).toBe("data");
    expect(JSON.parse(hash[1]!).orderId).toBeGreaterThanOrEqual(first.orderId);
    expect(hash[2]).toBe("version");
    expect(Number(hash[3])).toBeGreaterThanOrEqual(2);

    // Redis down: saves fail with Dapr's ERR_STATE_SAVE (the app sees a 500), the sidecar stays up.
    await redis.stop();
    const down = await fetch(`${n.url}/v1.0/state/statestore`, { method: "POST", body: JSON.stringify([{ key: "probe", value: 1 }]) });
    expect(down.status).toBe(500);
    expect(((await down.json()) as { errorCode: string }).errorCode).toBe("ERR_STATE_SAVE");
    expect((await fetch(`${n.url}/v1.0/healthz`)).status).toBe(204);
    // Back (empty, no persistence): new orders land again without restarting anything.
    await redis.start();
    await waitFor("orders after the restart", async () => redis.cli("HGET", "nodeapp||order", "data").trim() !== "", 15_000);
    expect((await lastOrder(n))?.orderId).toBeGreaterThan(first.orderId);
  });
});
