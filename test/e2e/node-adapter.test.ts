// The Node data plane (node:http listener + undici pools) passes the same end-to-end smoke test
// as the Bun CLI: two in-process sidecars, two real app processes, real sockets.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Sidecar } from "../../proxy/sidecar.ts";
import { nodeRuntime } from "../../proxy/listen-node.ts";
import { silentLogger } from "../../proxy/log.ts";
import { endpoint } from "../../proxy/types.ts";
import { LocalRegistry } from "../../resolvers/local.ts";
import type { SidecarConfig } from "../../proxy/config.ts";
import { EMPTY_POLICY_SET } from "../../resiliency/policy/types.ts";
import { ECHO_APP, freePort, killAll, spawnProc, waitFor } from "../helpers.ts";
import { runSmoke } from "../smoke.ts";

const sidecars: Sidecar[] = [];
const urls: Record<string, string> = {};

async function startNodeSidecar(appId: string, dir: string): Promise<void> {
  const appPort = await freePort();
  spawnProc("node", [ECHO_APP], { APP_PORT: String(appPort), APP_ID: appId });
  const cfg: SidecarConfig = {
    appId,
    namespace: "default",
    listenAddresses: ["127.0.0.1"],
    httpPort: 0,
    internalHost: "127.0.0.1",
    internalPort: 0,
    app: endpoint("127.0.0.1", appPort),
    appProtocol: "http",
    maxBodySize: 4 * 1024 * 1024,
    tryTimeoutMs: 5000,
    gracefulShutdownMs: 100,
    components: [],
    policies: EMPTY_POLICY_SET,
    resourcesPaths: [],
    metricsPort: null,
    runtimeVersion: "meshlet-test",
  };
  const s = new Sidecar(cfg, nodeRuntime, new LocalRegistry({ dir }), silentLogger);
  const { httpPort } = await s.start();
  sidecars.push(s);
  urls[appId] = `http://127.0.0.1:${httpPort}`;
  await waitFor(`${appId} ready`, async () => (await fetch(`${urls[appId]}/v1.0/healthz`)).status === 204);
}

beforeAll(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-node-"));
  await startNodeSidecar("orders", dir);
  await startNodeSidecar("checkout", dir);
});
afterAll(async () => {
  await Promise.all(sidecars.map((s) => s.stop(true)));
  await killAll();
});

describe("Node adapter", () => {
  it("passes the smoke checks in both directions", async () => {
    await runSmoke(urls.checkout!, "orders", "checkout");
    await runSmoke(urls.orders!, "checkout", "orders");
  });

  it("keeps Content-Length on a streamed response and relays a 20 MB body", async () => {
    const r = await fetch(`${urls.checkout}/v1.0/invoke/orders/method/big?mb=20`);
    expect(r.headers.get("content-length")).toBe(String(20 * 1024 * 1024));
    expect((await r.arrayBuffer()).byteLength).toBe(20 * 1024 * 1024);
  });

  it("answers sidecar errors in Dapr's shape", async () => {
    const r = await fetch(`${urls.checkout}/v1.0/invoke/nobody/method/x`);
    expect(r.status).toBe(500);
    expect(r.headers.get("meshlet-reason")).toBe("app_id_not_found");
  });
});
