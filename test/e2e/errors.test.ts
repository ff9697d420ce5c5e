// Every error the sidecar makes, over real sockets: Dapr's JSON shape and status, plus the
// stable reason in `meshlet-reason`. None of these may hang.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { freePort, killAll, MESHLET, rawRequest, runRecord, spawnProc, startSidecar, tempFile, tempHome, waitFor, type Sidecar, expectOutput } from "../helpers.ts";

let home: string;
let orders: Sidecar;
let caller: Sidecar;

async function expectError(res: Response | Promise<Response>, status: number, reason: string, errorCode = "ERR_DIRECT_INVOKE") {
  const r = await res;
  const body = (await r.json()) as { errorCode: string; message: string };
  expect({ status: r.status, reason: r.headers.get("meshlet-reason"), errorCode: body.errorCode }).toEqual({ status, reason, errorCode });
  expect(r.headers.get("content-type")).toBe("application/json");
  expect(typeof body.message).toBe("string");
  return body.message;
}

beforeAll(async () => {
  home = tempHome();
  orders = await startSidecar({ appId: "orders", home, echo: true, args: ["--app-timeout", "400ms"] });
  const ordersInternal = runRecord(home, "orders").internalPort;
  const closed = await freePort();
  const config = tempFile(
    "config.yaml",
    `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: { name: static }
spec:
  nameResolution:
    component: static
    configuration:
      apps:
        orders: ["127.0.0.1:${ordersInternal}"]
        ghost: ["127.0.0.1:${ordersInternal}"]
        dead: ["127.0.0.1:${closed}"]
`,
  );
  caller = await startSidecar({ appId: "caller", home, args: ["-c", config, "--max-body-size", "1Ki", "--app-timeout", "300ms"] });
});
afterAll(killAll);

describe("sidecar-made errors", () => {
  it("no app id: 404", async () => {
    const m = await expectError(fetch(`${caller.url}/v1.0/invoke/`), 404, "no_app_id");
    expect(m).toBe("failed getting app id either from the URL path or the header dapr-app-id");
  });

  it("invalid app id (two dots): 500", async () => {
    await expectError(fetch(`${caller.url}/v1.0/invoke/a.b.c/method/x`), 500, "invalid_app_id");
  });

  it("path climbing above the root: invalid method", async () => {
    // fetch would resolve the dots itself; node:http sends the path as written.
    for (const p of ["/v1.0/invoke/orders/method/x%00y", "/v1.0/invoke/orders/method/a%0Ab"]) {
      const r = await rawRequest(`${caller.url}${p}`);
      expect([r.status, r.headers["meshlet-reason"]]).toEqual([500, "invalid_method"]);
      expect(JSON.parse(r.body).message).toContain("invalid method");
    }
    // Dot segments (literal or %2e) are resolved by the HTTP server before routing, so they
    // cannot climb out of /method/ to reach the app.
    for (const p of ["/v1.0/invoke/orders/method/a/../../etc", "/v1.0/invoke/orders/method/%2e%2e/%2E%2E/etc"]) {
      const r = await rawRequest(`${caller.url}${p}`);
      expect([r.status, r.headers["meshlet-reason"]]).toEqual([404, "no_app_id"]);
    }
  });

  it("unknown app-id names the resolver", async () => {
    const m = await expectError(fetch(`${caller.url}/v1.0/invoke/nobody/method/x`), 500, "app_id_not_found");
    expect(m).toBe("failed to invoke, id: nobody, err: couldn't find service: nobody (resolver: static; not in the static map)");
  });

  it("peer sidecar not listening: peer_unreachable", async () => {
    const m = await expectError(fetch(`${caller.url}/v1.0/invoke/dead/method/x`), 500, "peer_unreachable");
    expect(m).toContain("connection refused");
  });

  it("a peer that proves another app-id (a stale address, an impostor): peer_identity_mismatch, nothing delivered", async () => {
    const m = await expectError(fetch(`${caller.url}/v1.0/invoke/ghost/method/x`), 500, "peer_identity_mismatch");
    expect(m).toContain("is not ghost.default: its certificate names spiffe://public/ns/default/orders");
  });

  it("app slower than the callee's timeout: app_timeout from the callee", async () => {
    const r = await fetch(`${orders.url}/v1.0/invoke/orders/method/slow?ms=3000`);
    const m = await expectError(r, 500, "app_timeout");
    expect(m).toContain("context deadline exceeded");
  });

  it("peer slower than the caller's timeout: app_timeout from the caller", async () => {
    await expectError(fetch(`${caller.url}/v1.0/invoke/orders/method/slow?ms=3000`), 500, "app_timeout");
  });

  it("app that drops the connection: app_unreachable, through two sidecars", async () => {
    await expectError(fetch(`${caller.url}/v1.0/invoke/orders/method/reset`), 500, "app_unreachable");
  });

  it("request body over --max-body-size: 413, with Content-Length and chunked", async () => {
    await expectError(fetch(`${caller.url}/v1.0/invoke/orders/method/up`, { method: "POST", body: "x".repeat(2048) }), 413, "body_too_large", "ERR_BODY_TOO_LARGE");
    const chunked = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 4; i++) c.enqueue(new Uint8Array(600).fill(120));
        c.close();
      },
    });
    await expectError(
      fetch(`${caller.url}/v1.0/invoke/orders/method/up`, { method: "POST", body: chunked, duplex: "half" } as RequestInit),
      413,
      "body_too_large",
      "ERR_BODY_TOO_LARGE",
    );
    const fits = await fetch(`${caller.url}/v1.0/invoke/orders/method/up`, { method: "POST", body: "x".repeat(1024) });
    expect(fits.status).toBe(200);
    expect(((await fits.json()) as { size: number }).size).toBe(1024);
  });

  it("self-invocation without an app port: app_not_configured", async () => {
    await expectError(fetch(`${caller.url}/v1.0/invoke/caller/method/x`), 500, "app_not_configured");
  });

  it("unknown API route: 404, wrong verb: 405, bad healthz app id", async () => {
    await expectError(fetch(`${caller.url}/v1.0/nothing`), 404, "route_not_found", "ERR_NOT_FOUND");
    await expectError(fetch(`${caller.url}/v1.0/metadata`, { method: "DELETE" }), 405, "method_not_allowed", "ERR_METHOD_NOT_ALLOWED");
    await expectError(fetch(`${caller.url}/v1.0/healthz?appid=other`), 500, "health_appid_mismatch", "ERR_HEALTH_APPID_NOT_MATCH");
    await expectError(fetch(`${caller.url}/v1.0/metadata/%E0%A4%A`, { method: "PUT", body: "x" }), 400, "malformed_request", "ERR_MALFORMED_REQUEST");
  });
});

