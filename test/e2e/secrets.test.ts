// Dapr's secrets API on both local secret stores through a real sidecar, the SDK's secret client,
// and a component whose metadata comes from a secretKeyRef.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import path from "node:path";
import { CommunicationProtocolEnum, DaprClient } from "@dapr/dapr";
import { killAll, startSidecar, tempHome, type Sidecar } from "../helpers.ts";

let s: Sidecar;
let client: DaprClient;
let home: string;

beforeAll(async () => {
  home = tempHome();
  const res = fs.mkdtempSync(path.join(home, "res-"));
  const file = path.join(home, "secrets.json");
  fs.writeFileSync(file, JSON.stringify({ redis: { password: "hunter2" }, apiKey: "k-123" }));
  fs.writeFileSync(
    path.join(res, "secrets.yaml"),
    `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: localfile}
spec:
  type: secretstores.local.file
  version: v1
  metadata:
  - {name: secretsFile, value: ${JSON.stringify(file)}}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: localenv}
spec:
  type: secretstores.local.env
  version: v1
  metadata:
  - {name: prefix, value: "MESHLET_TEST_"}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: orders}
spec:
  type: state.sqlite
  version: v1
  metadata:
  - name: connectionString
    secretKeyRef: {name: "MESHLET_TEST_DBFILE", key: "MESHLET_TEST_DBFILE"}
auth: {secretStore: localenvraw}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: localenvraw}
spec:
  type: secretstores.local.env
  version: v1
`,
  );
  s = await startSidecar({ appId: "vaultuser", home, args: ["--resources-path", res], env: { MESHLET_TEST_GREETING: "hello", MESHLET_TEST_DBFILE: "orders-from-secret.db" } });
  client = new DaprClient({ daprHost: "127.0.0.1", daprPort: String(s.httpPort), communicationProtocol: CommunicationProtocolEnum.HTTP });
  await client.start();
});
afterAll(async () => {
  await client?.stop();
  await killAll();
});

describe("the secrets API", () => {
  it("answers a secret as {key: value} from a JSON file (nested keys joined with ':') and from the environment", async () => {
    const r = await fetch(`${s.url}/v1.0/secrets/localfile/redis:password`);
    expect([r.status, await r.json()]).toEqual([200, { "redis:password": "hunter2" }]);
    expect(await (await fetch(`${s.url}/v1.0/secrets/localenv/GREETING`)).json()).toEqual({ GREETING: "hello" });
    const bulk = await (await fetch(`${s.url}/v1.0/secrets/localfile/bulk`)).json();
    expect(bulk).toEqual({ "redis:password": { "redis:password": "hunter2" }, apiKey: { apiKey: "k-123" } });
  });

  it("answers Dapr's errors for an unknown store and a missing secret", async () => {
    const unknown = await fetch(`${s.url}/v1.0/secrets/vault/x`);
    expect([unknown.status, ((await unknown.json()) as { errorCode: string }).errorCode]).toEqual([401, "ERR_SECRET_STORE_NOT_FOUND"]);
    const missing = await fetch(`${s.url}/v1.0/secrets/localfile/nope`);
    expect([missing.status, ((await missing.json()) as { errorCode: string }).errorCode]).toEqual([500, "ERR_SECRET_GET"]);
  });

  it("serves the SDK's secret client", async () => {
    expect(await client.secret.get("localfile", "apiKey")).toEqual({ apiKey: "k-123" });
    expect(await client.secret.getBulk("localfile")).toMatchObject({ apiKey: { apiKey: "k-123" } });
  });

  it("fills a component's metadata from a secretKeyRef, and lists the components in the metadata API", async () => {
    const saved = await fetch(`${s.url}/v1.0/state/orders`, { method: "POST", body: JSON.stringify([{ key: "a", value: 1 }]) });
    expect(saved.status).toBe(204);
    expect(fs.existsSync(path.join(home, "orders-from-secret.db"))).toBe(true);
    const md = (await (await fetch(`${s.url}/v1.0/metadata`)).json()) as { components: Array<{ name: string; type: string }> };
    expect(md.components.map((c) => `${c.name} ${c.type}`).sort()).toEqual(["localenv secretstores.local.env", "localenvraw secretstores.local.env", "localfile secretstores.local.file", "orders state.sqlite"]);
    // Nothing of a component's settings leaves through the metadata API.
    expect(JSON.stringify(md)).not.toContain("orders-from-secret.db");
  });
});
