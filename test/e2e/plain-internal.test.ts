// Sidecars with mTLS turned off (Configuration spec.mtls.enabled: false): the internal port still
// accepts only sidecars of this host, by the peer secret in $MESHLET_HOME, and a stale address
// that now serves another app-id is caught by the callee's own check (wrong_target).

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import path from "node:path";
import { killAll, runRecord, startSidecar, tempFile, tempHome, type Sidecar, expectOutput } from "../helpers.ts";
import { exchange, type RawResponse } from "../raw-http.ts";

let home: string;
let front: Sidecar;
let echo: Sidecar;

const plain = (extra = "") => `apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: plain}\nspec:\n  mtls:\n    enabled: false\n${extra}`;

beforeAll(async () => {
  home = tempHome();
  echo = await startSidecar({ appId: "echo", home, echo: true, args: ["-c", tempFile("plain.yaml", plain())] });
  const internal = runRecord(home, "echo").internalPort;
  const cfg = tempFile("front.yaml", plain(`  nameResolution:\n    component: static\n    configuration:\n      apps:\n        echo: ["127.0.0.1:${internal}"]\n        ghost: ["127.0.0.1:${internal}"]\n`));
  front = await startSidecar({ appId: "front", home, echo: true, args: ["-c", cfg] });
});
afterAll(killAll);

function daprError(r: RawResponse, status: number, reason: string): void {
  expect({ status: r.status, reason: r.headers["meshlet-reason"] }).toEqual({ status, reason });
  expect(typeof (JSON.parse(r.body) as { message: string }).message).toBe("string");
}

async function deliveries(key: string): Promise<number> {
  const r = await fetch(`${echo.url}/v1.0/invoke/echo/method/count?key=${key}`);
  return ((await r.json()) as { attempts: number }).attempts;
}

describe("the internal port without mTLS", () => {
  const forged = (extra: string, body = "") =>
    `POST /flaky?key=${extra.length}x${Date.now()} HTTP/1.1\r\nhost: x\r\ndapr-callee-app-id: echo\r\ndapr-caller-app-id: front\r\n${extra}content-length: ${body.length}\r\n\r\n${body}`;

  it("says it runs plain, and works between sidecars of this host", async () => {
    await expectOutput(front, "internal_transport=\"plain (spec.mtls.enabled: false)\"");
    const r = await fetch(`${front.url}/v1.0/invoke/echo/method/h`);
    expect(r.status).toBe(200);
    expect(((await r.json()) as { headers: Record<string, string> }).headers["dapr-caller-app-id"]).toBe("front");
  });

  it("refuses a caller without this host's peer secret, before anything reaches the app", async () => {
    const internal = runRecord(home, "echo").internalPort;
    for (const extra of ["", "meshlet-peer-token: wrong\r\n", `meshlet-peer-token: ${"0".repeat(64)}\r\n`]) {
      const x = await exchange(internal, [forged(extra)], { expect: 1 });
      daprError(x.responses[0]!, 403, "peer_unauthenticated");
    }
    const k = `forged${Date.now()}`;
    await exchange(internal, [forged("").replace(/key=[^ ]+/, `key=${k}`)], { expect: 1 });
    expect(await deliveries(k)).toBe(0);
  });

  it("keeps the secret private: mode 0600, never forwarded to an app", async () => {
    const file = path.join(home, "peer-secret");
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const r = await fetch(`${front.url}/v1.0/invoke/echo/method/h`);
    const seen = (await r.json()) as { headers: Record<string, string> };
    expect(Object.keys(seen.headers)).not.toContain("meshlet-peer-token");
    expect(JSON.stringify(seen.headers)).not.toContain(fs.readFileSync(file, "utf8").trim());
  });

  it("a call with the secret still passes the callee's own checks: dot segments and --max-body-size", async () => {
    const internal = runRecord(home, "echo").internalPort;
    const token = `meshlet-peer-token: ${fs.readFileSync(path.join(home, "peer-secret"), "utf8").trim()}\r\n`;
    const climb = await exchange(internal, [`GET /../../x HTTP/1.1\r\nhost: x\r\ndapr-callee-app-id: echo\r\n${token}\r\n`], { expect: 1 });
    daprError(climb.responses[0]!, 500, "invalid_method");
    const big = "x".repeat(5 * 1024 * 1024);
    const x = await exchange(internal, [forged(token, big)], { expect: 1, timeoutMs: 10_000 });
    daprError(x.responses[0]!, 413, "body_too_large");
  });

  it("a stale address that serves another app-id is refused by the callee: wrong_target", async () => {
    const r = await fetch(`${front.url}/v1.0/invoke/ghost/method/x`);
    expect([r.status, r.headers.get("meshlet-reason")]).toEqual([500, "wrong_target"]);
  });
});
