// Components as a running sidecar keeps them: a changed file is swapped in without a restart
// (unchanged stores keep their data; a change that fails, or a store that cannot connect, leaves
// the set in force), Resiliency `targets.components` policies on a real Redis (a retry that
// rides out a restart, a timeout on a stalled server, a breaker that opens), and enableTLS.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { freePort, killAll, startSidecar, tempHome, waitFor, type Sidecar, expectOutput } from "../helpers.ts";
import { hasRedis, startRedis, type Redis } from "../redis.ts";

afterAll(killAll);

const component = (name: string, type: string, meta: Record<string, string> = {}) =>
  `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: ${name}}
spec:
  type: ${type}
  version: v1
  metadata: ${JSON.stringify(Object.entries(meta).map(([name, value]) => ({ name, value })))}
`;

const save = (s: Sidecar, store: string, key: string, value: unknown) =>
  fetch(`${s.url}/v1.0/state/${store}`, { method: "POST", body: JSON.stringify([{ key, value }]) });
const read = async (s: Sidecar, store: string, key: string) => {
  const r = await fetch(`${s.url}/v1.0/state/${store}/${key}`);
  return { status: r.status, body: await r.text(), reason: r.headers.get("meshlet-reason") };
};
const listed = async (s: Sidecar) => ((await (await fetch(`${s.url}/v1.0/metadata`)).json()) as { components: Array<{ name: string; type: string }> }).components.map((c) => `${c.name}:${c.type}`).sort();

describe("components reloaded from their files", () => {
  let s: Sidecar;
  let res: string;
  beforeAll(async () => {
    const home = tempHome();
    res = fs.mkdtempSync(path.join(home, "res-"));
    fs.writeFileSync(path.join(res, "cache.yaml"), component("cache", "state.in-memory"));
    s = await startSidecar({ appId: "shop", home, args: ["--resources-path", res] });
  });

  it("adds a new store, keeps an unchanged one open with its data, and drops a removed one", async () => {
    expect((await save(s, "cache", "k", "kept")).status).toBe(204);
    fs.writeFileSync(path.join(res, "orders.yaml"), component("orders", "state.sqlite", { connectionString: "orders.db" }));
    await waitFor("orders to appear", async () => (await listed(s)).includes("orders:state.sqlite"));
    expect(await read(s, "cache", "k")).toMatchObject({ status: 200, body: '"kept"' });
    expect((await save(s, "orders", "o1", { n: 1 })).status).toBe(204);
    fs.rmSync(path.join(res, "orders.yaml"));
    await waitFor("orders to go", async () => !(await listed(s)).includes("orders:state.sqlite"));
    expect(await read(s, "orders", "o1")).toMatchObject({ status: 400, reason: "state_store_not_found" });
    await expectOutput(s, /components reloaded/);
  });

  it("keeps the components in force when a change is broken or a new store cannot connect", async () => {
    const reloads = () => (s.output().match(/components not reloaded/g) ?? []).length;
    const before = reloads();
    fs.writeFileSync(path.join(res, "broken.yaml"), "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {}\nspec: {}\n");
    await waitFor("the broken change to be refused", async () => reloads() > before);
    await expectOutput(s, /components not reloaded: the components in force stay.*broken\.yaml:1: a Component needs metadata\.name and spec\.type/);
    fs.rmSync(path.join(res, "broken.yaml"));
    // The cache becomes a Redis nobody listens on: it must not be swapped in.
    const dead = await freePort();
    fs.writeFileSync(path.join(res, "cache.yaml"), component("cache", "state.redis", { redisHost: `127.0.0.1:${dead}` }));
    await waitFor("the unreachable store to be refused", async () => /components not reloaded.*cannot connect to Redis/.test(s.output()));
    expect(await listed(s)).toContain("cache:state.in-memory");
    expect(await read(s, "cache", "k")).toMatchObject({ status: 200, body: '"kept"' });
  });
});