describe("an app that never comes up", () => {
  it("is not ready (healthz says so) and self-calls say app_unreachable", async () => {
    const port = await freePort();
    const lonely = await startSidecar({ appId: "lonely", home, echo: port, command: ["sleep", "60"], waitReady: false });
    await expectError(fetch(`${lonely.url}/v1.0/healthz`), 500, "health_not_ready", "ERR_HEALTH_NOT_READY");
    await expectError(fetch(`${lonely.url}/v1.0/invoke/lonely/method/x`), 500, "app_unreachable");
  });
});

describe("DAPR_API_TOKEN", () => {
  it("requires the token on the API except health, as plain-text 401", async () => {
    const s = await startSidecar({ appId: "guarded", home, echo: true, env: { DAPR_API_TOKEN: "s3cret" } });
    const denied = await fetch(`${s.url}/v1.0/invoke/guarded/method/x`);
    expect(denied.status).toBe(401);
    expect(await denied.text()).toBe("invalid api token\n");
    expect((await fetch(`${s.url}/v1.0/metadata`)).status).toBe(401);
    expect((await fetch(`${s.url}/v1.0/healthz`)).status).toBe(204);
    const ok = await fetch(`${s.url}/v1.0/invoke/guarded/method/x`, { headers: { "dapr-api-token": "s3cret" } });
    expect(ok.status).toBe(200);
    const e = (await ok.json()) as { headers: Record<string, string> };
    expect(e.headers["dapr-api-token"]).toBeUndefined();
  });
});

describe("no error path hangs", () => {
  it("answers an unknown app-id at once, without retrying resolution", async () => {
    const t0 = Date.now();
    const r = await fetch(`${orders.url}/v1.0/invoke/typo-app/method/x`);
    expect(r.headers.get("meshlet-reason")).toBe("app_id_not_found");
    expect(Date.now() - t0).toBeLessThan(900);
  });
});

describe("a sidecar whose app does not listen", () => {
  it("is app_unreachable with the reason, not 'couldn't find service'; doctor says the same; it serves once the app listens", async () => {
    const h = tempHome();
    const appPort = await freePort();
    const lonely = await startSidecar({ appId: "lonely", home: h, args: ["-p", String(appPort)], waitReady: false });
    const other = await startSidecar({ appId: "asker", home: h });
    const call = () => fetch(`${other.url}/v1.0/invoke/lonely/method/hi`);
    // The registry entry is written before the first call: the answer is the reason at once
    // (after Dapr's built-in retries for calls that reached no app, 3 x 1 s).
    await waitFor("lonely's registry entry", async () => fs.readdirSync(path.join(h, "registry")).some((f) => f.includes("lonely")));
    const message = await expectError(call(), 500, "app_unreachable");
    expect(message).toBe(`failed to invoke, id: lonely, err: the sidecar of lonely is running but not ready: its app on 127.0.0.1:${appPort} refuses connections (not started yet, or not listening on that port)`);
    const doctor = spawnProc(MESHLET, ["doctor", "-a", "lonely"], { MESHLET_HOME: h });
    expect((await doctor.exited).code).toBe(1);
    await expectOutput(doctor, `the sidecar of lonely runs (pid ${lonely.pid}) but its app does not answer on port ${appPort}`);
    expect(doctor.output()).not.toContain("start it with `meshlet run -a lonely`");
    // The app starts: the same entry turns ready and calls go through.
    const server = http.createServer((_q, s) => s.end("here")).listen(appPort, "127.0.0.1");
    try {
      const ok = await waitFor("the app to be found", async () => {
        const r = await call();
        return r.status === 200 ? r.text() : null;
      });
      expect(ok).toBe("here");
    } finally {
      server.close();
    }
  });
});
