// Dapr's state API through a real sidecar on the embedded default store (SQLite in
// $MESHLET_HOME/state.db): statuses, ETags and concurrency, TTL, bulk, transactions, Dapr's
// errors, the metadata API's listing, and data kept across a restart.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import path from "node:path";
import { BUN, killAll, MESHLET, ROOT, spawnProc, startSidecar, tempHome, waitFor, type Sidecar } from "../helpers.ts";

let home: string;
let s: Sidecar;
const url = (p: string) => `${s.url}/v1.0/state/statestore${p}`;
const save = (items: unknown, q = "") => fetch(url(q), { method: "POST", body: JSON.stringify(items), headers: { "content-type": "application/json" } });

beforeAll(async () => {
  home = tempHome();
  s = await startSidecar({ appId: "nodeapp", home, args: ["--max-body-size", "1Mi"] });
});
afterAll(killAll);

async function daprError(r: Response): Promise<{ status: number; errorCode: string; message: string; reason: string | null; details?: unknown }> {
  const b = (await r.json()) as { errorCode: string; message: string; details?: unknown };
  return { status: r.status, reason: r.headers.get("meshlet-reason"), ...b };
}

describe("the state API on the default store", () => {
  it("saves (204), reads back the exact JSON with an ETag (200), and answers a missing key with 204", async () => {
    expect((await save([{ key: "order", value: { orderId: 42, note: "ünï" } }])).status).toBe(204);
    const r = await fetch(url("/order"));
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/json");
    expect(r.headers.get("etag")).toBeTruthy();
    expect(await r.text()).toBe('{"orderId":42,"note":"ünï"}');
    const missing = await fetch(url("/nothing"));
    expect([missing.status, await missing.text()]).toEqual([204, ""]);
    expect((await save([])).status).toBe(204);
  });

  it("applies ETags and concurrency: a stale ETag or a second first-write is 409, If-Match guards deletes", async () => {
    await save([{ key: "stock", value: 1 }]);
    const etag = (await fetch(url("/stock"))).headers.get("etag")!;
    expect((await save([{ key: "stock", value: 2, etag }])).status).toBe(204);
    const stale = await daprError(await save([{ key: "stock", value: 3, etag }]));
    expect([stale.status, stale.errorCode, stale.reason]).toEqual([409, "ERR_STATE_SAVE", "state_save_conflict"]);
    expect(stale.message).toMatch(/^failed saving state in state store statestore: possible etag mismatch/);
    expect((await save([{ key: "fresh", value: "a", options: { concurrency: "first-write" } }])).status).toBe(204);
    expect((await save([{ key: "fresh", value: "b", options: { concurrency: "first-write" } }])).status).toBe(409);
    const del = await daprError(await fetch(url("/stock"), { method: "DELETE", headers: { "if-match": etag } }));
    expect([del.status, del.errorCode]).toEqual([409, "ERR_STATE_DELETE"]);
    const now = (await fetch(url("/stock"))).headers.get("etag")!;
    expect((await fetch(url("/stock"), { method: "DELETE", headers: { "if-match": now } })).status).toBe(204);
    expect((await fetch(url("/stock"))).status).toBe(204);
  });

  it("expires a key saved with metadata.ttlInSeconds", async () => {
    expect((await save([{ key: "session", value: "x", metadata: { ttlInSeconds: "1" } }])).status).toBe(204);
    expect((await fetch(url("/session"))).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1_300));
    expect((await fetch(url("/session"))).status).toBe(204);
  });

  it("bulk-gets in order, a missing key with its key only", async () => {
    await save([
      { key: "b1", value: { n: 1 } },
      { key: "b2", value: "two" },
    ]);
    const r = await fetch(url("/bulk"), { method: "POST", body: JSON.stringify({ keys: ["b2", "nope", "b1"], parallelism: 10 }) });
    expect(r.status).toBe(200);
    const items = (await r.json()) as Array<{ key: string; data?: unknown; etag?: string }>;
    expect(items.map((i) => [i.key, i.data])).toEqual([
      ["b2", "two"],
      ["nope", undefined],
      ["b1", { n: 1 }],
    ]);
    expect(items[0]!.etag).toBeTruthy();
    expect(Object.keys(items[1]!)).toEqual(["key"]);
  });

  it("runs a transaction whole, and one that fails halfway leaves nothing written", async () => {
    const tx = (operations: unknown) => fetch(url("/transaction"), { method: "POST", body: JSON.stringify({ operations, metadata: null }) });
    await save([{ key: "t1", value: "old" }]);
    const ok = await tx([
      { operation: "upsert", request: { key: "t1", value: "new" } },
      { operation: "upsert", request: { key: "t2", value: "two" } },
    ]);
    expect(ok.status).toBe(204);
    const bad = await daprError(
      await tx([
        { operation: "delete", request: { key: "t2" } },
        { operation: "upsert", request: { key: "t1", value: "never", etag: "not-the-etag" } },
      ]),
    );
    expect([bad.status, bad.errorCode]).toEqual([500, "ERR_STATE_TRANSACTION"]);
    expect(await (await fetch(url("/t1"))).text()).toBe('"new"');
    expect(await (await fetch(url("/t2"))).text()).toBe('"two"');
    const unknown = await daprError(await tx([{ operation: "merge", request: { key: "x" } }]));
    expect([unknown.status, unknown.errorCode]).toEqual([400, "ERR_MALFORMED_REQUEST"]);
  });

  it("answers bad input with Dapr's errors: unknown store, illegal key, bad JSON, a missing key, an oversized body", async () => {
    const nostore = await daprError(await fetch(`${s.url}/v1.0/state/nostore/k`));
    expect(nostore).toMatchObject({ status: 400, errorCode: "ERR_STATE_STORE_NOT_FOUND", message: "state store nostore is not found" });
    expect(nostore.details).toEqual([{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", domain: "dapr.io", reason: "DAPR_STATE_NOT_FOUND", metadata: { appID: "nodeapp" } }]);
    const illegal = await daprError(await save([{ key: "a||b", value: 1 }]));
    expect([illegal.status, illegal.errorCode, illegal.message]).toEqual([400, "ERR_MALFORMED_REQUEST", "input key/keyPrefix 'a||b' can't contain '||'"]);
    const badJson = await daprError(await fetch(url(""), { method: "POST", body: "[{" }));
    expect([badJson.status, badJson.errorCode]).toEqual([400, "ERR_MALFORMED_REQUEST"]);
    expect((await daprError(await save([{ value: 1 }]))).status).toBe(400);
    const big = await fetch(url(""), { method: "POST", body: JSON.stringify([{ key: "big", value: "x".repeat(2 * 1024 * 1024) }]) });
    expect([big.status, big.headers.get("meshlet-reason")]).toEqual([413, "body_too_large"]);
  });

  it("lists the default store in the metadata API with its capabilities", async () => {
    const md = (await (await fetch(`${s.url}/v1.0/metadata`)).json()) as { components: unknown[] };
    expect(md.components).toContainEqual({ name: "statestore", type: "state.sqlite", version: "v1", capabilities: ["ETAG", "TRANSACTIONAL", "TTL"] });
  });

  it("keeps the data across a restart, in $MESHLET_HOME/state.db", async () => {
    await save([{ key: "kept", value: { v: 1 } }]);
    s.child.kill("SIGTERM");
    await s.exited;
    s = await startSidecar({ appId: "nodeapp", home });
    expect(await (await fetch(url("/kept"))).text()).toBe('{"v":1}');
  });
});

describe("the default store's file", () => {
  it("is opened on first use, and one that cannot be opened fails the call with the cause, not the sidecar", async () => {
    const h = tempHome();
    const lazy = await startSidecar({ appId: "lazy", home: h });
    expect(fs.existsSync(path.join(h, "state.db"))).toBe(false);
    expect((await fetch(`${lazy.url}/v1.0/state/statestore`, { method: "POST", body: '[{"key":"a","value":1}]' })).status).toBe(204);
    expect(fs.existsSync(path.join(h, "state.db"))).toBe(true);
    const broken = tempHome();
    fs.mkdirSync(path.join(broken, "state.db"));
    const b = await startSidecar({ appId: "blocked", home: broken });
    const r = await fetch(`${b.url}/v1.0/state/statestore`, { method: "POST", body: '[{"key":"a","value":1}]' });
    const e = (await r.json()) as { errorCode: string; message: string };
    expect([r.status, e.errorCode]).toEqual([500, "ERR_STATE_SAVE"]);
    expect(e.message).toMatch(/^failed saving state in state store statestore: cannot open the SQLite state store at .*state\.db: /);
    expect((await fetch(`${b.url}/v1.0/healthz`)).status).toBe(204);
  });
  it("keeps serving while another process holds the file's lock, and saves once it is released", async () => {
    const h = tempHome();
    const w = await startSidecar({ appId: "waiter", home: h });
    const saveTo = (v: number) => fetch(`${w.url}/v1.0/state/statestore`, { method: "POST", body: `[{"key":"a","value":${v}}]` });
    expect((await saveTo(1)).status).toBe(204);
    const holder = spawnProc(BUN, [path.join(ROOT, "test", "apps", "sqlite-lock-holder.ts"), path.join(h, "state.db"), "3000"]);
    await waitFor("the lock", async () => holder.output().includes("locked"));
    const order: string[] = [];
    const saved = saveTo(2).then((r) => (order.push("save"), r.status));
    const health = fetch(`${w.url}/v1.0/healthz`).then((r) => (order.push("healthz"), r.status));
    const read = fetch(`${w.url}/v1.0/state/statestore/a`).then(async (r) => (order.push("get"), r.text()));
    expect(await Promise.all([health, read, saved])).toEqual([204, "1", 204]);
    // The sidecar answered health and a read while the save waited for the lock.
    expect(order.at(-1)).toBe("save");
    expect((await holder.exited).code).toBe(0);
    expect(await (await fetch(`${w.url}/v1.0/state/statestore/a`)).text()).toBe("2");
  });
});

describe("a state component that cannot load", () => {
  it("stops the start with one line naming its file:line, never a stack trace", async () => {
    const dir = tempHome();
    const cases: Array<[string, RegExp]> = [
      ["  - {name: redisPassword, value: x}\n", /r\.yaml:1: component statestore: state\.redis needs the redisHost metadata/],
      ['  - {name: redisHost, value: "127.0.0.1:1"}\n', /r\.yaml:1: component statestore: cannot connect to Redis at 127\.0\.0\.1:1: /],
      ['  - {name: redisHost, value: "redis:port"}\n', /r\.yaml:1: component statestore: redisHost: invalid address "redis:port" \(want host:port or \[ipv6\]:port, or a host alone for port 6379\)$/],
    ];
    for (const [meta, expected] of cases) {
      fs.writeFileSync(path.join(dir, "r.yaml"), `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: statestore}\nspec:\n  type: state.redis\n  version: v1\n  metadata:\n${meta}`);
      const p = spawnProc(MESHLET, ["run", "-a", "broken", "--resources-path", dir], { MESHLET_HOME: tempHome() });
      expect((await p.exited).code).toBe(1);
      const lines = p.output().trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(expected);
    }
  });
});