describe.skipIf(!hasRedis())("Resiliency targets.components on a real Redis", () => {
  let redis: Redis;
  let s: Sidecar;
  let metricsPort: number;
  beforeAll(async () => {
    redis = await startRedis();
    const home = tempHome();
    const res = fs.mkdtempSync(path.join(home, "res-"));
    fs.writeFileSync(path.join(res, "statestore.yaml"), component("statestore", "state.redis", { redisHost: redis.address }));
    fs.writeFileSync(
      path.join(res, "resiliency.yaml"),
      `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: {name: stores}
spec:
  policies:
    timeouts:
      quick: 400ms
    retries:
      patient: {policy: constant, duration: 200ms, maxRetries: 40}
    circuitBreakers:
      storeCB: {maxRequests: 1, timeout: 2s, trip: consecutiveFailures >= 15}
  targets:
    components:
      statestore:
        outbound: {timeout: quick, retry: patient, circuitBreaker: storeCB}
`,
    );
    metricsPort = await freePort();
    s = await startSidecar({ appId: "nodeapp", home, args: ["--resources-path", res, "--metrics-port", String(metricsPort)] });
  });

  it("retries a save while Redis restarts: the caller gets 204, the retries are counted", async () => {
    expect((await save(s, "statestore", "order", 1)).status).toBe(204);
    await redis.stop();
    const pending = save(s, "statestore", "order", 2);
    await new Promise((r) => setTimeout(r, 700));
    await redis.start();
    expect((await pending).status).toBe(204);
    expect(redis.cli("HGET", "nodeapp||order", "data").trim()).toBe("2");
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/dapr_resiliency_activations_total\{[^}]*policy="retry"[^}]*target="component_statestore"[^}]*\} [1-9]/);
  });

  it("times out each attempt on a stalled Redis, and the retries ride out the stall", async () => {
    // DEBUG SLEEP stalls the whole server: every attempt meets the 400 ms timeout.
    const sleeping = spawn("redis-cli", ["-p", String(redis.port), "DEBUG", "SLEEP", "1.5"], { stdio: "ignore" });
    await new Promise((r) => setTimeout(r, 200));
    const t0 = performance.now();
    const r = await fetch(`${s.url}/v1.0/state/statestore/order`);
    const took = performance.now() - t0;
    await new Promise((done) => (sleeping.exitCode !== null ? done(null) : sleeping.once("exit", done)));
    // The timeout cut each stalled attempt short; a retry after the stall got the answer.
    expect(r.status).toBe(200);
    expect(took).toBeGreaterThan(900);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/dapr_resiliency_activations_total\{[^}]*policy="timeout"[^}]*target="component_statestore"[^}]*\} [1-9]/);
  });

  it("opens the breaker after its trip count while Redis is down: then fails fast with Dapr's error", async () => {
    await redis.stop();
    const r = await fetch(`${s.url}/v1.0/state/statestore/order`);
    const body = (await r.json()) as { errorCode: string; message: string };
    expect([r.status, body.errorCode, r.headers.get("meshlet-reason")]).toEqual([500, "ERR_STATE_GET", "state_get"]);
    expect(body.message).toMatch(/circuit breaker is open/);
    // Failing fast: no retry of the open breaker's refusal (each would wait a 200 ms backoff).
    const retries = async () => {
      const m = /dapr_resiliency_activations_total\{[^}]*policy="retry"[^}]*target="component_statestore"[^}]*\} (\d+)/.exec(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text());
      return Number(m?.[1] ?? 0);
    };
    const before = await retries();
    const fast = await fetch(`${s.url}/v1.0/state/statestore/order`);
    expect(fast.status).toBe(500);
    expect(await retries()).toBe(before);
    await redis.start();
    // After the breaker's 2 s timeout, a trial call closes it again.
    await waitFor("the breaker to close", async () => (await fetch(`${s.url}/v1.0/state/statestore/order`)).status === 204, 10_000);
  });
});

describe.skipIf(!hasRedis())("state.redis with enableTLS through the sidecar", () => {
  it("verifies Redis against caCert and saves there; without the CA the component does not load", async () => {
    const redis = await startRedis("pw", { tls: true });
    const home = tempHome();
    const res = fs.mkdtempSync(path.join(home, "res-"));
    const meta = { redisHost: redis.address, redisPassword: "pw", enableTLS: "true", caCert: redis.caPem! };
    fs.writeFileSync(path.join(res, "statestore.yaml"), component("statestore", "state.redis", meta));
    const s = await startSidecar({ appId: "nodeapp", home, args: ["--resources-path", res] });
    expect((await save(s, "statestore", "order", { orderId: 5 })).status).toBe(204);
    expect(redis.cli("HGET", "nodeapp||order", "data").trim()).toBe('{"orderId":5}');

    const res2 = fs.mkdtempSync(path.join(home, "res-"));
    const { caCert: _omit, ...noCa } = meta;
    fs.writeFileSync(path.join(res2, "statestore.yaml"), component("statestore", "state.redis", noCa));
    await expect(startSidecar({ appId: "other", home, args: ["--resources-path", res2] })).rejects.toThrow(/statestore\.yaml:\d+: component statestore: cannot connect to Redis at .*(certificate|issuer)/i);
  });
});
