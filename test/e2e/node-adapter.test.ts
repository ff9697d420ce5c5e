// The Node data plane (node:http listener + undici pools) passes the same end-to-end smoke test
// as the Bun CLI: two in-process sidecars, two real app processes, real sockets.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Sidecar } from "../../proxy/sidecar.ts";
import { nodeRuntime } from "../../runtime/listen-node.ts";
import { silentLogger } from "../../core/log.ts";
import { endpoint } from "../../core/call.ts";
import { LocalRegistry } from "../../resolvers/local.ts";
import type { SidecarConfig } from "../../proxy/config.ts";
import { EMPTY_POLICY_SET } from "../../resiliency/policy/types.ts";
import { ECHO_APP, freePort, killAll, spawnProc, waitFor } from "../helpers.ts";
import { runSmoke } from "../smoke.ts";
import { exchange } from "../raw-http.ts";
import { startMtls } from "../../security/setup.ts";
import type { InternalTransport } from "../../transport/transport.ts";

const sidecars: Sidecar[] = [];
const urls: Record<string, string> = {};

const stops: (() => void)[] = [];

/** In-process mTLS for a Node sidecar: the local CA in `home` (made on first use), node:tls both ways. */
async function nodeMtls(appId: string, home: string): Promise<InternalTransport> {
  const m = await startMtls({
    id: { trustDomain: "public", namespace: "default", appId },
    ttlMs: 3_600_000,
    skewMs: 60_000,
    sentryAddress: null,
    certDir: null,
    controlPlaneTrustDomain: "cluster.local",
    home,
    env: {},
    log: silentLogger,
  });
  stops.push(() => m.stop());
  return m.transport;
}

async function startNodeSidecar(appId: string, dir: string, transport?: InternalTransport): Promise<void> {
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
    maxHeaderBytes: 16 * 1024,
    tryTimeoutMs: 5000,
    gracefulShutdownMs: 100,
    components: [],
    policies: EMPTY_POLICY_SET,
    resourcesPaths: [],
    metricsPort: null,
    runtimeVersion: "meshlet-test",
  };
  const s = new Sidecar(cfg, nodeRuntime, new LocalRegistry({ dir }), silentLogger, transport);
  const { httpPort } = await s.start();
  sidecars.push(s);
  urls[appId] = `http://127.0.0.1:${httpPort}`;
  await waitFor(`${appId} ready`, async () => (await fetch(`${urls[appId]}/v1.0/healthz`)).status === 204);
}

beforeAll(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-node-"));
  await startNodeSidecar("orders", dir);
  await startNodeSidecar("checkout", dir);
  // A second pair with mTLS between them, on Node's own TLS in both directions.
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-node-tls-"));
  const tlsDir = path.join(home, "registry");
  await startNodeSidecar("payments", tlsDir, await nodeMtls("payments", home));
  await startNodeSidecar("shipping", tlsDir, await nodeMtls("shipping", home));
});
afterAll(async () => {
  await Promise.all(sidecars.map((s) => s.stop(true)));
  for (const stop of stops) stop();
  await killAll();
});

describe("Node adapter", () => {
  it("passes the smoke checks in both directions", async () => {
    await runSmoke(urls.checkout!, "orders", "checkout");
    await runSmoke(urls.orders!, "checkout", "orders");
  });

  it("passes them with mTLS between the sidecars too (node:tls listener and dialer)", async () => {
    await runSmoke(urls.shipping!, "payments", "shipping");
    await runSmoke(urls.payments!, "shipping", "payments");
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

  it("routes the request-target as sent: a dot segment cannot leave the method part", async () => {
    const port = Number(new URL(urls.checkout!).port);
    for (const target of ["/v1.0/invoke/orders/method/../../../../v1.0/shutdown", "/v1.0/invoke/orders/method/.%2e/%2E./v1.0/shutdown"]) {
      const x = await exchange(port, [`POST ${target} HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n`], { expect: 1 });
      expect(x.responses[0]?.headers["meshlet-reason"]).toBe("invalid_method");
    }
    expect((await fetch(`${urls.checkout}/v1.0/healthz`)).status).toBe(204);
  });

  it("answers an oversized head and an unknown method in Dapr's shape", async () => {
    const port = Number(new URL(urls.checkout!).port);
    const big = await exchange(port, [`GET /v1.0/healthz HTTP/1.1\r\nhost: x\r\nx-big: ${"a".repeat(20_000)}\r\n\r\n`], { expect: 1 });
    expect([big.responses[0]?.status, big.responses[0]?.headers["meshlet-reason"]]).toEqual([431, "headers_too_large"]);
    const foo = await exchange(port, [`FOO / HTTP/1.1\r\nhost: x\r\n\r\n`], { expect: 1 });
    expect(foo.responses[0]?.status).toBeGreaterThanOrEqual(400);
    expect(foo.responses[0]?.headers["meshlet-reason"]).toBeDefined();
  });

  it("refuses a WebSocket handshake in one clear answer: this adapter cannot tunnel", async () => {
    const port = Number(new URL(urls.checkout!).port);
    const handshake = "connection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    const x = await exchange(port, [`GET /v1.0/invoke/orders/method/ws HTTP/1.1\r\nhost: x\r\n${handshake}\r\n`], { expect: 1 });
    expect([x.responses[0]?.status, x.responses[0]?.headers["meshlet-reason"]]).toEqual([501, "upgrade_unsupported"]);
    expect(x.responses[0]?.body).toContain("needs the Bun runtime");
  });
});
